"""Pure check ``hygiene.disinfection``: every scheduled disinfection done on time.

Fails while any task is overdue (see :mod:`facility_app.hygiene.rules`); warns when a log
today was stored flagged outside its method's limits. Evidence names areas, objects and
methods, with counts; it holds no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from facility_app.kitchen.compliance import EVIDENCE_LIMIT, Finding

__all__ = ["Finding", "TaskState", "disinfection"]


@dataclass(frozen=True)
class TaskState:
    """One active task as the check sees it."""

    area: str
    target: str
    method: str
    due_day: date | None
    overdue: bool
    overdue_minutes: int = 0
    flagged_today: int = 0


def disinfection(tasks: Iterable[TaskState]) -> Finding:
    """``hygiene.disinfection`` over the active tasks."""
    rows = list(tasks)
    overdue: list[dict[str, Any]] = [
        {
            "area": t.area,
            "target": t.target,
            "method": t.method,
            "due_day": t.due_day.isoformat() if t.due_day else None,
            "overdue_minutes": t.overdue_minutes,
        }
        for t in rows
        if t.overdue
    ]
    flagged = sum(t.flagged_today for t in rows)
    evidence = {
        "tasks": len(rows),
        "overdue_count": len(overdue),
        "flagged_logs_today": flagged,
        "overdue": overdue[:EVIDENCE_LIMIT],
    }
    if overdue:
        named = "; ".join(f"{o['area']} {o['target']} ({o['method']})" for o in overdue[:5])
        more = f" and {len(overdue) - 5} more" if len(overdue) > 5 else ""
        return Finding("fail", len(overdue), 0, evidence, f"Overdue: {named}{more}.")
    if flagged:
        return Finding(
            "warn", 0, 0, evidence, f"{flagged} logs today were outside their method's limits."
        )
    return Finding("pass", 0, 0, evidence, f"All {len(rows)} disinfection tasks up to date.")
