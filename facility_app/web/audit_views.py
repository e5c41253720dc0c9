"""The audit log page: newest first, filtered by entity and id, one page at a time."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from facility_app.accounts.permissions import Perm
from facility_app.audit.models import AuditEntry
from facility_app.audit.service import entity_names, entries
from facility_app.health.access import hides_details

from . import audit_labels
from .auth import current_actor, facility, require
from .extensions import db
from .lookups import user_names

log = logging.getLogger(__name__)

bp = Blueprint("audit", __name__, url_prefix="/audit")

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditRow:
    """One entry as the page shows it."""

    entry: AuditEntry
    who: str
    changes: list[audit_labels.Change]
    hidden: bool = False


@bp.get("/")
@require(Perm.AUDIT_VIEW)
def index():  # type: ignore[no-untyped-def]
    """Who changed what and when, newest first, optionally for one entity."""
    class_names = {r.id: r.name for r in facility().classes}
    entity = (request.args.get("entity") or "").strip()[:40]
    raw_id = (request.args.get("entity_id") or "").strip()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    error, entity_id = None, None
    if raw_id:
        try:
            entity_id = int(raw_id)
        except ValueError:
            error = _("Enter a whole number.")
    found = entries(
        db.session,
        entity=entity or None,
        entity_id=entity_id,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    users = user_names(db.session, {e.user_id for e in found if e.user_id is not None})
    actor = current_actor()
    rows = [
        AuditRow(
            e,
            users.get(e.user_id, "") if e.user_id is not None else _("System"),
            [] if hidden else audit_labels.changes(e.before, e.after, class_names),
            hidden,
        )
        for e in found[:PAGE_SIZE]
        for hidden in (hides_details(actor, e.entity),)
    ]
    page_html = render_template(
        "audit/index.html",
        rows=rows,
        entity=entity,
        entity_id=raw_id,
        error=error,
        page=page,
        has_next=len(found) > PAGE_SIZE,
        entity_choices=[
            (name, audit_labels.name_of(audit_labels.ENTITIES, name))
            for name in entity_names(db.session)
        ],
        labels=audit_labels,
    )
    return page_html, 400 if error else 200
