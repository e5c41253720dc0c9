"""Imports every model so that the metadata is complete (Alembic, tests, create_all)."""

from facility_app.accounts.models import LoginAttempt, Role, User
from facility_app.alerts.models import Alert, AlertKind, Severity
from facility_app.attendance.models import AbsenceReason, AttendanceRecord, AttendanceStatus
from facility_app.audit.models import AuditEntry
from facility_app.care.models import (
    CareEntry,
    CareKind,
    Mood,
    Nap,
    OutdoorPeriod,
    SleepCheck,
    SleepCheckLapse,
    SleepPosition,
    SleepState,
)
from facility_app.children.models import CareType, Child, Enrolment, Guardian, Sex
from facility_app.credentials.models import (
    BackgroundCheck,
    BanListEntry,
    BanListImport,
    CertificateKind,
    CredentialSecret,
    StaffCertificate,
    TrainingRecord,
)
from facility_app.facility.models import (
    ClassRoom,
    ClosedDay,
    Facility,
    Grade,
    Ownership,
    PolicyProfile,
)
from facility_app.fees.models import FeeItem
from facility_app.hygiene.models import DisinfectionLog, DisinfectionTask, Target
from facility_app.kitchen.models import (
    Dish,
    Eaten,
    FoodSample,
    Meal,
    MealFeeAccount,
    MealIntake,
    MealSubstitute,
    MenuItem,
)
from facility_app.ratio.models import BreachKind, ClassBreach
from facility_app.settlement.models import (
    LineKind,
    Settlement,
    SettlementLine,
    SubsidyPolicyVersion,
)
from facility_app.staff.models import ClassAssignment, DutySession, Staff, StaffRole
from health_records.child_exams import (
    ChildExamKind,
    ChildExamResult,
    ChildHealthExam,
    Vaccination,
)
from health_records.growth_models import GrowthMeasurement, MeasuredPosition
from health_records.incidents import AckMethod, IncidentReport, InjurySeverity, NotifyMethod
from health_records.medication import DoseUnit, MedicationDose, MedicationInstruction
from health_records.models import (
    CheckAction,
    CheckKind,
    ExamResult,
    HealthCheck,
    IllnessCase,
    StaffHealthExam,
)

__all__ = [
    "AbsenceReason",
    "AckMethod",
    "Alert",
    "AlertKind",
    "AttendanceRecord",
    "AttendanceStatus",
    "AuditEntry",
    "BackgroundCheck",
    "BanListEntry",
    "BanListImport",
    "BreachKind",
    "CareEntry",
    "CareKind",
    "CareType",
    "CertificateKind",
    "CheckAction",
    "CheckKind",
    "Child",
    "ChildExamKind",
    "ChildExamResult",
    "ChildHealthExam",
    "ClassAssignment",
    "ClassBreach",
    "ClassRoom",
    "ClosedDay",
    "CredentialSecret",
    "Dish",
    "DisinfectionLog",
    "DisinfectionTask",
    "DoseUnit",
    "DutySession",
    "Eaten",
    "Enrolment",
    "ExamResult",
    "Facility",
    "FeeItem",
    "FoodSample",
    "Grade",
    "GrowthMeasurement",
    "Guardian",
    "HealthCheck",
    "IllnessCase",
    "IncidentReport",
    "InjurySeverity",
    "LineKind",
    "LoginAttempt",
    "Meal",
    "MealFeeAccount",
    "MealIntake",
    "MealSubstitute",
    "MeasuredPosition",
    "MedicationDose",
    "MedicationInstruction",
    "MenuItem",
    "Mood",
    "Nap",
    "NotifyMethod",
    "OutdoorPeriod",
    "Ownership",
    "PolicyProfile",
    "Role",
    "Settlement",
    "SettlementLine",
    "Severity",
    "Sex",
    "SleepCheck",
    "SleepCheckLapse",
    "SleepPosition",
    "SleepState",
    "Staff",
    "StaffCertificate",
    "StaffHealthExam",
    "StaffRole",
    "SubsidyPolicyVersion",
    "Target",
    "TrainingRecord",
    "User",
    "Vaccination",
]
