"""Evaluate the whole catalogue, store the snapshot and report what changed.

Overall status: ``fail`` if any rule fails; otherwise ``unknown`` if any rule could not be
checked (an unchecked rule may hide a failure, so it outranks a warning); otherwise
``warn`` if any rule warns; otherwise ``pass``.

:func:`record` runs in the caller's transaction: the snapshot row, the rule states, the
local alerts and the reports in the outbox are committed together or not at all.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carewatch.reports import Kind, format_time
from edge_agent.compliance.base import Context, Provider, Rule, RuleResult, Status, run
from edge_agent.compliance.rules import CATALOGUE
from edge_agent.models import ComplianceRuleState, ComplianceSnapshot
from edge_agent.outbox import OutboxFull
from facility_app.alerts.models import AlertKind, Severity
from facility_app.alerts.service import raise_alert
from facility_app.facility.models import Facility

log = logging.getLogger(__name__)

# Queues one report in the session's transaction; edge_agent.reporter.Reporter is one.
Publish = Callable[[Session, Kind, dict[str, Any], datetime], Any]

_ORDER = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.PASS)
_SEVERITY = {
    Status.FAIL: Severity.CRITICAL,
    Status.WARN: Severity.WARNING,
    Status.UNKNOWN: Severity.WARNING,
    Status.PASS: Severity.INFO,
}


@dataclass(frozen=True)
class Snapshot:
    """One evaluation of the catalogue for a facility."""

    facility_id: int
    made_at: datetime
    results: tuple[RuleResult, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many rules have each status (every status listed, zeros included)."""
        found = Counter(r.status for r in self.results)
        return {s.value: found[s] for s in Status}

    @property
    def overall(self) -> Status:
        """fail > unknown > warn > pass (see the module documentation)."""
        return overall([r.status for r in self.results])

    def body(self) -> dict[str, Any]:
        """The ``compliance`` report body: counts, statuses and ids only."""
        return {
            "overall": self.overall.value,
            "counts": self.counts,
            "rules": [
                {k: v for k, v in r.as_report().items() if k != "message"} for r in self.results
            ],
        }


@dataclass(frozen=True)
class Change:
    """A rule whose status changed (``before`` is None the first time a rule is seen)."""

    rule_id: str
    before: Status | None
    after: Status
    at: datetime
    message: str

    def body(self) -> dict[str, Any]:
        """The ``alerts`` report body."""
        return {
            "rule": self.rule_id,
            "from": self.before.value if self.before else None,
            "to": self.after.value,
            "at": format_time(self.at),
            "message": self.message,
        }


def overall(statuses: Iterable[Status]) -> Status:
    """The combined status of several results; no results at all is ``unknown``."""
    present = set(statuses)
    for status in _ORDER:
        if status in present:
            return status
    return Status.UNKNOWN


def evaluate(
    session: Session,
    facility: Facility,
    now: datetime,
    *,
    rules: Iterable[Rule] = CATALOGUE,
    providers: Mapping[str, Provider] | None = None,
) -> Snapshot:
    """Evaluate every rule now; a rule that fails to run is ``unknown``, never a pass."""
    ctx = Context.for_facility(session, facility, now, providers)
    return Snapshot(facility.id, now, tuple(run(rule, ctx) for rule in rules))


def _alerted(before: Status | None, after: Status) -> bool:
    # The first evaluation of a rule alerts only when there is something to act on.
    return before is not None or after in (Status.FAIL, Status.WARN)


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` stored: the snapshot with each ``since``, the changes, the row."""

    snapshot: Snapshot
    changes: list[Change]
    row: ComplianceSnapshot


def record(session: Session, snapshot: Snapshot, *, now: datetime, publish: Publish) -> Recorded:
    """Store the snapshot and rule states, alert on every status change, queue the reports.

    The returned snapshot has each rule's ``since`` filled in. A rule
    keeps its ``since`` while its status stays the same. Each change raises a local
    alert and queues an ``alerts`` report; ``OutboxFull`` for one of those propagates (the
    job retries on its next run and finds the same change). The snapshot is queued as a
    ``compliance`` report; when the outbox holds compliance reports back it is kept locally
    only, with no report number.
    """
    states = {s.rule_id: s for s in session.scalars(select(ComplianceRuleState))}
    results: list[RuleResult] = []
    changes: list[Change] = []
    for result in snapshot.results:
        state = states.get(result.rule_id)
        before = Status(state.status) if state is not None else None
        if state is None:
            state = ComplianceRuleState(rule_id=result.rule_id, since=now)
            session.add(state)
        elif before != result.status:
            state.since = now
        if before != result.status and _alerted(before, result.status):
            changes.append(Change(result.rule_id, before, result.status, now, result.message))
        state.status = result.status.value
        state.evaluated_at = now
        result = replace(result, since=state.since)
        state.result = result.as_report()
        results.append(result)
    snapshot = replace(snapshot, results=tuple(results))
    row = ComplianceSnapshot(
        made_at=now,
        overall=snapshot.overall.value,
        results=[r.as_report() for r in results],
        report_seq=None,
    )
    session.add(row)
    for change in changes:
        _alert(session, snapshot.facility_id, change)
        publish(session, Kind.ALERTS, change.body(), now)
    try:
        report = publish(session, Kind.COMPLIANCE, snapshot.body(), now)
    except OutboxFull as exc:
        log.warning("compliance snapshot kept locally only: %s", exc)
    else:
        row.report_seq = report.seq
    session.flush()
    return Recorded(snapshot, changes, row)


def _alert(session: Session, facility_id: int, change: Change) -> None:
    raise_alert(
        session,
        facility_id=facility_id,
        kind=AlertKind.COMPLIANCE_CHANGE,
        severity=_SEVERITY[change.after],
        now=change.at,
        params={
            "rule": change.rule_id,
            "from": change.before.value if change.before else "",
            "to": change.after.value,
        },
        # One alert per rule and change: a job retried at the same instant adds none.
        dedup_key=f"compliance:{change.rule_id}:{change.after.value}:{change.at.isoformat()}",
    )


def evaluate_and_record(
    session: Session, facility: Facility, now: datetime, publish: Publish
) -> str:
    """Evaluate the catalogue and record it in the caller's transaction; return the overall."""
    done = record(session, evaluate(session, facility, now), now=now, publish=publish)
    if done.changes:
        log.info(
            "compliance changes: %s",
            ", ".join(f"{c.rule_id} {c.before} -> {c.after}" for c in done.changes),
        )
    return done.snapshot.overall.value
