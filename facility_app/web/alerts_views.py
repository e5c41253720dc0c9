"""Placeholder pages of the alerts area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("alerts", __name__, url_prefix="/alerts")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""
