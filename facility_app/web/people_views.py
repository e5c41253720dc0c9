"""The people area: children (with enrolments and guardians) and staff.

The routes live in ``children_views``, ``enrolment_views`` and ``staff_views``; importing
them here attaches them to this blueprint.
"""

from __future__ import annotations

import logging

from flask import Blueprint

log = logging.getLogger(__name__)

bp = Blueprint("people", __name__, url_prefix="/people")

from . import children_views, enrolment_views, staff_views  # noqa: E402, F401
