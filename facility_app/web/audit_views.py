"""Placeholder pages of the audit area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""
