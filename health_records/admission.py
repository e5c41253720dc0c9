"""Pure rules for a child's admission and return: exams, vaccinations, routine exams.

Dates only, no database. The policy digest's numbers come in as an
:class:`~carewatch.policy.AdmissionPolicy`:

- the admission exam counts when it is fit (with or without notes), not after ``day``, and
  not older than ``admission_exam_max_age_months`` before the first day (an exam exactly
  that many months before, by calendar month, still counts);
- a child whose last day present was ``return_exam_after_days`` or more days before
  ``day`` (90 by default: "three months" counted in days, so a return on day 90 needs it
  and on day 89 does not) needs a fit exam of any kind dated after that last day;
- a vaccine dose is due from ``birth + due_months`` and overdue ``grace_days`` later;
- routine exams for ages ``routine_exam_from_months`` to ``routine_exam_until_months``
  fall due ``routine_exam_interval_months`` after the last exam (or at the first age).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from carewatch.policy import AdmissionPolicy, VaccineDose
from health_records.rules import add_months

#: Exam results that let the child attend.
FIT_RESULTS = frozenset({"fit", "fit_with_notes"})


class ExamState(enum.StrEnum):
    """Where a child's admission exam stands."""

    OK = "ok"
    MISSING = "missing"
    TOO_OLD = "too_old"  # taken longer before the first day than the policy allows
    NOT_FIT = "not_fit"


class DoseState(enum.StrEnum):
    """One scheduled dose against the child's age."""

    DONE = "done"
    NOT_YET = "not_yet"
    DUE = "due"  # due age reached, still within the grace period
    OVERDUE = "overdue"


@dataclass(frozen=True)
class ExamFact:
    """What the rules need of one exam."""

    kind: str
    exam_date: date
    result: str


@dataclass(frozen=True)
class DoseLine:
    """One scheduled dose with its state on the day."""

    dose: VaccineDose
    due_on: date
    overdue_on: date
    state: DoseState
    given_on: date | None = None


@dataclass(frozen=True)
class AdmissionStatus:
    """A child's admission, return and routine exam standing on one day."""

    exam: ExamState
    doses: list[DoseLine] = field(default_factory=list)
    away_days: int | None = None  # days since the last day present, when a return needs an exam
    return_exam_missing: bool = False
    routine_due_on: date | None = None  # set when a routine exam is due on or before the day

    @property
    def missing_doses(self) -> list[DoseLine]:
        """Doses past their grace period and not recorded."""
        return [d for d in self.doses if d.state is DoseState.OVERDUE]

    @property
    def warnings(self) -> list[str]:
        """Machine-readable warning codes for the door (routine exams are not among them)."""
        out = []
        if self.exam is not ExamState.OK:
            out.append(f"admission_exam_{self.exam.value}")
        if self.missing_doses:
            out.append("vaccinations_missing")
        if self.return_exam_missing:
            out.append("return_exam_missing")
        return out


def age_months(birth: date, day: date) -> int:
    """Completed months of age on ``day``."""
    months = (day.year - birth.year) * 12 + day.month - birth.month
    return months if add_months(birth, months) <= day else months - 1


def admission_exam(
    exams: Iterable[ExamFact], first_day: date, day: date, policy: AdmissionPolicy
) -> ExamState:
    """The best admission exam's state: OK beats NOT_FIT beats TOO_OLD beats MISSING."""
    earliest = add_months(first_day, -policy.admission_exam_max_age_months)
    states = set()
    for e in exams:
        if e.kind != "admission" or e.exam_date > day:
            continue
        if e.exam_date < earliest:
            states.add(ExamState.TOO_OLD)
        elif e.result not in FIT_RESULTS:
            states.add(ExamState.NOT_FIT)
        else:
            states.add(ExamState.OK)
    for state in (ExamState.OK, ExamState.NOT_FIT, ExamState.TOO_OLD):
        if state in states:
            return state
    return ExamState.MISSING


def dose_lines(
    birth: date, given: dict[tuple[str, int], date], day: date, policy: AdmissionPolicy
) -> list[DoseLine]:
    """Every scheduled dose with its state on ``day``, in the schedule's order by age."""
    out = []
    for d in sorted(policy.vaccine_schedule, key=lambda d: (d.due_months, d.vaccine, d.dose)):
        due_on = add_months(birth, d.due_months)
        overdue_on = due_on + timedelta(days=d.grace_days)
        given_on = given.get((d.vaccine, d.dose))
        if given_on is not None:
            state = DoseState.DONE
        elif day < due_on:
            state = DoseState.NOT_YET
        elif day < overdue_on:
            state = DoseState.DUE
        else:
            state = DoseState.OVERDUE
        out.append(DoseLine(d, due_on, overdue_on, state, given_on))
    return out


def return_exam_missing(
    exams: Iterable[ExamFact], last_present: date | None, day: date, policy: AdmissionPolicy
) -> tuple[int | None, bool]:
    """Days away (when long enough to need an exam) and whether the exam is missing."""
    if last_present is None or last_present >= day:
        return None, False
    away = (day - last_present).days
    if away < policy.return_exam_after_days:
        return None, False
    found = any(last_present < e.exam_date <= day and e.result in FIT_RESULTS for e in exams)
    return away, not found


def routine_exam_due(
    birth: date, exams: Iterable[ExamFact], day: date, policy: AdmissionPolicy
) -> date | None:
    """The day a routine exam fell due, when one is due on ``day``; None otherwise."""
    age = age_months(birth, day)
    if not policy.routine_exam_from_months <= age < policy.routine_exam_until_months:
        return None
    dates = [e.exam_date for e in exams if e.exam_date <= day]
    start = add_months(birth, policy.routine_exam_from_months)
    due = add_months(max(dates), policy.routine_exam_interval_months) if dates else start
    due = max(due, start)
    return due if due <= day else None


def admission_status(
    *,
    birth: date,
    first_day: date,
    exams: list[ExamFact],
    given: dict[tuple[str, int], date],
    last_present: date | None,
    day: date,
    policy: AdmissionPolicy,
) -> AdmissionStatus:
    """Everything the door, the record and the health officer's list need for one child."""
    away, missing = return_exam_missing(exams, last_present, day, policy)
    return AdmissionStatus(
        exam=admission_exam(exams, first_day, day, policy),
        doses=dose_lines(birth, given, day, policy),
        away_days=away,
        return_exam_missing=missing,
        routine_due_on=routine_exam_due(birth, exams, day, policy),
    )
