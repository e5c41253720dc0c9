"""Placeholder pages of the classes area (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("classes", __name__, url_prefix="/classes")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""


@bp.get("/<int:class_id>")
def detail(class_id: int):  # type: ignore[no-untyped-def]
    """Placeholder."""
    return ""
