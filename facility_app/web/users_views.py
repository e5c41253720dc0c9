"""Accounts: the administrator manages users; everyone can change their own password."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from carewatch.errors import DomainError
from facility_app.accounts import service as accounts
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import Perm
from facility_app.audit import service as audit
from facility_app.staff.service import list_staff

from .auth import current_actor, facility, now, require
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("users", __name__, url_prefix="/users")


def _form_values() -> dict:
    staff_raw = request.form.get("staff_id", "").strip()
    return {
        "username": request.form.get("username", "")[:200],
        "display_name": request.form.get("display_name", "")[:200],
        "role": request.form.get("role", ""),
        "staff_id": int(staff_raw) if staff_raw.isdigit() else None,
        "active": request.form.get("active") == "on",
        "password": request.form.get("password", "")[:200],
    }


def _render_form(user: User | None, values: dict, error: DomainError | None = None):  # type: ignore[no-untyped-def]
    message = _(error.message, **error.params) if error else None
    page = render_template(
        "users/form.html",
        user=user,
        values=values,
        error=message,
        error_field=error.field if error else None,
        roles=list(Role),
        staff=list_staff(db.session, facility()),
    )
    return page, (error.status if error else 200)


@bp.get("/")
@require(Perm.USERS_MANAGE)
def index():  # type: ignore[no-untyped-def]
    """All accounts with their role and status."""
    return render_template("users/index.html", users=accounts.list_users(db.session))


@bp.route("/new", methods=["GET", "POST"])
@require(Perm.USERS_MANAGE)
def new():  # type: ignore[no-untyped-def]
    """Create an account."""
    if request.method == "GET":
        return _render_form(None, {"active": True, "role": Role.CAREGIVER.value})
    values = _form_values()
    try:
        user = accounts.create_user(
            db.session,
            username=values["username"],
            password=values["password"],
            role=values["role"],
            display_name=values["display_name"],
            staff_id=values["staff_id"],
        )
        audit.record(
            db.session,
            at=now(),
            user_id=current_actor().user_id,
            action="create",
            entity="user",
            entity_id=user.id,
            after=audit.snapshot(user),
        )
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_form(None, values, err)
    flash(_("Account %(name)s created.", name=user.username), "success")
    return redirect(url_for("users.index"), code=303)


@bp.route("/<int:user_id>", methods=["GET", "POST"])
@require(Perm.USERS_MANAGE)
def edit(user_id: int):  # type: ignore[no-untyped-def]
    """Change an account's role, name, staff link, status or password."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if request.method == "GET":
        values = {
            "username": user.username,
            "display_name": user.display_name,
            "role": user.role.value,
            "staff_id": user.staff_id,
            "active": user.active,
        }
        return _render_form(user, values)
    values = _form_values()
    try:
        accounts.update_user(
            db.session,
            current_actor(),
            user.id,
            now=now(),
            role=values["role"],
            display_name=values["display_name"],
            active=values["active"],
            staff_id=values["staff_id"],
            new_password=values["password"] or None,
        )
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_form(user, values, err)
    flash(_("Account %(name)s saved.", name=user.username), "success")
    return redirect(url_for("users.index"), code=303)


@bp.route("/me/password", methods=["GET", "POST"])
@require(Perm.ACCOUNT_SELF)
def password():  # type: ignore[no-untyped-def]
    """Change one's own password."""
    if request.method == "POST":
        try:
            accounts.change_own_password(
                db.session,
                current_user._get_current_object(),
                now=now(),
                current=request.form.get("current", "")[:200],
                new=request.form.get("new", "")[:200],
            )
            db.session.commit()
        except DomainError as err:
            db.session.rollback()
            return render_template(
                "users/password.html", error=_(err.message, **err.params)
            ), err.status
        flash(_("Your password has been changed."), "success")
        return redirect(url_for("dashboard.home"), code=303)
    return render_template("users/password.html", error=None)
