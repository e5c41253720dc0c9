"""What the door says about a child's missing admission paperwork, in the person's language.

The door never turns a child away for missing paperwork: check-in succeeds and these
warnings tell the caregiver what to ask the family for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import gettext as _

from health_records.admission import AdmissionStatus

log = logging.getLogger(__name__)

#: Missing doses named in a door message; the rest are counted.
SHOWN_DOSES = 3


@dataclass(frozen=True)
class DoorWarning:
    """One warning: a stable code for programs and a sentence for the caregiver."""

    code: str
    message: str


def flash_text(child_name: str, warning: DoorWarning) -> str:
    """The flashed line: whose file it is, and what to ask for."""
    return _("%(child)s: %(warning)s", child=child_name, warning=warning.message)


def door_warnings(status: AdmissionStatus) -> list[DoorWarning]:
    """The warnings of one child's admission standing, most urgent first."""
    out = []
    for code in status.warnings:
        if code == "admission_exam_missing":
            msg = _(
                "No admission health exam on file: ask the family to hand in the exam form first."
            )
        elif code == "admission_exam_too_old":
            msg = _(
                "The admission exam was taken too long before the first day: a new exam is needed."
            )
        elif code == "admission_exam_not_fit":
            msg = _("The admission exam found the child not fit: check with the health officer.")
        elif code == "vaccinations_missing":
            names = [
                _("%(name)s dose %(n)s", name=d.dose.name, n=d.dose.dose)
                for d in status.missing_doses
            ]
            shown = "、".join(names[:SHOWN_DOSES])
            if len(names) > SHOWN_DOSES:
                # A door message stays short; the record lists every dose.
                shown = _("%(list)s and %(n)s more", list=shown, n=len(names) - SHOWN_DOSES)
            msg = _(
                "Vaccinations missing for the child's age: %(list)s. Check the vaccination "
                "certificate.",
                list=shown,
            )
        else:
            msg = _(
                "Back after %(days)s days away: ask the family for a new health exam form.",
                days=status.away_days,
            )
        out.append(DoorWarning(code, msg))
    return out
