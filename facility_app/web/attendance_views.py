"""Placeholder pages of the attendance area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__, url_prefix="/attendance")


@bp.get("/")
def door():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""


@bp.get("/duty")
def duty():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""
