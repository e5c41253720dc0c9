"""The regulator's read-only web view and JSON feed of the hub database.

It has no sign-in of its own and binds 127.0.0.1 by default: in production it runs behind
the regulator's sign-in (reverse) proxy, which decides who may read it. Every endpoint is
a GET; nothing here changes the database. The pages are in Chinese, written directly in
the templates.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, jsonify, render_template
from sqlalchemy.orm import Session, sessionmaker

from carewatch.clock import Clock, SystemClock
from carewatch.db import make_engine, make_session_factory, transaction
from supervision_hub import service

log = logging.getLogger(__name__)

OVERALL_LABELS = {"pass": "合规", "warn": "预警", "fail": "不合规", "unknown": "未知"}
KIND_LABELS = {
    "compliance": "合规快照",
    "alerts": "告警",
    "daily": "日报",
    "settlement": "补贴结算",
    "state": "在线状态",
}
REJECTION_LABELS = {
    "malformed": "格式错误",
    "oversized": "超过大小上限",
    "bad_schema": "版本不支持",
    "unsigned": "未签名",
    "bad_signature": "签名无效",
    "bad_topic": "主题错误",
    "unknown_facility": "未登记机构",
    "facility_mismatch": "机构与主题不符",
    "replayed": "序号重放",
    "stale_state": "过期状态",
}


def create_hub_app(
    database_url: str | None = None,
    *,
    factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    timezone: str = "Asia/Shanghai",
    history_limit: int = 100,
) -> Flask:
    """The hub's Flask app over a database URL (or an existing session factory)."""
    app = Flask(__name__)
    if factory is None:
        if database_url is None:
            raise ValueError("create_hub_app needs a database URL or a session factory")
        factory = make_session_factory(make_engine(database_url))
    sessions: sessionmaker[Session] = factory
    now_of = (clock or SystemClock()).now
    zone = ZoneInfo(timezone)

    @app.template_filter("local")
    def _local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    @app.template_filter("localiso")
    def _localiso(text: str | None) -> str:
        return _local(datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None)

    @app.template_filter("ago")
    def _ago(moment: datetime | None) -> str:
        if moment is None:
            return ""
        seconds = max(0, int((now_of() - moment).total_seconds()))
        if seconds < 120:
            return f"{seconds} 秒前"
        if seconds < 7200:
            return f"{seconds // 60} 分钟前"
        if seconds < 2 * 86400:
            return f"{seconds // 3600} 小时前"
        return f"{seconds // 86400} 天前"

    app.jinja_env.globals.update(
        OVERALL_LABELS=OVERALL_LABELS, KIND_LABELS=KIND_LABELS, REJECTION_LABELS=REJECTION_LABELS
    )

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.get("/healthz")
    def healthz() -> Any:
        return {"ok": True}

    @app.get("/")
    def index() -> str:
        with transaction(sessions, write=False) as session:
            rows = service.overview(session)
            totals = service.totals(rows, session)
            rejections = service.recent_rejections(session, limit=20)
        return render_template(
            "hub/index.html", rows=rows, totals=totals, rejections=rejections, now=now_of()
        )

    @app.get("/facilities/<code>")
    def facility(code: str) -> str:
        with transaction(sessions, write=False) as session:
            row = service.facility_row(session, code)
            if row is None:
                abort(404)
            history = service.history(session, code, limit=history_limit)
        return render_template("hub/facility.html", row=row, history=history, now=now_of())

    @app.get("/api/v1/facilities")
    def api_facilities() -> Any:
        with transaction(sessions, write=False) as session:
            rows = service.overview(session)
            totals = service.totals(rows, session)
        return jsonify(
            generated_at=_iso(now_of()),
            totals=totals,
            facilities=[r.as_json() for r in rows],
        )

    @app.get("/api/v1/facilities/<code>")
    def api_facility(code: str) -> Any:
        with transaction(sessions, write=False) as session:
            row = service.facility_row(session, code)
            if row is None:
                return jsonify(error="not_found", message=f"no facility {code!r}"), 404
            history = service.history(session, code, limit=history_limit)
        return jsonify(generated_at=_iso(now_of()), facility=row.as_json(), **history)

    @app.get("/api/v1/rejections")
    def api_rejections() -> Any:
        with transaction(sessions, write=False) as session:
            items = service.recent_rejections(session, limit=history_limit)
            data = [
                {
                    "at": _iso(x.at),
                    "topic": x.topic,
                    "facility": x.facility,
                    "code": x.code,
                    "detail": x.detail,
                    "size": x.size,
                    "sha256": x.sha256,
                }
                for x in items
            ]
        return jsonify(generated_at=_iso(now_of()), rejections=data)

    @app.errorhandler(404)
    def not_found(_exc: Any) -> Any:
        return render_template("hub/not_found.html"), 404

    return app


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
