"""The Flask application factory and its wiring."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, session
from werkzeug.routing import IntegerConverter

from carewatch import __version__
from carewatch.clock import SystemClock
from carewatch.config import get_settings

from .extensions import babel, csrf, db, login_manager

log = logging.getLogger(__name__)

LANGUAGES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The language chosen in this browser session, else Chinese."""
    lang = session.get("lang")
    if lang in LANGUAGES:
        return lang
    return "zh_CN"


class RecordIdConverter(IntegerConverter):
    """``<int:…>`` limited to the range of database ids."""

    def __init__(self, map, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the web app; ``test_config`` overrides settings for tests."""
    app = Flask(__name__)
    settings = get_settings()
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=None,
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=1024 * 1024,
        BABEL_DEFAULT_LOCALE="zh_CN",
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        CLOCK=SystemClock(),
    )
    app.config.update(test_config or {})
    # Resolved only when not given, so tests never create files in the data folder.
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = settings.resolved_secret_key()
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = settings.resolved_database_url()

    # Ids beyond a 32-bit integer cannot exist; answer 404 before the database sees them.
    app.url_map.converters["int"] = RecordIdConverter
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    db.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)

    from . import (
        alerts_views,
        api,
        attendance_views,
        audit_views,
        auth,
        care_views,
        cctv_views,
        classes_views,
        credentials_views,
        dashboard,
        errors,
        facility_views,
        finance_views,
        health_record,
        health_views,
        hygiene_views,
        kitchen_views,
        people_views,
        users_views,
    )

    auth.init_app(app)
    errors.init_app(app)
    for module in (
        auth,
        dashboard,
        attendance_views,
        care_views,
        health_views,
        health_record,
        kitchen_views,
        hygiene_views,
        classes_views,
        people_views,
        credentials_views,
        alerts_views,
        audit_views,
        cctv_views,
        facility_views,
        finance_views,
        users_views,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(kitchen_views.public_bp)
    api.init_app(app)

    from .templating import init_app as init_templating

    init_templating(app)

    @app.after_request
    def _security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.get("/healthz")
    def healthz():  # type: ignore[no-untyped-def]
        """A trivial endpoint: liveness, and the benchmark's baseline."""
        return {"status": "ok", "version": __version__}

    return app
