"""Signing in and out through the API, with the same session cookie as the web app."""

from __future__ import annotations

import logging
from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..auth import current_actor, sign_in, sign_out
from .registry import operation
from .responses import SessionOut, UserOut
from .schemas import In, text

log = logging.getLogger(__name__)


class SignIn(In):
    """User name and password."""

    username: text(60, 1)  # type: ignore[valid-type]
    password: text(200, 1)  # type: ignore[valid-type]


def _session_out() -> SessionOut:
    if not current_user.is_authenticated:
        return SessionOut(authenticated=False, user=None, role=None, csrf_token=generate_csrf())
    user = current_user._get_current_object()
    actor = current_actor()
    out = UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        staff_id=user.staff_id,
        class_ids=sorted(actor.class_ids),
    )
    return SessionOut(authenticated=True, user=out, role=user.role, csrf_token=generate_csrf())


@operation(
    "GET",
    "/session",
    summary="Who is signed in (and a CSRF token)",
    tag="session",
    perm=None,
    response=SessionOut,
)
def get_session() -> SessionOut:
    """Public: tells an anonymous caller it is not signed in and hands out a CSRF token."""
    return _session_out()


@operation(
    "POST",
    "/session",
    summary="Sign in",
    tag="session",
    perm=None,
    body=SignIn,
    response=SessionOut,
)
def create_session(body: SignIn) -> Any:
    """Public: checks the password (throttled like the login page) and sets the session cookie."""
    user = sign_in(body.username, body.password)
    if user is None:
        return jsonify(
            error={"code": "invalid_credentials", "message": _("Wrong user name or password.")}
        ), 401
    log.info("api sign-in by user %s", user.id)
    return _session_out()


@operation("DELETE", "/session", summary="Sign out", tag="session", perm=None, status=204)
def delete_session() -> None:
    """Public: ends the session, if any."""
    if current_user.is_authenticated:
        sign_out()
