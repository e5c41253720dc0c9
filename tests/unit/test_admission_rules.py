"""Admission exam, return after a long absence, vaccinations and routine exams, by hand.

Defaults (policy digest, "Child health"): admission exam at most 3 months before the first
day, a new exam after 90 days away, doses overdue 30 days after their due age, routine
exams every 6 months from 12 to 36 months of age.
"""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from carewatch.policy import DEFAULT_POLICY, AdmissionPolicy, VaccineDose, load_policy
from health_records.admission import (
    DoseState,
    ExamFact,
    ExamState,
    admission_exam,
    admission_status,
    age_months,
    dose_lines,
    return_exam_missing,
    routine_exam_due,
)

P = DEFAULT_POLICY.admission
BIRTH = date(2025, 1, 15)


def exam(day: date, kind: str = "admission", result: str = "fit") -> ExamFact:
    return ExamFact(kind, day, result)


# --- admission exam -----------------------------------------------------------------------


def test_an_exam_exactly_three_months_before_the_first_day_counts_one_day_more_does_not():
    first = date(2026, 3, 10)
    assert admission_exam([exam(date(2025, 12, 10))], first, first, P) is ExamState.OK
    assert admission_exam([exam(date(2025, 12, 9))], first, first, P) is ExamState.TOO_OLD


def test_the_boundary_falls_on_the_last_day_of_a_shorter_month():
    first = date(2026, 5, 31)  # three months earlier: 28 February (no 31st)
    assert admission_exam([exam(date(2026, 2, 28))], first, first, P) is ExamState.OK
    assert admission_exam([exam(date(2026, 2, 27))], first, first, P) is ExamState.TOO_OLD


def test_missing_future_not_fit_and_other_kinds():
    first = day = date(2026, 3, 10)
    assert admission_exam([], first, day, P) is ExamState.MISSING
    # An exam dated after the day does not count yet; a routine exam is not an admission exam.
    assert admission_exam([exam(date(2026, 3, 11))], first, day, P) is ExamState.MISSING
    assert admission_exam([exam(date(2026, 3, 1), "routine")], first, day, P) is ExamState.MISSING
    assert admission_exam([exam(date(2026, 3, 1), result="not_fit")], first, day, P) is (
        ExamState.NOT_FIT
    )
    with_notes = exam(date(2026, 3, 1), result="fit_with_notes")
    assert admission_exam([with_notes], first, day, P) is ExamState.OK
    # A late exam after the first day still puts the file right.
    assert admission_exam([exam(date(2026, 3, 5))], date(2026, 3, 2), day, P) is ExamState.OK


def test_the_window_is_policy():
    policy = AdmissionPolicy(admission_exam_max_age_months=1)
    first = date(2026, 3, 10)
    assert admission_exam([exam(date(2026, 2, 10))], first, first, policy) is ExamState.OK
    assert admission_exam([exam(date(2026, 2, 9))], first, first, policy) is ExamState.TOO_OLD


# --- return after a long absence -----------------------------------------------------------


def test_ninety_days_away_needs_a_new_exam_eighty_nine_do_not():
    day = date(2026, 3, 10)
    # 10 Dec → 10 Jan 31 days, → 10 Feb 31, → 10 Mar 28: 90 days.
    assert return_exam_missing([], date(2025, 12, 10), day, P) == (90, True)
    assert return_exam_missing([], date(2025, 12, 11), day, P) == (None, False)


def test_the_return_exam_must_be_taken_after_the_absence_began_and_be_fit():
    day, last = date(2026, 3, 10), date(2025, 12, 10)
    assert return_exam_missing([exam(last, "return")], last, day, P) == (90, True)
    assert return_exam_missing([exam(date(2025, 12, 11), "return")], last, day, P) == (90, False)
    # Any fit exam taken while away counts, a not-fit one does not.
    assert return_exam_missing([exam(date(2026, 3, 9), "routine")], last, day, P) == (90, False)
    not_fit = exam(date(2026, 3, 9), "return", "not_fit")
    assert return_exam_missing([not_fit], last, day, P) == (90, True)


def test_no_earlier_attendance_is_not_a_return_and_the_threshold_is_policy():
    day = date(2026, 3, 10)
    assert return_exam_missing([], None, day, P) == (None, False)
    policy = AdmissionPolicy(return_exam_after_days=30)
    assert return_exam_missing([], date(2026, 2, 8), day, policy) == (30, True)
    assert return_exam_missing([], date(2026, 2, 9), day, policy) == (None, False)


# --- vaccinations --------------------------------------------------------------------------


def _state(lines, vaccine: str, dose: int) -> DoseState:  # type: ignore[no-untyped-def]
    return next(x.state for x in lines if (x.dose.vaccine, x.dose.dose) == (vaccine, dose))


def test_a_dose_is_due_at_its_age_and_overdue_after_the_grace_period():
    # HepB dose 3 at 6 months: due 15 Jul 2025, overdue 30 days later on 14 Aug.
    assert _state(dose_lines(BIRTH, {}, date(2025, 7, 14), P), "HepB", 3) is DoseState.NOT_YET
    assert _state(dose_lines(BIRTH, {}, date(2025, 7, 15), P), "HepB", 3) is DoseState.DUE
    assert _state(dose_lines(BIRTH, {}, date(2025, 8, 13), P), "HepB", 3) is DoseState.DUE
    assert _state(dose_lines(BIRTH, {}, date(2025, 8, 14), P), "HepB", 3) is DoseState.OVERDUE
    given = {("HepB", 3): date(2025, 7, 20)}
    line = next(x for x in dose_lines(BIRTH, given, date(2025, 9, 1), P) if x.dose.dose == 3
                and x.dose.vaccine == "HepB")  # fmt: skip
    assert (line.state, line.given_on, line.due_on) == (
        DoseState.DONE,
        date(2025, 7, 20),
        date(2025, 7, 15),
    )


def test_overdue_doses_at_thirteen_months_are_those_due_by_a_year():
    # 10 Mar 2026: 13 months old. Due by 12 months and past grace: HepB 1-3, BCG, IPV 1-2,
    # bOPV, DTaP 1-3, MMR 1, JE-L 1, MPSV-A 1-2 = 14. The 18-month doses are not yet due.
    lines = dose_lines(BIRTH, {}, date(2026, 3, 10), P)
    overdue = {(x.dose.vaccine, x.dose.dose) for x in lines if x.state is DoseState.OVERDUE}
    assert len(overdue) == 14
    assert ("MPSV-A", 2) in overdue and ("MMR", 2) not in overdue
    assert _state(lines, "HepA-L", 1) is DoseState.NOT_YET


def test_the_grace_period_is_per_dose_policy():
    policy = AdmissionPolicy(
        vaccine_schedule=[VaccineDose(vaccine="X", name="X", dose=1, due_months=2, grace_days=0)]
    )
    assert [x.state for x in dose_lines(BIRTH, {}, date(2025, 3, 15), policy)] == [
        DoseState.OVERDUE
    ]
    assert [x.state for x in dose_lines(BIRTH, {}, date(2025, 3, 14), policy)] == [
        DoseState.NOT_YET
    ]


def test_a_schedule_with_a_dose_twice_is_refused_and_profiles_can_change_numbers():
    with pytest.raises(ValidationError):
        AdmissionPolicy(
            vaccine_schedule=[
                VaccineDose(vaccine="X", name="X", dose=1, due_months=2),
                VaccineDose(vaccine="X", name="X", dose=1, due_months=3),
            ]
        )
    assert load_policy({"admission": {"return_exam_after_days": 60}}).admission == (
        AdmissionPolicy(return_exam_after_days=60)
    )


# --- routine exams and age ----------------------------------------------------------------


def test_age_in_completed_months():
    assert age_months(BIRTH, date(2026, 1, 14)) == 11
    assert age_months(BIRTH, date(2026, 1, 15)) == 12
    assert age_months(date(2025, 1, 31), date(2025, 2, 28)) == 1


def test_routine_exams_from_the_first_birthday_every_six_months():
    assert routine_exam_due(BIRTH, [], date(2026, 1, 14), P) is None  # 11 months
    assert routine_exam_due(BIRTH, [], date(2026, 1, 15), P) == date(2026, 1, 15)
    last = [exam(date(2025, 11, 20), "admission")]  # at 10 months: next due 20 May 2026
    assert routine_exam_due(BIRTH, last, date(2026, 5, 19), P) is None
    assert routine_exam_due(BIRTH, last, date(2026, 5, 20), P) == date(2026, 5, 20)
    early = [exam(date(2025, 4, 1), "admission")]  # 6 months later is before the first birthday
    assert routine_exam_due(BIRTH, early, date(2026, 1, 15), P) == date(2026, 1, 15)
    assert routine_exam_due(BIRTH, [], date(2028, 1, 15), P) is None  # 36 months: no longer


def test_the_status_puts_it_together_with_warning_codes():
    st = admission_status(
        birth=BIRTH, first_day=date(2026, 3, 10), exams=[], given={},
        last_present=date(2025, 12, 10), day=date(2026, 3, 10), policy=P,
    )  # fmt: skip
    assert st.warnings == [
        "admission_exam_missing",
        "vaccinations_missing",
        "return_exam_missing",
    ]
    assert len(st.missing_doses) == 14 and st.away_days == 90
    assert st.routine_due_on == date(2026, 1, 15)
