"""Recording staff credentials and checking hires against the ban list."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError
from carewatch.validate import text
from facility_app.accounts.permissions import Actor, Perm
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.audit import service as audit
from facility_app.credentials.models import (
    BackgroundCheck,
    BanListEntry,
    BanListImport,
    CertificateKind,
    CredentialSecret,
    StaffCertificate,
    TrainingRecord,
)
from facility_app.facility.models import Facility
from facility_app.facility.service import today
from facility_app.staff.models import Staff
from facility_app.staff.service import get_staff
from health_records.models import ExamResult, StaffHealthExam
from health_records.rules import exam_expiry, normalise_id_number

log = logging.getLogger(__name__)

MAX_SCAN_BYTES = 5 * 1024 * 1024
SCAN_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
MAX_TRAINING_HOURS = Decimal("200")


def id_hash(session: Session, id_number: str) -> str:
    """The keyed hash (HMAC-SHA256) of a normalised ID number with the facility's key."""
    secret = session.get(CredentialSecret, "id_hash")
    if secret is None:
        secret = CredentialSecret(name="id_hash", value=secrets.token_bytes(32))
        session.add(secret)
        session.flush()
    return hmac.new(secret.value, id_number.encode("ascii"), hashlib.sha256).hexdigest()


def _not_future(day: date, facility: Facility, now: datetime, field: str) -> None:
    if day > today(facility, now):
        raise DomainError("date_in_future", "This date is in the future.", field=field)


def _kind(value: CertificateKind | str) -> CertificateKind:
    try:
        return CertificateKind(value)
    except ValueError:
        raise DomainError("invalid_kind", "Unknown certificate kind.", field="kind") from None


def add_certificate(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff_id: int,
    *,
    now: datetime,
    kind: CertificateKind | str,
    number: str,
    valid_from: date,
    expires_on: date | None,
    issuer: str = "",
    scan: bytes | None = None,
    scan_type: str = "",
) -> StaffCertificate:
    """Record a certificate; refuses one that ends before it starts or a number seen before."""
    actor.require(Perm.STAFF_WRITE)
    staff = get_staff(session, staff_id)
    kind = _kind(kind)
    number = text(number, field="number", limit=60, required=True)
    issuer = text(issuer, field="issuer", limit=120)
    if expires_on is not None and expires_on <= valid_from:
        raise DomainError(
            "ends_before_start", "The certificate ends before it starts.", field="expires_on"
        )
    if scan is not None:
        if len(scan) > MAX_SCAN_BYTES:
            raise DomainError("scan_too_large", "The scan is larger than 5 MB.", field="scan")
        if scan_type not in SCAN_TYPES:
            raise DomainError(
                "scan_type", "The scan must be a JPEG, PNG or PDF file.", field="scan"
            )
    duplicate = session.scalar(
        select(StaffCertificate.id).where(
            StaffCertificate.kind == kind, StaffCertificate.number == number
        )
    )
    if duplicate is not None:
        raise Conflict(
            "duplicate_certificate",
            "A certificate of this kind with number %(number)s is already recorded.",
            field="number",
            number=number,
        )
    cert = StaffCertificate(
        staff_id=staff.id,
        kind=kind,
        number=number,
        issuer=issuer,
        valid_from=valid_from,
        expires_on=expires_on,
        scan=scan,
        scan_type=scan_type if scan is not None else "",
        recorded_at=now,
    )
    session.add(cert)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            "duplicate_certificate",
            "A certificate of this kind with number %(number)s is already recorded.",
            field="number",
            number=number,
        ) from None
    audit.log_change(session, actor, now, "create", "certificate", cert)
    return cert


def add_health_exam(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff_id: int,
    *,
    now: datetime,
    exam_date: date,
    result: ExamResult | str,
    certificate_no: str = "",
    issuer: str = "",
) -> StaffHealthExam:
    """Record a health exam; it counts for the policy's months from the exam date."""
    actor.require(Perm.STAFF_WRITE)
    staff = get_staff(session, staff_id)
    _not_future(exam_date, facility, now, "exam_date")
    try:
        result = ExamResult(result)
    except ValueError:
        raise DomainError("invalid_result", "Unknown exam result.", field="result") from None
    exam = StaffHealthExam(
        staff_id=staff.id,
        exam_date=exam_date,
        result=result,
        expires_on=exam_expiry(exam_date, facility.policy().staff.health_exam_valid_months),
        certificate_no=text(certificate_no, field="certificate_no", limit=60),
        issuer=text(issuer, field="issuer", limit=120),
        recorded_at=now,
    )
    session.add(exam)
    session.flush()
    audit.log_change(session, actor, now, "create", "health_exam", exam)
    return exam


def add_background_check(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff_id: int,
    *,
    now: datetime,
    issued_on: date,
    number: str = "",
    issuer: str = "",
) -> BackgroundCheck:
    """Record a no-criminal-record certificate."""
    actor.require(Perm.STAFF_WRITE)
    staff = get_staff(session, staff_id)
    _not_future(issued_on, facility, now, "issued_on")
    check = BackgroundCheck(
        staff_id=staff.id,
        issued_on=issued_on,
        number=text(number, field="number", limit=60),
        issuer=text(issuer, field="issuer", limit=120),
        recorded_at=now,
    )
    session.add(check)
    session.flush()
    audit.log_change(session, actor, now, "create", "background_check", check)
    return check


def add_training(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff_id: int,
    *,
    now: datetime,
    course: str,
    hours: Decimal | str | float,
    done_on: date,
    provider: str = "",
) -> TrainingRecord:
    """Record completed training hours (more than 0, at most 200 for one record)."""
    actor.require(Perm.STAFF_WRITE)
    staff = get_staff(session, staff_id)
    _not_future(done_on, facility, now, "done_on")
    try:
        amount = Decimal(str(hours)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise DomainError("invalid_hours", "Hours must be a number.", field="hours") from None
    if not Decimal(0) < amount <= MAX_TRAINING_HOURS:
        raise DomainError(
            "hours_out_of_range",
            "Hours must be more than 0 and at most %(max)s.",
            field="hours",
            max=str(MAX_TRAINING_HOURS),
        )
    record = TrainingRecord(
        staff_id=staff.id,
        course=text(course, field="course", limit=120, required=True),
        provider=text(provider, field="provider", limit=120),
        hours=amount,
        done_on=done_on,
        recorded_at=now,
    )
    session.add(record)
    session.flush()
    audit.log_change(session, actor, now, "create", "training", record)
    return record


def _on_current_list(id_hash: Any) -> ColumnElement[bool]:
    """SQL: ``id_hash`` is on the current ban list (compared in the database, not loaded)."""
    return exists().where(
        BanListEntry.id_hash == id_hash,
        BanListImport.id == BanListEntry.import_id,
        BanListImport.current.is_(True),
    )


def is_banned(session: Session, digest: str) -> bool:
    """Whether a keyed ID hash is on the current ban list."""
    return bool(session.scalar(select(_on_current_list(digest))))


def banned_staff_ids(session: Session, staff_ids: Iterable[int]) -> set[int]:
    """Those of ``staff_ids`` whose ID number is on the current ban list."""
    return set(
        session.scalars(
            select(Staff.id).where(
                Staff.id.in_(list(staff_ids)), _on_current_list(Staff.id_number_hash)
            )
        )
    )


class BannedPerson(DomainError):
    """The person is on the ban list; refused, and the refusal alerts the director."""

    def __init__(self, *, facility_id: int, staff: Staff, actor: Actor, now: datetime) -> None:
        super().__init__(
            "on_ban_list",
            "%(name)s is on the regulator's lifetime ban list and cannot be employed.",
            field="id_number",
            name=staff.name,
        )
        self._ctx = (facility_id, staff.id, actor, now)

    def follow_up(self, session: Session) -> None:
        """Record the alert and the audit entry of the refusal in their own transaction."""
        facility_id, staff_id, actor, now = self._ctx
        raise_alert(
            session,
            facility_id=facility_id,
            kind=AlertKind.BAN_LIST_MATCH,
            severity=Severity.CRITICAL,
            now=now,
            params={"staff_id": staff_id},
            dedup_key=f"ban_list:{staff_id}",
        )
        audit.record(
            session,
            at=now,
            user_id=actor.user_id,
            action="ban_list_refused",
            entity="staff",
            entity_id=staff_id,
        )


def set_id_number(
    session: Session,
    actor: Actor,
    facility: Facility,
    staff_id: int,
    *,
    now: datetime,
    id_number: str,
) -> Staff:
    """Keep a staff member's ID number as a keyed hash; a person on the ban list is refused."""
    actor.require(Perm.STAFF_WRITE)
    staff = get_staff(session, staff_id)
    try:
        normalised = normalise_id_number(id_number)
    except ValueError:
        raise DomainError(
            "invalid_id_number",
            "This is not a valid ID number (18 characters, the last a check digit or X).",
            field="id_number",
        ) from None
    digest = id_hash(session, normalised)
    if is_banned(session, digest):
        raise BannedPerson(facility_id=facility.id, staff=staff, actor=actor, now=now)
    before = {"id_number_hash": staff.id_number_hash}
    staff.id_number_hash = digest
    session.flush()
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="update",
        entity="staff",
        entity_id=staff.id,
        before=before,
        after={"id_number_hash": digest},
    )
    return staff


@dataclass(frozen=True)
class BanListResult:
    """What an import did: rows taken, rows refused with their line and reason, matches."""

    import_id: int
    rows_ok: int
    bad_rows: list[tuple[int, str]]
    matched_staff_ids: list[int]


def import_ban_list(
    session: Session,
    actor: Actor,
    facility: Facility,
    *,
    now: datetime,
    csv_text: str,
    source: str = "",
) -> BanListResult:
    """Replace the ban list with a CSV of name and ID number, then re-check every staff member.

    Bad rows are reported by line and skipped; the good ones go in together in the caller's
    transaction. Only the keyed hash of each ID number is stored. A staff member who
    matches raises a critical alert.
    """
    actor.require(Perm.STAFF_WRITE)
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    good: list[tuple[str, str]] = []
    bad: list[tuple[int, str]] = []
    for line, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if line == 1 and cells and cells[0] in ("name", "姓名"):
            continue  # a header row
        if len(cells) < 2 or not cells[0]:
            bad.append((line, "a row needs a name and an ID number"))
            continue
        if len(cells[0]) > 60:
            bad.append((line, "the name is longer than 60 characters"))
            continue
        try:
            good.append((cells[0], normalise_id_number(cells[1])))
        except ValueError as exc:
            bad.append((line, str(exc)))
    if not good:
        raise DomainError(
            "empty_ban_list", "The file has no valid rows; nothing was imported.", field="file"
        )
    for previous in session.scalars(select(BanListImport).where(BanListImport.current.is_(True))):
        previous.current = False
    batch = BanListImport(
        imported_at=now,
        source=text(source, field="source", limit=200),
        rows_ok=len(good),
        rows_bad=len(bad),
        current=True,
    )
    session.add(batch)
    session.flush()
    session.add_all(
        BanListEntry(import_id=batch.id, name=name, id_hash=id_hash(session, number))
        for name, number in good
    )
    session.flush()
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="import",
        entity="ban_list",
        entity_id=batch.id,
        after={"rows_ok": len(good), "rows_bad": len(bad)},
    )
    matched = recheck_staff(session, facility, now=now)
    log.info(
        "ban list imported: %d rows, %d refused, %d matches", len(good), len(bad), len(matched)
    )
    return BanListResult(batch.id, len(good), bad, matched)


def recheck_staff(session: Session, facility: Facility, *, now: datetime) -> list[int]:
    """Alert on every current staff member whose ID hash is on the ban list; return their ids."""
    day = today(facility, now)
    matched = [
        s.id
        for s in session.scalars(
            select(Staff).where(
                Staff.facility_id == facility.id, _on_current_list(Staff.id_number_hash)
            )
        )
        if s.employed_on(day)
    ]
    for staff_id in matched:
        raise_alert(
            session,
            facility_id=facility.id,
            kind=AlertKind.BAN_LIST_MATCH,
            severity=Severity.CRITICAL,
            now=now,
            params={"staff_id": staff_id},
            dedup_key=f"ban_list:{staff_id}",
        )
    return matched
