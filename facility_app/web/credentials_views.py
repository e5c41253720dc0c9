"""Staff credentials: the facility's overview, one person's record and forms, the ban list."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from carewatch.errors import DomainError
from facility_app.accounts.permissions import Perm
from facility_app.credentials import service as credentials
from facility_app.credentials.models import (
    BackgroundCheck,
    BanListImport,
    CertificateKind,
    StaffCertificate,
    TrainingRecord,
)
from facility_app.credentials.summary import findings, staff_summary
from facility_app.facility.service import today
from facility_app.staff.service import get_staff
from health_records.models import ExamResult, StaffHealthExam

from .auth import current_actor, facility, now, require
from .extensions import db
from .forms import optional_date, or_404, refuse_form, required_date, show_form, text
from .templating import label

log = logging.getLogger(__name__)

bp = Blueprint("credentials", __name__, url_prefix="/staff")

PERSON = "credentials/person.html"
BAN_LIST = "credentials/ban_list.html"
MAX_UPLOAD = 6 * 1024 * 1024

# Certificate kinds share values with staff roles ("caregiver"), so they have their own labels.
KIND_LABELS: dict[str, Any] = {
    "caregiver": _l("Childcare worker certificate (保育师)"),
    "infant_carer": _l("Infant carer certificate (育婴员)"),
    "health_officer": _l("Health officer training certificate"),
    "security": _l("Security guard licence"),
    "teacher": _l("Teacher qualification"),
    "other": _l("Other certificate"),
}


def kind_label(value: Any) -> str:
    """The label of a certificate kind."""
    key = getattr(value, "value", value)
    return str(KIND_LABELS.get(str(key), key))


@bp.get("/credentials")
@require(Perm.STAFF_VIEW)
def overview():  # type: ignore[no-untyped-def]
    """Every employed staff member's certificate, exam, training pace and ban-list check."""
    fac = facility()
    summary = staff_summary(db.session, fac, today(fac, now()))
    return render_template(
        "credentials/overview.html",
        summary=summary,
        findings=findings(summary),
        kind_label=kind_label,
    )


def _person_context(staff_id: int) -> dict[str, Any]:
    person = or_404(get_staff, db.session, staff_id)

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            db.session.scalars(select(model).where(model.staff_id == person.id).order_by(order))
        )

    return {
        "person": person,
        "certificates": rows(StaffCertificate, StaffCertificate.valid_from.desc()),
        "exams": rows(StaffHealthExam, StaffHealthExam.exam_date.desc()),
        "checks": rows(BackgroundCheck, BackgroundCheck.issued_on.desc()),
        "training": rows(TrainingRecord, TrainingRecord.done_on.desc()),
        "kinds": [(k.value, kind_label(k)) for k in CertificateKind],
        "kind_label": kind_label,
        "results": [(r.value, label(r)) for r in ExamResult],
        "day": today(facility(), now()),
    }


@bp.get("/<int:staff_id>/credentials")
@require(Perm.STAFF_VIEW)
def person(staff_id: int):  # type: ignore[no-untyped-def]
    """One person's credentials, with forms to add to them."""
    return show_form(PERSON, values=MultiDict(), **_person_context(staff_id))


def _save(staff_id: int, action: Any, message: str):  # type: ignore[no-untyped-def]
    context = _person_context(staff_id)
    try:
        action(context["person"].id)
        db.session.commit()
    except DomainError as err:
        if hasattr(err, "follow_up"):
            raise  # the error handler records what the refusal must leave behind
        return refuse_form(PERSON, err, **context)
    flash(message, "success")
    return redirect(url_for("credentials.person", staff_id=staff_id), code=303)


@bp.post("/<int:staff_id>/certificates")
@require(Perm.STAFF_WRITE)
def add_certificate(staff_id: int):  # type: ignore[no-untyped-def]
    """Record a certificate with an optional scan (JPEG, PNG or PDF)."""
    form = request.form
    upload = request.files.get("scan")
    scan = upload.read(MAX_UPLOAD + 1) if upload and upload.filename else None

    def action(sid: int) -> None:
        credentials.add_certificate(
            db.session,
            current_actor(),
            facility(),
            sid,
            now=now(),
            kind=form.get("kind", ""),
            number=text(form, "number"),
            issuer=text(form, "issuer"),
            valid_from=required_date(form, "valid_from"),
            expires_on=optional_date(form, "expires_on"),
            scan=scan,
            scan_type=upload.mimetype if scan is not None and upload else "",
        )

    return _save(staff_id, action, _("Certificate recorded."))


@bp.post("/<int:staff_id>/health-exams")
@require(Perm.STAFF_WRITE)
def add_exam(staff_id: int):  # type: ignore[no-untyped-def]
    """Record a health exam."""
    form = request.form

    def action(sid: int) -> None:
        credentials.add_health_exam(
            db.session,
            current_actor(),
            facility(),
            sid,
            now=now(),
            exam_date=required_date(form, "exam_date"),
            result=form.get("result", ""),
            certificate_no=text(form, "certificate_no"),
            issuer=text(form, "exam_issuer"),
        )

    return _save(staff_id, action, _("Health exam recorded."))


@bp.post("/<int:staff_id>/background-checks")
@require(Perm.STAFF_WRITE)
def add_check(staff_id: int):  # type: ignore[no-untyped-def]
    """Record a no-criminal-record certificate."""
    form = request.form

    def action(sid: int) -> None:
        credentials.add_background_check(
            db.session,
            current_actor(),
            facility(),
            sid,
            now=now(),
            issued_on=required_date(form, "issued_on"),
            number=text(form, "check_number"),
            issuer=text(form, "check_issuer"),
        )

    return _save(staff_id, action, _("Background check recorded."))


@bp.post("/<int:staff_id>/training")
@require(Perm.STAFF_WRITE)
def add_training(staff_id: int):  # type: ignore[no-untyped-def]
    """Record completed training hours."""
    form = request.form

    def action(sid: int) -> None:
        credentials.add_training(
            db.session,
            current_actor(),
            facility(),
            sid,
            now=now(),
            course=text(form, "course"),
            hours=form.get("hours", ""),
            done_on=required_date(form, "done_on"),
            provider=text(form, "provider"),
        )

    return _save(staff_id, action, _("Training recorded."))


@bp.post("/<int:staff_id>/id-number")
@require(Perm.STAFF_WRITE)
def set_id_number(staff_id: int):  # type: ignore[no-untyped-def]
    """Check the ID number against the ban list and keep only its keyed hash."""
    form = request.form

    def action(sid: int) -> None:
        credentials.set_id_number(
            db.session,
            current_actor(),
            facility(),
            sid,
            now=now(),
            id_number=form.get("id_number", ""),
        )

    return _save(staff_id, action, _("ID number checked against the ban list and kept as a hash."))


@bp.get("/certificates/<int:certificate_id>/scan")
@require(Perm.STAFF_VIEW)
def scan(certificate_id: int):  # type: ignore[no-untyped-def]
    """The certificate's scan as uploaded."""
    cert = db.session.get(StaffCertificate, certificate_id)
    if cert is None or cert.scan is None:
        abort(404)
    return Response(
        cert.scan,
        mimetype=cert.scan_type,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


def _ban_context() -> dict[str, Any]:
    last = db.session.scalars(
        select(BanListImport).order_by(BanListImport.id.desc()).limit(1)
    ).first()
    return {"last": last, "result": None}


@bp.get("/ban-list")
@require(Perm.STAFF_VIEW)
def ban_list():  # type: ignore[no-untyped-def]
    """The last import of the ban list and the form for a new one."""
    return show_form(BAN_LIST, values=MultiDict(), **_ban_context())


@bp.post("/ban-list")
@require(Perm.STAFF_WRITE)
def import_ban_list():  # type: ignore[no-untyped-def]
    """Import a CSV (name, ID number); bad rows are listed, good rows go in together."""
    upload = request.files.get("file")
    context = _ban_context()
    try:
        if upload is None or not upload.filename:
            raise DomainError("file_required", "Choose a CSV file to import.", field="file")
        raw = upload.read(MAX_UPLOAD + 1)
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("gb18030", errors="strict")
        result = credentials.import_ban_list(
            db.session,
            current_actor(),
            facility(),
            now=now(),
            csv_text=content,
            source=upload.filename[:200],
        )
        db.session.commit()
    except UnicodeDecodeError:
        err = DomainError("bad_encoding", "The file is not UTF-8 or GB18030 text.", field="file")
        return refuse_form(BAN_LIST, err, **context)
    except DomainError as err:
        return refuse_form(BAN_LIST, err, **context)
    context = _ban_context() | {"result": result}
    return render_template(BAN_LIST, values=MultiDict(), error=None, **context)
