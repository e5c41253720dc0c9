"""A check's answer as the domain packages give it to the compliance engine.

Domain packages (monitoring, the kitchen and credentials domains) may not import the edge
agent, so they return this kernel type and the engine turns it into a rule's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "warn", "fail", "unknown"]


@dataclass(frozen=True)
class Finding:
    """Status, the measured value against its threshold, evidence (no names) and why."""

    status: Status
    value: Any
    threshold: Any
    evidence: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
            "evidence": self.evidence,
            "message": self.message,
        }
