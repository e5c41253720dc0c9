"""Admission exams and vaccinations: a section of the child's health record, the forms that
add to it, the exam form's scan, and the health officer's list of what is missing."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Actor, Perm
from facility_app.children.models import Child
from facility_app.children.service import enrolled_children, get_child
from facility_app.facility.service import today, visible_classes
from facility_app.health import admission
from health_records.admission import AdmissionStatus, DoseState, ExamState
from health_records.child_exams import ChildExamKind, ChildExamResult, ChildHealthExam, Vaccination

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import required_date
from .forms import text as form_text
from .health_audit import audit_health_read
from .health_record import bp, section

log = logging.getLogger(__name__)

MAX_UPLOAD = 6 * 1024 * 1024

KIND_LABELS = {
    ChildExamKind.ADMISSION.value: _l("Admission exam"),
    ChildExamKind.ROUTINE.value: _l("Routine exam"),
    ChildExamKind.RETURN.value: _l("Return exam"),
}
RESULT_LABELS = {
    ChildExamResult.FIT.value: _l("Fit"),
    ChildExamResult.FIT_WITH_NOTES.value: _l("Fit, with the doctor's notes"),
    ChildExamResult.NOT_FIT.value: _l("Not fit to attend yet"),
}
EXAM_STATE_LABELS = {
    ExamState.OK.value: _l("Admission exam on file"),
    ExamState.MISSING.value: _l("No admission exam"),
    ExamState.TOO_OLD.value: _l("Admission exam too old"),
    ExamState.NOT_FIT.value: _l("Admission exam: not fit"),
}
DOSE_LABELS = {
    DoseState.DONE.value: _l("Done"),
    DoseState.NOT_YET.value: _l("Not yet due"),
    DoseState.DUE.value: _l("Due"),
    DoseState.OVERDUE.value: _l("Overdue"),
}


@section("admission", _l("Admission exam and vaccinations"), "health/_child_admission.html", 10)
def _admission(session: Session, actor: Actor, child: Child, day: date) -> dict[str, Any]:
    fac = facility()
    exams = session.scalars(
        select(ChildHealthExam)
        .where(ChildHealthExam.child_id == child.id)
        .order_by(ChildHealthExam.exam_date.desc(), ChildHealthExam.id.desc())
    ).all()
    vaccinations = session.scalars(
        select(Vaccination)
        .where(Vaccination.child_id == child.id)
        .order_by(Vaccination.given_on, Vaccination.id)
    ).all()
    schedule = fac.policy().admission.vaccine_schedule
    vaccines = list(dict.fromkeys((d.vaccine, d.name) for d in schedule))
    return {
        "status": admission.status(session, fac, child, day),
        "exams": exams,
        "vaccinations": vaccinations,
        "vaccines": vaccines,
        "names": dict(vaccines),
        "kinds": KIND_LABELS,
        "results": RESULT_LABELS,
        "exam_states": EXAM_STATE_LABELS,
        "dose_states": DOSE_LABELS,
        "can_write": actor.can(Perm.HEALTH_WRITE),
        "policy": fac.policy().admission,
    }


def _to_record(child_id: int) -> Any:
    return redirect(url_for("health_record.record", child_id=child_id) + "#section-admission", 303)


@bp.post("/<int:child_id>/exams")
@require(Perm.HEALTH_WRITE)
def add_exam(child_id: int):  # type: ignore[no-untyped-def]
    """Record a child's health exam, with the scan of the exam form if one is uploaded."""
    actor, form = current_actor(), request.form
    child = get_child(db.session, actor, child_id)
    upload = request.files.get("scan")
    scan = upload.read(MAX_UPLOAD + 1) if upload and upload.filename else None
    admission.record_exam(
        db.session,
        actor,
        facility(),
        child,
        now=now(),
        kind=form.get("kind", ""),
        exam_date=required_date(form, "exam_date"),
        result=form.get("result", ""),
        institution=form_text(form, "institution", max_len=120),
        notes=form_text(form, "notes", max_len=500),
        scan=scan,
        scan_type=upload.mimetype if scan is not None and upload else "",
    )
    db.session.commit()
    flash(_("Health exam recorded for %(child)s.", child=child.name), "success")
    return _to_record(child.id)


def _dose(raw: str | None) -> int:
    try:
        return int(raw or "")
    except ValueError:
        raise DomainError("invalid_dose", "The dose is a whole number.", field="dose") from None


@bp.post("/<int:child_id>/vaccinations")
@require(Perm.HEALTH_WRITE)
def add_vaccination(child_id: int):  # type: ignore[no-untyped-def]
    """Record one dose as written in the vaccination certificate."""
    actor, form = current_actor(), request.form
    child = get_child(db.session, actor, child_id)
    admission.record_vaccination(
        db.session,
        actor,
        facility(),
        child,
        now=now(),
        vaccine=form.get("vaccine", ""),
        dose=_dose(form.get("dose")),
        given_on=required_date(form, "given_on"),
        place=form_text(form, "place", max_len=120),
        verified=form.get("verified") in ("1", "on"),
    )
    db.session.commit()
    flash(_("Vaccination recorded for %(child)s.", child=child.name), "success")
    return _to_record(child.id)


@bp.get("/<int:child_id>/exam-scans")
@require(Perm.HEALTH_VIEW)
def exam_scan(child_id: int):  # type: ignore[no-untyped-def]
    """The scan of one exam form (``?exam=<id>``) as uploaded; without one, the list."""
    child = get_child(db.session, current_actor(), child_id)
    exam_id = request.args.get("exam", type=int)
    if exam_id is None:
        audit_health_read(child.id, "exam_scans")
        exams = db.session.scalars(
            select(ChildHealthExam)
            .where(ChildHealthExam.child_id == child.id, ChildHealthExam.scan_type != "")
            .order_by(ChildHealthExam.exam_date.desc())
        ).all()
        return render_template(
            "health/exam_scans.html", child=child, exams=exams, kinds=KIND_LABELS
        )
    exam = db.session.get(ChildHealthExam, exam_id)
    if exam is None or exam.child_id != child.id or exam.scan is None:
        abort(404)
    audit_health_read(child.id, "exam_scan", exam_id=exam.id)
    return Response(
        exam.scan,
        mimetype=exam.scan_type,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


@bp.get("/admission")
@require(Perm.HEALTH_VIEW)
def admission_list():  # type: ignore[no-untyped-def]
    """Per class, the children lacking an admission exam, vaccinations, a return or routine
    exam today."""
    actor, fac = current_actor(), facility()
    day = today(fac, now())
    audit_health_read(None, "admission_list")
    rooms = [r for r in visible_classes(db.session, fac, actor) if r.active]
    pairs = enrolled_children(db.session, [r.id for r in rooms], day)
    found = admission.statuses(db.session, fac, [c for c, _e in pairs], day)
    by_class: dict[int, list[tuple[Child, AdmissionStatus]]] = {r.id: [] for r in rooms}
    for child, enrolment in sorted(pairs, key=lambda p: p[0].name):
        st = found[child.id]
        if (
            st.warnings
            or st.routine_due_on is not None
            or any(d.state is DoseState.DUE for d in st.doses)
        ):
            by_class.setdefault(enrolment.class_id, []).append((child, st))
    return render_template(
        "health/admission.html",
        day=day,
        rooms=rooms,
        by_class=by_class,
        total=len(pairs),
        exam_states=EXAM_STATE_LABELS,
    )
