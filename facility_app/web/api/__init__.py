"""The JSON API under ``/api/v1``, described by the OpenAPI document it serves.

Areas live in small modules; importing them registers their operations on the blueprint.
"""

from __future__ import annotations

import logging

from flask import Flask

from . import (  # noqa: F401  (importing registers the operations)
    attendance,
    care,
    cctv,
    children,
    docs,
    facility,
    finance,
    growth,
    kitchen,
    oversight,
    session,
    staff,
)
from .registry import OPERATIONS, bp

log = logging.getLogger(__name__)

__all__ = ["OPERATIONS", "bp", "init_app"]


def init_app(app: Flask) -> None:
    """Register the API blueprint."""
    app.register_blueprint(bp)
