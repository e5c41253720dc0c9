"""Sign-in, sign-out, language choice and the permission checks every endpoint uses."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from carewatch.errors import DomainError
from facility_app.accounts.models import User
from facility_app.accounts.permissions import Actor, Perm
from facility_app.accounts.service import actor_for, authenticate
from facility_app.facility.models import Facility
from facility_app.facility.service import get_facility

from .extensions import SAFE_METHODS, db, login_manager

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    """Wire Flask-Login to the database."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.unauthorized_handler
    def unauthorized():  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(
                error={"code": "not_authenticated", "message": _("Please sign in first.")}
            ), 401
        return redirect(url_for("auth.login", next=request.full_path))


def wants_json() -> bool:
    """Whether the caller is the JSON API rather than a browser page."""
    return request.path.startswith("/api/")


def now():  # type: ignore[no-untyped-def]
    """The current instant from the app's injected clock."""
    return current_app.config["CLOCK"].now()


def current_actor() -> Actor:
    """The signed-in user as an actor with their class scope, cached per request."""
    if "_actor" not in g:
        g._actor = actor_for(db.session, current_user._get_current_object())
    return g._actor


def facility() -> Facility:
    """The facility, cached per request."""
    if "_facility" not in g:
        g._facility = get_facility(db.session)
    return g._facility


def require(perm: Perm) -> Callable[[F], F]:
    """Require a signed-in user whose role grants ``perm``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_actor().can(perm):
                if wants_json():
                    return jsonify(
                        error={"code": "forbidden", "message": _("Your role does not allow this.")}
                    ), 403
                abort(403)
            if request.method not in SAFE_METHODS:
                with contextlib.suppress(DomainError):
                    facility()  # read before the write lock, like the user and the actor
                db.begin_writes()
            return view(*args, **kwargs)

        wrapped.required_permission = perm  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


class LoginForm(FlaskForm):
    """User name and password."""

    username = StringField("username", validators=[DataRequired(), Length(max=60)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login():  # type: ignore[no-untyped-def]
    """Sign in."""
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = sign_in(form.username.data or "", form.password.data or "")
        except DomainError as err:
            flash(_(err.message, **err.params), "error")
            return render_template("auth/login.html", form=form), err.status
        if user is None:
            flash(_("Wrong user name or password."), "error")
            status = 401
        else:
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def sign_in(username: str, password: str) -> User | None:
    """Check a sign-in, record the attempt and start a fresh session (page and API alike)."""
    # Raises DomainError (too_many_attempts) while sign-in is throttled.
    db.begin_writes()
    try:
        user = authenticate(
            db.session,
            username,
            password,
            now=now(),
            remote_addr=request.remote_addr or "",
            policy=_login_policy(),
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    if user is not None:
        lang = session.get("lang")
        session.clear()
        if lang:
            # The language chosen on the sign-in page outlives the fresh session.
            session["lang"] = lang
        # The CSRF token cached for this request belonged to the session just cleared.
        g.pop("csrf_token", None)
        login_user(user)
        session.permanent = True
    return user


def sign_out() -> None:
    """End the signed-in session (page and API alike)."""
    logout_user()
    session.clear()
    g.pop("csrf_token", None)


def _login_policy():  # type: ignore[no-untyped-def]
    try:
        return facility().policy().login
    except DomainError:
        from carewatch.policy import DEFAULT_POLICY

        return DEFAULT_POLICY.login


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    """Sign out."""
    sign_out()
    return redirect(url_for("auth.login"))


@bp.post("/language/<lang>")
def language(lang: str):  # type: ignore[no-untyped-def]
    """Switch the interface language for this browser session."""
    from . import LANGUAGES

    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next") or referrer_path()))


def referrer_path() -> str | None:
    """The path of the page the request came from, if it was this site."""
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
