"""The growth part of a child's health record: measurements with WHO z-scores, two charts
(weight-for-age, length/height-for-age) drawn as inline SVG, and the form to add one.
"""

from __future__ import annotations

import logging
import math
from datetime import date
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Actor, Perm
from facility_app.children.models import Child
from facility_app.children.service import get_child
from facility_app.health import growth as growth_service
from facility_app.health.growth import GrowthRow
from health_records import growth
from health_records.growth_models import MeasuredPosition

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import error_message, required_date
from .health_record import bp, render_record, section

log = logging.getLogger(__name__)

INDICATOR_LABELS = {
    "wfa": _l("Weight-for-age"),
    "lhfa": _l("Length/height-for-age"),
    "wfl": _l("Weight-for-length"),
    "wfh": _l("Weight-for-height"),
}
CLASS_LABELS = {
    "normal": _l("Normal"),
    "underweight": _l("Underweight"),
    "severely_underweight": _l("Severely underweight"),
    "stunted": _l("Stunted"),
    "severely_stunted": _l("Severely stunted"),
    "wasted": _l("Wasted"),
    "severely_wasted": _l("Severely wasted"),
    "overweight": _l("Overweight"),
    "obese": _l("Obese"),
    "flagged": _l("Implausible value: measure again"),
}
#: Badge of each classification: severe findings and WHO flags stand out most.
CLASS_BADGES = {
    "normal": "badge-ok",
    "underweight": "badge-warn",
    "stunted": "badge-warn",
    "wasted": "badge-warn",
    "overweight": "badge-warn",
    "severely_underweight": "badge-bad",
    "severely_stunted": "badge-bad",
    "severely_wasted": "badge-bad",
    "obese": "badge-bad",
    "flagged": "badge-bad",
}
POSITION_LABELS = {
    MeasuredPosition.LYING.value: _l("Lying (length)"),
    MeasuredPosition.STANDING.value: _l("Standing (height)"),
}

#: The SD lines drawn, with the colours of WHO's charts (median green, ±2 red, ±3 black).
SD_LINES = ((3, "#222222"), (2, "#c62828"), (0, "#2e7d32"), (-2, "#c62828"), (-3, "#222222"))
WIDTH, HEIGHT = 640, 380
LEFT, RIGHT, TOP, BOTTOM = 48, 40, 14, 40


def _ticks(lo: float, hi: float, step: float) -> list[float]:
    n = round((hi - lo) / step)
    return [lo + i * step for i in range(n + 1)]


def chart(
    indicator: growth.Indicator, sex: str, points: list[tuple[float, float, str]], months: int
) -> dict[str, Any]:
    """Geometry of one chart: the SD curves for the sex, the child's points, the axes.

    ``points`` are (age in months, value, tooltip); the template turns this into SVG.
    """
    span = months
    if points:  # an older child's points widen the chart, up to WHO's five years
        span = max(span, min(60, math.ceil(max(p[0] for p in points) / 6) * 6))
    days = growth.curve_days(span)
    curves = {
        z: growth.reference_curve(indicator, sex, z, days)  # type: ignore[arg-type]
        for z, _colour in SD_LINES
    }
    values = [v for c in curves.values() for _d, v in c] + [p[1] for p in points]
    step = 2.0 if indicator is growth.Indicator.WFA else 10.0
    lo = math.floor(min(values) / step) * step
    hi = math.ceil(max(values) / step) * step
    if indicator is growth.Indicator.WFA:
        lo = 0.0  # weight charts start at zero, as WHO's do
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(m: float) -> float:
        return round(LEFT + m / span * pw, 1)

    def sy(v: float) -> float:
        return round(TOP + (hi - v) / (hi - lo) * ph, 1)

    lines = []
    for z, colour in SD_LINES:
        pts = [(sx(d / growth.DAYS_PER_MONTH), sy(v)) for d, v in curves[z]]
        label = "0" if z == 0 else f"{z:+d}".replace("-", "−")
        lines.append(
            {
                "z": z,
                "label": label,
                "colour": colour,
                "points": " ".join(f"{x},{y}" for x, y in pts),
                "end": pts[-1],
                "width": 2 if z == 0 else 1.5,
            }
        )
    x_step = 3 if span <= 36 else 6
    return {
        "indicator": indicator.value,
        "width": WIDTH,
        "height": HEIGHT,
        "box": (LEFT, TOP, pw, ph),
        "lines": lines,
        "xticks": [(sx(m), str(m)) for m in range(0, span + 1, x_step)],
        "yticks": [(sy(v), f"{v:g}") for v in _ticks(lo, hi, step)],
        "dots": [{"x": sx(m), "y": sy(v), "title": tip} for m, v, tip in points],
        "path": " ".join(f"{sx(m)},{sy(v)}" for m, v, _tip in points),
        "span": span,
    }


def _fmt_z(z: float | None) -> str:
    return "—" if z is None else f"{z:+.2f}".replace("-", "−")


def charts(child: Child, rows: list[GrowthRow], months: int) -> list[dict[str, Any]]:
    """The weight-for-age and length/height-for-age charts of a child."""
    weights, lengths = [], []
    for r in rows:
        m, day = r.measurement, r.measurement.measured_on.isoformat()
        if m.weight_kg is not None and r.z.waz is not None:
            tip = f"{day} · {m.weight_kg} kg · z {_fmt_z(r.z.waz)}"
            weights.append((r.z.age_months, float(m.weight_kg), tip))
        if r.z.length_used_cm is not None and r.z.lhaz is not None:
            tip = f"{day} · {m.length_cm} cm · z {_fmt_z(r.z.lhaz)}"
            lengths.append((r.z.age_months, r.z.length_used_cm, tip))
    sex = child.sex.value
    return [
        {
            **chart(growth.Indicator.WFA, sex, weights, months),
            "title": _("Weight-for-age of %(child)s (kg)", child=child.name),
            "unit": "kg",
        },
        {
            **chart(growth.Indicator.LHFA, sex, lengths, months),
            "title": _("Length/height-for-age of %(child)s (cm)", child=child.name),
            "unit": "cm",
        },
    ]


@section("growth", _l("Growth"), "health/_child_growth.html", order=40)
def _growth(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    fac = facility()
    rows = growth_service.measurements(session, fac, child)
    return {
        "rows": list(reversed(rows)),
        "charts": charts(child, rows, fac.policy().growth.chart_months),
        "indicators": INDICATOR_LABELS,
        "classes": CLASS_LABELS,
        "badges": CLASS_BADGES,
        "positions": POSITION_LABELS,
        "fmt_z": _fmt_z,
        "can_write": actor.can(Perm.HEALTH_WRITE),
        "today": day,
        "sex": child.sex.value,
    }


def _refused(child: Child, err: DomainError) -> tuple[str, int]:
    """The record page again, the growth form holding the input and the message (4xx)."""
    db.session.rollback()
    log.info("growth measurement refused: %s (field %s)", err.code, err.field)
    # The page shows the record again, so the read is audited (render_record does, before
    # the request's session touches the database again).
    page = render_record(
        child, growth_form={"input": request.form, "error": err, "text": error_message(err)}
    )
    return page, err.status if 400 <= err.status < 500 else 422


@bp.post("/<int:child_id>/growth")
@require(Perm.HEALTH_WRITE)
def record_growth(child_id: int):  # type: ignore[no-untyped-def]
    """Record a child's weight and length or height, then show the record again."""
    actor, fac = current_actor(), facility()
    child = get_child(db.session, actor, child_id)
    form = request.form
    try:
        row = growth_service.record_measurement(
            db.session,
            actor,
            fac,
            child,
            now=now(),
            measured_on=required_date(form, "measured_on"),
            weight_kg=form.get("weight_kg"),
            length_cm=form.get("length_cm"),
            position=form.get("position") or None,
            measured_by=form.get("measured_by", ""),
            note=form.get("note", ""),
        )
        db.session.commit()
    except DomainError as err:
        return _refused(child, err)
    if row.flagged:
        names = "、".join(str(INDICATOR_LABELS[_indicator_key(row, k)]) for k in row.flagged)
        flash(
            _(
                "Saved, but %(indicators)s is outside what WHO considers plausible: "
                "check the figures and measure %(child)s again.",
                indicators=names,
                child=child.name,
            ),
            "error",
        )
    else:
        flash(_("Measurement saved for %(child)s.", child=child.name), "success")
    return redirect(url_for("health_record.record", child_id=child.id) + "#section-growth", 303)


def _indicator_key(row: GrowthRow, key: str) -> str:
    return row.z.weight_for.value if key == "wflh" else key
