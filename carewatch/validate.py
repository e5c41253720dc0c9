"""Checks of free-text input shared by every service, with the same codes and messages."""

from __future__ import annotations

from carewatch.errors import DomainError


def text(value: str | None, *, field: str, limit: int, required: bool = False) -> str:
    """The stripped text; refuse it when required and empty, or longer than ``limit``."""
    value = (value or "").strip()
    if required and not value:
        raise DomainError("required", "This field is required.", field=field)
    if len(value) > limit:
        raise DomainError("too_long", "At most %(n)s characters are allowed.", field=field, n=limit)
    return value
