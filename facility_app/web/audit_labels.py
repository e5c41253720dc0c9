"""Readable names for the audit log's entities, actions and fields, and value formatting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .templating import label, local_datetime

ENTITIES: dict[str, Any] = {
    "alert": _l("Alert"),
    "attendance": _l("Attendance"),
    "child": _l("Child"),
    "class": _l("Class"),
    "duty": _l("Duty"),
    "enrolment": _l("Enrolment"),
    "facility": _l("Facility"),
    "guardian": _l("Guardian or pick-up person"),
    "staff": _l("Staff member"),
    "user": _l("User account"),
    "care_entry": _l("Care entry"),
    "nap": _l("Nap"),
    "sleep_check": _l("Sleep check"),
    "outdoor_period": _l("Outdoor period"),
    "camera": _l("Camera"),
    "zone": _l("Monitored zone"),
    "fee": _l("Fee"),
    "subsidy_policy": _l("Subsidy rule"),
    "settlement": _l("Subsidy claim"),
    "child_health": _l("Child's health record"),
    "health_check": _l("Morning or midday check"),
    "illness_case": _l("Illness follow-up"),
    "child_health_exam": _l("Child's health exam"),
    "child_vaccination": _l("Vaccination"),
    "growth_measurement": _l("Height and weight"),
    "health_list": _l("Health list"),
    "medication_instruction": _l("Medication instruction"),
    "medication_dose": _l("Medication dose"),
    "incident_report": _l("Incident report"),
}

ACTIONS: dict[str, Any] = {
    "read": _l("Read"),
    "morning_check": _l("Morning check"),
    "midday_check": _l("Midday check"),
    "create": _l("Created"),
    "update": _l("Changed"),
    "correct": _l("Corrected"),
    "check_in": _l("Checked in"),
    "check_out": _l("Checked out"),
    "absence": _l("Absence recorded"),
    "clock_in": _l("Started duty"),
    "clock_out": _l("Ended duty"),
    "acknowledge": _l("Acknowledged"),
    "pickup_refused": _l("Pick-up refused"),
    "import": _l("Imported"),
    "password_change": _l("Password changed"),
    "care_nappy_wet": _l("Nappy: wet"),
    "care_nappy_dirty": _l("Nappy: dirty"),
    "care_nappy_dry": _l("Nappy: dry"),
    "care_toilet": _l("Toilet"),
    "care_bottle": _l("Bottle"),
    "care_water": _l("Water"),
    "care_mood": _l("Mood"),
    "care_note": _l("Note"),
    "nap_start": _l("Nap started"),
    "nap_end": _l("Nap ended"),
    "sleep_check": _l("Sleep check"),
    "outdoor_start": _l("Went outside"),
    "outdoor_end": _l("Came in"),
    "settle": _l("Settled"),
    "give": _l("Given"),
    "notify": _l("Guardian told"),
    "follow_up": _l("Follow-up added"),
}

FIELDS: dict[str, Any] = {
    "name": _l("Name"),
    "sex": _l("Sex"),
    "birth_date": _l("Birth date"),
    "allergies": _l("Allergies"),
    "notes": _l("Notes"),
    "note": _l("Note"),
    "class_id": _l("Class"),
    "class_ids": _l("Classes"),
    "class_type": _l("Class type"),
    "capacity": _l("Capacity"),
    "room": _l("Room"),
    "care_type": _l("Care type"),
    "start_date": _l("First day"),
    "end_date": _l("Last day"),
    "puhui_place": _l("Affordable (普惠) place"),
    "relationship_": _l("Relationship"),
    "phone": _l("Phone"),
    "is_guardian": _l("Legal guardian"),
    "can_pick_up": _l("May pick up"),
    "active": _l("Active"),
    "role": _l("Role"),
    "hire_date": _l("Hire date"),
    "leave_date": _l("Leaving date"),
    "day": _l("Date"),
    "status": _l("Status"),
    "check_in_at": _l("In"),
    "check_out_at": _l("Out"),
    "absence_reason": _l("Absence reason"),
    "late_pickup": _l("Late pick-up"),
    "missing_checkout": _l("No check-out"),
    "start_at": _l("Start"),
    "end_at": _l("End"),
    "registration_no": _l("Registration number"),
    "filing_no": _l("Filing number"),
    "grade": _l("Grade"),
    "ownership": _l("Ownership"),
    "puhui_certified": _l("Certified affordable (普惠) facility"),
    "opening_time": _l("Opening time"),
    "closing_time": _l("Closing time"),
    "timezone": _l("Time zone"),
    "address": _l("Address"),
    "person": _l("Person"),
    "child_id": _l("Child"),
    "staff_id": _l("Staff member"),
    "dropped_off_by_id": _l("Brought by"),
    "picked_up_by_id": _l("Picked up by"),
}

# Fields that hold the id of another record; shown as "#id".
_REFERENCES = {"child_id", "staff_id", "dropped_off_by_id", "picked_up_by_id"}

# Fields whose stored values are enum values with a label of their own.
_ENUM_FIELDS = {
    "sex",
    "class_type",
    "care_type",
    "role",
    "status",
    "absence_reason",
    "grade",
    "ownership",
    "kind",
}
# Bookkeeping columns that say nothing to the reader.
_HIDDEN = {"id", "facility_id", "pseudonym", "recorded_by_id", "policy_profile_id"}


def name_of(table: dict[str, Any], key: str) -> str:
    """The readable name of a key, or the key itself if it has none."""
    text = table.get(key)
    return str(text) if text is not None else key


def show_value(field: str, value: Any, class_names: dict[int, str] | None = None) -> str:
    """A stored value as the reader should see it (local times, labels, class names, yes/no)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field in ("class_id", "class_ids") and class_names is not None:
        ids = value if isinstance(value, list) else [value]
        return ", ".join(class_names.get(i, f"#{i}") for i in ids)
    if field in _REFERENCES:
        return f"#{value}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if field in _ENUM_FIELDS:
        return label(value)
    if isinstance(value, str) and "T" in value:
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            return value
        if instant.tzinfo is not None:
            return local_datetime(instant)
    return str(value)


Change = tuple[str, str | None, str | None]


def changes(
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    class_names: dict[int, str] | None = None,
) -> list[Change]:
    """(field name, value before, value after) for what an entry changed; None: no side."""

    def show(key: str, value: Any) -> str:
        return show_value(key, value, class_names)

    if before and after:
        return [
            (name_of(FIELDS, k), show(k, before.get(k)), show(k, v))
            for k, v in after.items()
            if k not in _HIDDEN and before.get(k) != v
        ]
    if after:
        return [
            (name_of(FIELDS, k), None, show(k, v))
            for k, v in after.items()
            if k not in _HIDDEN and v not in (None, "", [])
        ]
    return [
        (name_of(FIELDS, k), show(k, v), None)
        for k, v in (before or {}).items()
        if k not in _HIDDEN
    ]
