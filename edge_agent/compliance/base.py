"""The rule protocol, its result, the evaluation context and the provider seam.

A rule that cannot run is reported ``unknown`` with the reason, never ``pass``: a rule
that raises is caught (inside a savepoint, so the rest of the evaluation carries on) and
a rule whose module is not installed reports ``unknown`` until a provider is plugged in.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.policy import Policy
from carewatch.reports import format_time
from facility_app.facility.models import ClassRoom, Facility
from facility_app.facility.service import today

log = logging.getLogger(__name__)


class Status(enum.StrEnum):
    """A rule's verdict; ``unknown`` means the check could not be made."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Verdict:
    """What a check found, before it is attributed to a rule.

    ``evidence`` holds facts only: class ids, camera ids, counts and times. Never a
    child's or guardian's name or ID number, because it is reported to the regulator.
    """

    status: Status
    message: str
    value: Any = None
    threshold: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Any) -> Verdict:
        """A domain package's finding (status, value, threshold, evidence, message)."""
        return cls(
            status=Status(str(getattr(found.status, "value", found.status))),
            message=found.message,
            value=found.value,
            threshold=found.threshold,
            evidence=dict(found.evidence),
        )


@dataclass(frozen=True)
class RuleResult:
    """One rule's result; ``since`` is filled in from the stored state when recorded."""

    rule_id: str
    status: Status
    message: str
    value: Any = None
    threshold: Any = None
    evidence: dict[str, Any] = field(default_factory=dict)
    since: datetime | None = None

    def as_report(self) -> dict[str, Any]:
        """The rule's entry in the compliance report and the local snapshot."""
        return {
            "id": self.rule_id,
            "status": self.status.value,
            "value": self.value,
            "threshold": self.threshold,
            "evidence": self.evidence,
            "since": format_time(self.since) if self.since else None,
            "message": self.message,
        }


# A provider evaluates one rule for a module that lives outside this package (the
# monitoring package for cctv.*, later health records, kitchen, fees).
Provider = Callable[["Context"], Verdict]
_providers: dict[str, Provider] = {}


def register_provider(rule_id: str, provider: Provider) -> None:
    """Plug in the check for a rule whose module is installed (e.g. ``cctv.coverage``)."""
    _providers[rule_id] = provider


def unregister_provider(rule_id: str) -> None:
    """Remove a plugged-in check; the rule reports ``unknown`` again."""
    _providers.pop(rule_id, None)


def registered_providers() -> dict[str, Provider]:
    """The checks plugged in so far."""
    return dict(_providers)


@dataclass
class Context:
    """What a rule sees: the session, the facility, the moment and the policy in force."""

    session: Session
    facility: Facility
    now: datetime
    policy: Policy
    providers: Mapping[str, Provider] = field(default_factory=registered_providers)
    # Results several rules share within one evaluation (one summary for four staff rules).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for in this evaluation."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    @classmethod
    def for_facility(
        cls,
        session: Session,
        facility: Facility,
        now: datetime,
        providers: Mapping[str, Provider] | None = None,
    ) -> Context:
        """A context with the facility's own policy."""
        return cls(
            session,
            facility,
            now,
            facility.policy(),
            registered_providers() if providers is None else providers,
        )

    @cached_property
    def day(self) -> date:
        """The facility's calendar date now."""
        return today(self.facility, self.now)

    @cached_property
    def rooms(self) -> list[ClassRoom]:
        """The facility's active classes, in id order."""
        return list(
            self.session.scalars(
                select(ClassRoom)
                .where(ClassRoom.facility_id == self.facility.id, ClassRoom.active.is_(True))
                .order_by(ClassRoom.id)
            )
        )


class Rule(Protocol):
    """A compliance rule: an id, the clause it comes from, a title and its check."""

    id: str
    clause: str
    title: str

    def evaluate(self, ctx: Context) -> RuleResult:
        """Check the rule now."""
        ...


@dataclass(frozen=True)
class CheckRule:
    """A rule whose check is a function of the context."""

    id: str
    clause: str
    title: str
    check: Callable[[Context], Verdict]

    def evaluate(self, ctx: Context) -> RuleResult:
        """Run the check and attribute its verdict to this rule."""
        return attribute(self.id, self.check(ctx))


@dataclass(frozen=True)
class ProvidedRule:
    """A rule checked by another package's provider; ``unknown`` while none is plugged in."""

    id: str
    clause: str
    title: str
    missing: str = "module not installed"

    def evaluate(self, ctx: Context) -> RuleResult:
        """Ask the provider, or report that the check cannot be made."""
        provider = ctx.providers.get(self.id)
        if provider is None:
            return RuleResult(self.id, Status.UNKNOWN, self.missing)
        return attribute(self.id, provider(ctx))


def attribute(rule_id: str, verdict: Verdict) -> RuleResult:
    """A verdict as the result of a rule."""
    return RuleResult(
        rule_id=rule_id,
        status=Status(verdict.status),
        message=verdict.message,
        value=verdict.value,
        threshold=verdict.threshold,
        evidence=verdict.evidence,
    )


def run(rule: Rule, ctx: Context) -> RuleResult:
    """Evaluate one rule; a rule that raises is ``unknown`` with the reason, never a pass."""
    try:
        # The savepoint keeps a failed query from poisoning the caller's transaction
        # (PostgreSQL refuses every statement after an error until a rollback).
        with ctx.session.begin_nested():
            return rule.evaluate(ctx)
    except Exception as exc:
        log.exception("compliance rule %s could not be evaluated", rule.id)
        # Only the exception's type leaves the facility: its text may quote a record.
        return RuleResult(rule.id, Status.UNKNOWN, f"check failed: {type(exc).__name__}")
