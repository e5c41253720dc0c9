"""Turning errors into a clear page for people and a machine-readable body for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from carewatch.errors import Conflict, DomainError

from .auth import referrer_path, wants_json
from .extensions import db

log = logging.getLogger(__name__)


def error_body(err: DomainError) -> dict[str, Any]:
    """The API's error object: a stable code, a translated message, the field and figures."""
    body: dict[str, Any] = {"code": err.code, "message": _(err.message, **err.params)}
    if err.field:
        body["field"] = err.field
    if err.params:
        body["params"] = err.params
    return {"error": body}


def handle_domain_error(err: DomainError) -> Any:
    """Roll back, run any follow-up the refusal needs, then answer."""
    db.session.rollback()
    follow_up = getattr(err, "follow_up", None)
    if follow_up is not None:
        extra = db.fresh_session()
        try:
            follow_up(extra)
            extra.commit()
        except Exception:  # the refusal must still be answered
            log.exception("follow-up of %s failed", err.code)
            extra.rollback()
        finally:
            extra.close()
    if wants_json():
        return jsonify(error_body(err)), err.status
    flash(_(err.message, **err.params), "error")
    return redirect(referrer_path() or url_for("dashboard.home"), code=303)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(DomainError, handle_domain_error)

    @app.errorhandler(IntegrityError)
    def integrity_error(err: IntegrityError):  # type: ignore[no-untyped-def]
        # Two people changed the same record at once; the checks passed for both, the
        # database's constraint stopped the second. Nothing of it was written.
        log.info("write refused by a database constraint: %s", err.orig)
        return handle_domain_error(
            Conflict(
                "concurrent_change",
                "Someone else changed this record at the same time. Reload and try again.",
            )
        )

    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):  # type: ignore[no-untyped-def]
        if wants_json():
            return jsonify(
                error={"code": "csrf_failed", "message": _("The form has expired; reload it.")}
            ), 400
        flash(_("The form has expired; please try again."), "error")
        return redirect(referrer_path() or url_for("dashboard.home"), code=303)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):  # type: ignore[no-untyped-def]
        messages = {
            400: _("The request could not be understood."),
            403: _("Your role does not allow this."),
            404: _("This page does not exist."),
            405: _("This action is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many requests; wait a moment."),
        }
        message = messages.get(err.code or 500, err.description or "")
        if wants_json():
            code = (err.name or "error").lower().replace(" ", "_")
            return jsonify(error={"code": code, "message": message}), err.code
        return render_template("error.html", code=err.code, message=message), err.code
