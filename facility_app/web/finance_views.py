"""Fees and subsidy claims: the month's claim, settling it, exports, drill-down, forecast."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.facility.service import today
from facility_app.fees import service as fees
from facility_app.settlement import exports, views
from facility_app.settlement import service as settlement
from facility_app.settlement.months import month_of, parse_month, previous_month

from .api.finance import show_names
from .auth import current_actor, facility, now, require
from .extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("finance", __name__, url_prefix="/finance")


def _month(default: str) -> str:
    raw = (request.values.get("month") or "").strip()[:7]
    month = raw or default
    parse_month(month)
    return month


def _last_ended() -> str:
    return previous_month(today(facility(), now()))


@bp.get("/")
@require(Perm.FINANCE_VIEW)
def claim():  # type: ignore[no-untyped-def]
    """A month's claim: per child, per class and for the facility; settle it once ended."""
    month = _month(_last_ended())
    found = settlement.claim(db.session, current_actor(), facility(), month, now=now())
    ended = found.last < today(facility(), now())
    return render_template(
        "finance/claim.html",
        claim=found,
        month=month,
        ended=ended,
        names=show_names(),
        formats=exports.FORMATS,
    )


@bp.post("/settle")
@require(Perm.FINANCE_WRITE)
def settle():  # type: ignore[no-untyped-def]
    """Lock the month as a snapshot."""
    month = _month("")
    done = settlement.settle_month(db.session, current_actor(), facility(), month, now=now())
    db.session.commit()
    log.info("month %s settled by user=%s", month, current_actor().user_id)
    flash(_("%(month)s settled: %(total)s yuan.", month=month, total=done.total), "success")
    return redirect(url_for("finance.claim", month=month), code=303)


@bp.get("/export")
@require(Perm.FINANCE_VIEW)
def export():  # type: ignore[no-untyped-def]
    """The claim as CSV, XLSX or a printable page."""
    month = _month(_last_ended())
    fmt = request.args.get("format", "csv")
    if fmt not in exports.FORMATS:
        raise DomainError("invalid_format", "Choose CSV, XLSX or HTML.", field="format")
    found = settlement.claim(db.session, current_actor(), facility(), month, now=now())
    body = exports.export(found, fmt, names=show_names())
    response = Response(body, mimetype=exports.MEDIA_TYPES[fmt])
    if fmt != "html":
        name = exports.filename(found, fmt)
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/child/<int:child_id>")
@require(Perm.FINANCE_VIEW)
def child(child_id: int):  # type: ignore[no-untyped-def]
    """The attendance rows behind one child's amount."""
    month = _month(_last_ended())
    found = views.drill_down(db.session, current_actor(), facility(), child_id, month, now=now())
    return render_template("finance/child.html", d=found, names=show_names())


@bp.get("/forecast")
@require(Perm.FINANCE_VIEW)
def forecast():  # type: ignore[no-untyped-def]
    """The current month's claim so far and its projection."""
    month = _month(month_of(today(facility(), now())))
    fc = views.forecast(db.session, current_actor(), facility(), month, now=now())
    return render_template("finance/forecast.html", fc=fc, names=show_names())


@bp.get("/fees")
@require(Perm.FINANCE_VIEW)
def fee_schedule():  # type: ignore[no-untyped-def]
    """The fee schedule with the cap of every fee."""
    rows = fees.schedule(db.session, current_actor(), facility())
    policy = facility().policy().fees
    return render_template("finance/fees.html", rows=rows, fac=facility(), fees=policy)


@bp.post("/fees")
@require(Perm.FINANCE_WRITE)
def set_fee():  # type: ignore[no-untyped-def]
    """Set one fee; over its cap it is refused with the figures."""
    form = request.form
    try:
        months = int(form.get("billing_months") or 1)
    except ValueError:
        months = 0
    fees.set_fee(
        db.session,
        current_actor(),
        facility(),
        now=now(),
        class_type=form.get("class_type", ""),
        care_type=form.get("care_type", ""),
        amount=form.get("amount", ""),
        billing_months=months,
    )
    db.session.commit()
    flash(_("Fee saved."), "success")
    return redirect(url_for("finance.fee_schedule"), code=303)
