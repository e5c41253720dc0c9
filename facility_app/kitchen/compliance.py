"""Pure checks ``food.sample_retention`` and ``food.allergen``, ready for the compliance engine.

``food.sample_retention`` — every served dish of every meal has a sample of at least
``min_grams`` (default 125 g) that was kept at least ``keep_hours`` (default 48 h):

* a served dish without a sample fails (``no_sample``);
* a sample lighter than the minimum fails (``underweight``; exactly 125 g passes);
* a sample discarded less than ``keep_hours`` after it went in fails (``discarded_early``;
  discarded exactly 48 h after intake passes).

Worked example (defaults): lunch on Tue 10 Mar served 番茄炒蛋 (sample 125 g in at 11:30,
out Thu 12 Mar 11:30 — kept exactly 48 h: pass) and 清蒸鱼 (sample 124 g: underweight)
and 米饭 (no sample): two problems, status fail, value 2.

``food.allergen`` — no child is served a dish with one of their allergens without a
substitute: such a served dish fails; a planned dish that affects a child who has no
substitute yet is a warning (it cannot be served until one is given).

Evidence carries day, meal and dish names and counts only — never a child's name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from carewatch.findings import Finding

#: At most this many problems are listed in evidence; the counts are always complete.
EVIDENCE_LIMIT = 50


@dataclass(frozen=True)
class ServedDish:
    """One dish served at one meal, with its sample if any."""

    day: date
    meal: str
    dish: str
    sample_weight_g: int | None = None
    sample_stored_at: datetime | None = None
    sample_discarded_at: datetime | None = None


def sample_problem(dish: ServedDish, min_grams: int, keep: timedelta) -> str | None:
    """What is wrong with one served dish's sample: a problem code, or None."""
    if dish.sample_weight_g is None or dish.sample_stored_at is None:
        return "no_sample"
    if dish.sample_weight_g < min_grams:
        return "underweight"
    if dish.sample_discarded_at is not None and (
        dish.sample_discarded_at - dish.sample_stored_at < keep
    ):
        return "discarded_early"
    return None


def sample_retention(dishes: Iterable[ServedDish], *, min_grams: int, keep_hours: int) -> Finding:
    """``food.sample_retention`` over the served dishes of a period."""
    keep = timedelta(hours=keep_hours)
    checked = 0
    problems: list[dict[str, Any]] = []
    for dish in dishes:
        checked += 1
        problem = sample_problem(dish, min_grams, keep)
        if problem is not None:
            problems.append(
                {
                    "day": dish.day.isoformat(),
                    "meal": dish.meal,
                    "dish": dish.dish,
                    "problem": problem,
                    "weight_g": dish.sample_weight_g,
                }
            )
    counts = {
        code: sum(1 for p in problems if p["problem"] == code)
        for code in ("no_sample", "underweight", "discarded_early")
    }
    evidence = {
        "dishes_served": checked,
        "min_grams": min_grams,
        "keep_hours": keep_hours,
        **counts,
        "problems": problems[:EVIDENCE_LIMIT],
    }
    if not problems:
        return Finding("pass", 0, 0, evidence, f"All {checked} served dishes sampled and kept.")
    named = "; ".join(f"{p['day']} {p['meal']} {p['dish']}: {p['problem']}" for p in problems[:5])
    more = f" and {len(problems) - 5} more" if len(problems) > 5 else ""
    return Finding("fail", len(problems), 0, evidence, f"Sample problems: {named}{more}.")


@dataclass(frozen=True)
class Exposure:
    """A dish that contains an allergen of one (unnamed) child, and whether it is covered."""

    day: date
    meal: str
    dish: str
    allergens: tuple[str, ...]
    served: bool
    substitute: bool


def allergen(exposures: Iterable[Exposure], *, unreviewed_children: int = 0) -> Finding:
    """``food.allergen``: served without substitute fails, planned without one warns."""
    served_bad: dict[tuple[str, str, str], dict[str, Any]] = {}
    planned_bad: dict[tuple[str, str, str], dict[str, Any]] = {}
    covered = 0
    for e in exposures:
        if e.substitute:
            covered += 1
            continue
        bucket = served_bad if e.served else planned_bad
        key = (e.day.isoformat(), e.meal, e.dish)
        row = bucket.setdefault(
            key, {"day": key[0], "meal": e.meal, "dish": e.dish, "allergens": [], "children": 0}
        )
        row["children"] += 1
        row["allergens"] = sorted(set(row["allergens"]) | set(e.allergens))
    evidence = {
        "covered_by_substitute": covered,
        "served_without_substitute": sum(r["children"] for r in served_bad.values()),
        "planned_without_substitute": sum(r["children"] for r in planned_bad.values()),
        "allergy_notes_to_review": unreviewed_children,
        "served": list(served_bad.values())[:EVIDENCE_LIMIT],
        "planned": list(planned_bad.values())[:EVIDENCE_LIMIT],
    }
    if served_bad:
        named = "; ".join(f"{r['day']} {r['meal']} {r['dish']}" for r in served_bad.values())
        value = evidence["served_without_substitute"]
        return Finding("fail", value, 0, evidence, f"Allergen served without substitute: {named}.")
    if planned_bad or unreviewed_children:
        value = evidence["planned_without_substitute"]
        return Finding(
            "warn",
            value,
            0,
            evidence,
            f"{value} planned servings need a substitute; "
            f"{unreviewed_children} allergy notes need review.",
        )
    return Finding("pass", 0, 0, evidence, "No child's allergen meets their plate.")
