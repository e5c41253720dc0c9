"""Auditing reads of children's health data from the web app and the API."""

from __future__ import annotations

import logging

from flask import current_app

from carewatch.db import transaction
from facility_app.health.access import record_read

from .auth import current_actor, now

log = logging.getLogger(__name__)


def audit_health_read(child_id: int | None, section: str, **detail: object) -> None:
    """Write and commit the audit entry of one read of health data, before showing it."""
    factory = current_app.extensions["carewatch_db"].factory
    with transaction(factory) as session:
        record_read(
            session, current_actor(), now(), child_id=child_id, section=section, detail=detail
        )
