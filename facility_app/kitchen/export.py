"""The monthly kitchen and hygiene workbook (XLSX): menu and samples, intake, disinfection."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from facility_app.accounts.models import User
from facility_app.facility.models import ClassRoom, Facility
from facility_app.hygiene.service import logs_between
from facility_app.kitchen.models import MealIntake
from facility_app.kitchen.service import keep_until, menu

log = logging.getLogger(__name__)


def month_workbook(
    session: Session,
    facility: Facility,
    first: date,
    last: date,
    label: Callable[[object], str],
) -> bytes:
    """The workbook's bytes; ``label`` translates enum values for the reader."""
    zone = ZoneInfo(facility.timezone)
    users = {u.id: u.display_name for u in session.scalars(select(User))}
    rooms = {r.id: r.name for r in session.scalars(select(ClassRoom))}

    def local(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if at else ""

    wb = Workbook()
    ws = wb.active
    ws.title = "menu-samples"
    ws.append(["date", "meal", "dish", "allergens", "served", "sample g", "fridge",
               "sample in", "by", "keep until", "discarded", "by"])  # fmt: skip
    for item in menu(session, first, last):
        s = item.sample
        ws.append([
            item.day.isoformat(), label(item.meal), item.dish.name,
            "、".join(label(c) for c in item.dish.allergen_codes), local(item.served_at),
            s.weight_g if s else None, s.fridge if s else "", local(s.stored_at) if s else "",
            users.get(s.stored_by_id, "") if s else "",
            local(keep_until(facility, s)) if s else "", local(s.discarded_at) if s else "",
            users.get(s.discarded_by_id, "") if s and s.discarded_by_id else "",
        ])  # fmt: skip

    ws2 = wb.create_sheet("intake")
    ws2.append(["date", "class", "meal", "none", "some", "most", "all"])
    counts: Counter[tuple[date, int, str, str]] = Counter()
    for row in session.scalars(select(MealIntake).where(MealIntake.day.between(first, last))):
        counts[(row.day, row.class_id, row.meal.value, row.eaten.value)] += 1
    keys = sorted({(d, c, m) for d, c, m, _e in counts})
    for d, c, m in keys:
        ws2.append([d.isoformat(), rooms.get(c, ""), label(m)]
                   + [counts[(d, c, m, e)] for e in ("none", "some", "most", "all")])  # fmt: skip

    ws3 = wb.create_sheet("disinfection")
    ws3.append(["date", "time", "area", "object", "method", "minutes", "mg/L", "within limits",
                "by", "note"])  # fmt: skip
    for entry in logs_between(session, first, last):
        t = entry.task
        ws3.append([
            entry.day.isoformat(), local(entry.done_at)[11:], t.area, label(t.target),
            label(t.method), entry.duration_minutes, entry.concentration_mg_l,
            "yes" if entry.within_limits else "NO", users.get(entry.recorded_by_id, ""),
            entry.note,
        ])  # fmt: skip
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
