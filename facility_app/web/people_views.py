"""Placeholder pages of the people area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("people", __name__, url_prefix="/people")


@bp.get("/children")
def children():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""


@bp.get("/children/<int:child_id>")
def child_detail(child_id: int):  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""


@bp.get("/staff")
def staff():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""
