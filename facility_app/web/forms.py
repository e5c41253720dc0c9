"""Reading submitted form fields into typed values, and re-showing a refused form.

Every parser raises a DomainError naming the field, so that bad input and refusals by the
services reach the person through one path: the form shown again with their input, the
message, the offending field marked, and a 4xx status.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any, TypeVar

from flask import abort, render_template, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError, NotFound

from .extensions import db

log = logging.getLogger(__name__)

_TRUE = {"1", "on", "true", "yes", "y"}
T = TypeVar("T")


def text(form: Mapping[str, str], name: str, *, max_len: int | None = None) -> str:
    """A stripped text field; longer than ``max_len`` is refused rather than cut."""
    value = (form.get(name) or "").strip()
    if max_len is not None and len(value) > max_len:
        raise DomainError(
            "too_long", "At most %(n)s characters are allowed.", field=name, n=max_len
        )
    return value


_PHONE = re.compile(r"[0-9+\-() ]*")


def phone(form: Mapping[str, str], name: str) -> str:
    """A phone number: digits, spaces, +, - and brackets, at most 30 characters."""
    value = text(form, name, max_len=30)
    if not _PHONE.fullmatch(value):
        raise DomainError(
            "invalid_phone", "Use only digits, spaces, +, - and brackets.", field=name
        )
    return value


def optional_date(form: Mapping[str, str], name: str) -> date | None:
    """A date typed as YYYY-MM-DD (slashes and dots accepted), or None when empty."""
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return datetime.strptime(raw.replace("/", "-").replace(".", "-"), "%Y-%m-%d").date()
    except ValueError:
        raise DomainError("invalid_date", "Enter a real date as YYYY-MM-DD.", field=name) from None


def required_date(form: Mapping[str, str], name: str) -> date:
    """A date that must be given."""
    value = optional_date(form, name)
    if value is None:
        raise DomainError("required", "This field is required.", field=name)
    return value


def time_of_day(form: Mapping[str, str], name: str) -> time:
    """A time of day typed as HH:MM."""
    raw = (form.get(name) or "").strip()
    if not raw:
        raise DomainError("required", "This field is required.", field=name)
    try:
        return datetime.strptime(raw[:5], "%H:%M").time()
    except ValueError:
        raise DomainError("invalid_time", "Enter a time as HH:MM.", field=name) from None


def integer(form: Mapping[str, str], name: str) -> int:
    """A whole number that must be given."""
    raw = (form.get(name) or "").strip()
    if not raw:
        raise DomainError("required", "This field is required.", field=name)
    try:
        return int(raw)
    except ValueError:
        raise DomainError("invalid_number", "Enter a whole number.", field=name) from None


def checkbox(form: Mapping[str, str], name: str) -> bool:
    """Whether a checkbox was ticked."""
    return (form.get(name) or "").strip().lower() in _TRUE


def id_list(form: MultiDict[str, str], name: str) -> list[int]:
    """Ticked ids of a group of checkboxes."""
    try:
        return sorted({int(v) for v in form.getlist(name) if v.strip()})
    except ValueError:
        raise DomainError("invalid_choice", "Choose one of the options.", field=name) from None


def error_message(err: DomainError) -> str:
    """A domain error's message in the current language, with its figures filled in."""
    return _(err.message, **err.params)


def show_form(template: str, *, values: MultiDict[str, str], **context: Any) -> str:
    """Render a form page with the given field values and no error."""
    return render_template(template, values=values, error=None, **context)


def refuse_form(template: str, err: DomainError, **context: Any) -> tuple[str, int]:
    """Undo the request's changes and show the form again with the input and the message."""
    db.session.rollback()
    log.info("form %s refused: %s (field %s)", template, err.code, err.field)
    page = render_template(
        template,
        values=request.form,
        error=err,
        error_text=error_message(err),
        **context,
    )
    status = err.status if 400 <= err.status < 500 else 422
    return page, status


def or_404(lookup: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a service lookup and turn its NotFound into a plain 404 page."""
    try:
        return lookup(*args, **kwargs)
    except NotFound:
        abort(404)
