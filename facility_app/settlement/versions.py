"""Versions of a locality's subsidy rule, each in force from the first of a month."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError, NotFound
from carewatch.policy import DEFAULT_POLICY, SubsidyRule, merge
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.facility.models import Facility, PolicyProfile
from facility_app.settlement.models import (
    Settlement,
    SubsidyPolicyVersion,
)
from facility_app.settlement.months import month_of, parse_month

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- policy versions


def rule_for_month(
    session: Session, facility: Facility, first: date
) -> tuple[SubsidyPolicyVersion | None, SubsidyRule]:
    """The subsidy rule in force on a month's first day, and its stored version if any."""
    version = session.scalar(
        select(SubsidyPolicyVersion).where(
            _profile_clause(facility.policy_profile_id),
            SubsidyPolicyVersion.effective_from <= first,
            or_(
                SubsidyPolicyVersion.effective_to.is_(None),
                SubsidyPolicyVersion.effective_to >= first,
            ),
        )
    )
    if version is None:
        return None, facility.policy().settlement.default_rule
    return version, SubsidyRule.model_validate(version.rule)


def _profile_clause(profile_id: int | None) -> Any:
    if profile_id is None:
        return SubsidyPolicyVersion.profile_id.is_(None)
    return SubsidyPolicyVersion.profile_id == profile_id


def policy_versions(session: Session, profile_id: int | None) -> list[SubsidyPolicyVersion]:
    """A profile's versions, oldest first."""
    return list(
        session.scalars(
            select(SubsidyPolicyVersion)
            .where(_profile_clause(profile_id))
            .order_by(SubsidyPolicyVersion.effective_from)
        )
    )


def _overlap(a: date, a_end: date | None, b: date, b_end: date | None) -> bool:
    return a <= (b_end or date.max) and b <= (a_end or date.max)


def add_policy_version(
    session: Session,
    actor: Actor,
    *,
    now: datetime,
    profile_key: str | None,
    effective_from: date,
    effective_to: date | None,
    rule: dict[str, Any],
    note: str = "",
) -> SubsidyPolicyVersion:
    """Add a version of a profile's subsidy rule; versions may not overlap.

    A new open-ended version after an open-ended one ends that one the day before,
    unless a month from then on was already settled under it.
    """
    actor.require(Perm.FINANCE_WRITE)
    profile_id, profile = None, None
    if profile_key:
        profile = session.scalar(select(PolicyProfile).where(PolicyProfile.key == profile_key))
        if profile is None:
            raise NotFound(
                "unknown_profile",
                "There is no locality profile %(key)s.",
                field="profile",
                key=profile_key,
            )
        profile_id = profile.id
    if effective_from.day != 1:
        raise DomainError(
            "not_month_start",
            "A subsidy rule takes effect on the first day of a month.",
            field="effective_from",
        )
    if effective_to is not None:
        if effective_to < effective_from:
            raise DomainError("period", "The end is before the start.", field="effective_to")
        if effective_to != parse_month(month_of(effective_to))[1]:
            raise DomainError(
                "not_month_end",
                "A subsidy rule ends on the last day of a month.",
                field="effective_to",
            )
    # A version names only what differs from the profile's default rule, like a profile.
    profile_policy = profile.policy() if profile_id is not None else DEFAULT_POLICY
    base = profile_policy.settlement.default_rule.model_dump(mode="json")
    try:
        parsed = SubsidyRule.model_validate(merge(base, rule))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "rule"
        raise DomainError(
            "invalid_rule",
            "The subsidy rule is invalid at %(where)s: %(problem)s",
            field="rule",
            where=where,
            problem=first["msg"],
        ) from None
    for old in policy_versions(session, profile_id):
        if not _overlap(old.effective_from, old.effective_to, effective_from, effective_to):
            continue
        if (
            old.effective_to is None
            and effective_to is None
            and old.effective_from < effective_from
        ):
            settled = session.scalar(
                select(Settlement.month).where(
                    Settlement.policy_version_id == old.id,
                    Settlement.month >= month_of(effective_from),
                )
            )
            if settled is not None:
                raise Conflict(
                    "settled_under_version",
                    "%(month)s was already settled under the version from %(start)s.",
                    field="effective_from",
                    month=settled,
                    start=old.effective_from.isoformat(),
                )
            before = audit.snapshot(old)
            old.effective_to = effective_from - timedelta(days=1)
            audit.log_change(session, actor, now, "update", "subsidy_policy", old, before=before)
            continue
        raise Conflict(
            "overlapping_policy_version",
            "The new version overlaps the version in force from %(start)s to %(end)s.",
            field="effective_from",
            start=old.effective_from.isoformat(),
            end=old.effective_to.isoformat() if old.effective_to else "—",
        )
    version = SubsidyPolicyVersion(
        profile_id=profile_id,
        effective_from=effective_from,
        effective_to=effective_to,
        rule=parsed.model_dump(mode="json"),
        note=(note or "").strip()[:200],
        created_at=now,
        created_by_id=actor.user_id,
    )
    session.add(version)
    audit.log_change(session, actor, now, "create", "subsidy_policy", version)
    return version
