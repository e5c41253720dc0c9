"""Which staff may count toward the ratio on a day: valid certificate and health exam.

Kept apart from the service so the ratio code can use it without importing the staff
service (which itself refreshes the ratio on clock-in).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, exists

from facility_app.credentials.models import CertificateKind, StaffCertificate
from facility_app.facility.models import Facility
from facility_app.staff.models import Staff
from health_records.models import ExamResult, StaffHealthExam


def credentials_in_force(facility: Facility, day: date) -> tuple[ColumnElement[bool], ...]:
    """SQL conditions on ``Staff`` for 'may count toward the ratio on this day'."""
    policy = facility.policy().staff
    if not policy.credentials_gate_ratio:
        return ()
    kinds = [CertificateKind(k) for k in policy.caregiver_certificate_kinds]
    certified = exists().where(
        StaffCertificate.staff_id == Staff.id,
        StaffCertificate.kind.in_(kinds),
        StaffCertificate.valid_from <= day,
        (StaffCertificate.expires_on.is_(None)) | (StaffCertificate.expires_on > day),
    )
    examined = exists().where(
        StaffHealthExam.staff_id == Staff.id,
        StaffHealthExam.result == ExamResult.FIT,
        StaffHealthExam.exam_date <= day,
        StaffHealthExam.expires_on > day,
    )
    return (certified, examined)
