"""A class's stored breach history over a date range: rows for the page and the CSV export."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from facility_app.facility.models import ClassRoom
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.ratio.service import breaches

from .forms import optional_date

log = logging.getLogger(__name__)

DEFAULT_DAYS = 30

# The export is a document for the inspector, so its headings are fixed Chinese text
# whatever language the screen is in (class, date, kind, start, end, minutes, most
# children present, fewest caregivers on duty, caregivers required, class size limit).
CSV_HEADERS = (
    "班级",
    "日期",
    "类型",
    "开始时间",
    "结束时间",
    "持续时长（分钟）",
    "最多在园幼儿数",
    "最少在岗保育人员数",
    "应在岗保育人员数",
    "班额上限",
)
CSV_KINDS = {BreachKind.RATIO: "师幼比不达标", BreachKind.CAPACITY: "班额超标"}
CSV_ONGOING = "进行中"


@dataclass(frozen=True)
class HistoryRange:
    """The first and last day of a breach history, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many calendar days the range spans."""
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class BreachRow:
    """One stored breach with its duration (up to now while it lasts)."""

    breach: ClassBreach
    minutes: int

    @property
    def ongoing(self) -> bool:
        """Still going on."""
        return self.breach.ended_at is None


def default_range(today: date) -> HistoryRange:
    """The last 30 days, today included."""
    return HistoryRange(today - timedelta(days=DEFAULT_DAYS - 1), today)


def parse_range(args: Mapping[str, str], today: date) -> HistoryRange:
    """The range asked for in the query string; by default the 30 days up to today."""
    end = optional_date(args, "end") or today
    start = optional_date(args, "start") or default_range(end).start
    if start > end:
        raise DomainError("start_after_end", "The start date is after the end date.", field="start")
    return HistoryRange(start, end)


def history(
    session: Session, room: ClassRoom, period: HistoryRange, now: datetime
) -> list[BreachRow]:
    """The class's stored breaches in the range, newest first, with durations in minutes."""
    rows = []
    for b in breaches(session, [room.id], period.start, period.end):
        end = b.ended_at or max(now, b.started_at)
        rows.append(BreachRow(b, int((end - b.started_at).total_seconds() // 60)))
    return rows


def _cell(value: str) -> str:
    # A leading =, +, - or @ would make Excel read the cell as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def to_csv(room: ClassRoom, rows: list[BreachRow], tz: str) -> str:
    """The history as CSV text that Excel opens as UTF-8 (with a byte-order mark)."""
    zone = ZoneInfo(tz)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADERS)
    for row in rows:
        b = row.breach
        ended = b.ended_at.astimezone(zone).strftime("%H:%M") if b.ended_at else CSV_ONGOING
        is_ratio = b.kind == BreachKind.RATIO
        writer.writerow(
            [
                _cell(room.name),
                b.day.isoformat(),
                CSV_KINDS[b.kind],
                b.started_at.astimezone(zone).strftime("%H:%M"),
                ended,
                row.minutes,
                b.peak_children,
                b.min_caregivers,
                b.limit if is_ratio else "",
                "" if is_ratio else b.limit,
            ]
        )
    return "\ufeff" + out.getvalue()
