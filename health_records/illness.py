"""Pure rules for illness: the syndrome a case adds up to, and clusters to report.

Cases count together only when they share a syndrome ("similar symptoms"); each cluster
rule of the policy names the syndromes it watches, the scope (one class or the whole
facility), how many cases within how many consecutive days make a cluster, and the
reporting deadline. A case of a notifiable disease is reported on its own, at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from carewatch.policy import ClusterRule, HealthPolicy

SYMPTOMS = (
    "fever",
    "cough",
    "sore_throat",
    "runny_nose",
    "diarrhoea",
    "vomiting",
    "rash",
    "mouth_ulcers",
    "red_eyes",
    "other",
)
# Diseases that must be reported at once (a short list of those seen in childcare; the
# health officer ticks "notifiable" for any other).
NOTIFIABLE = frozenset({"hfmd", "influenza", "chickenpox", "measles", "mumps", "norovirus"})


def syndrome(
    symptoms: Iterable[str], max_temperature: Decimal | None, disease: str, policy: HealthPolicy
) -> str:
    """The syndrome a case is counted under."""
    found = set(symptoms)
    if disease == "hfmd":
        return "hfmd"
    hot = max_temperature is not None and float(max_temperature) >= policy.fever_c
    very_hot = max_temperature is not None and float(max_temperature) >= policy.ili_fever_c
    respiratory = bool(found & {"cough", "sore_throat"})
    if very_hot and respiratory:
        return "influenza_like"
    if found & {"diarrhoea", "vomiting"}:
        return "gastrointestinal"
    if found & {"rash", "mouth_ulcers"}:
        return "rash"
    if "red_eyes" in found:
        return "red_eyes"
    if (hot or "fever" in found) and respiratory:
        return "fever_respiratory"
    if hot or "fever" in found:
        return "fever"
    return "other"


@dataclass(frozen=True)
class Case:
    """What cluster detection needs of one illness case."""

    id: int
    class_id: int
    onset_day: date
    syndrome: str
    notifiable: bool = False
    disease: str = ""


@dataclass(frozen=True)
class Cluster:
    """Cases that reached a reporting threshold, and when the report is due."""

    rule: str
    class_id: int | None
    syndrome: str
    case_ids: tuple[int, ...]
    first_day: date
    last_day: date
    detected_at: datetime
    report_by: datetime

    @property
    def key(self) -> str:
        """Stable identity: the same cluster found again is not a new one."""
        scope = self.class_id if self.class_id is not None else "all"
        return f"{self.rule}:{scope}:{self.syndrome}:{self.first_day.isoformat()}"


def _windows(rule: ClusterRule, cases: list[Case], now: datetime) -> Iterable[Cluster]:
    """Each run of ``rule.cases`` cases within ``rule.days`` consecutive days, oldest first."""
    cases = sorted(cases, key=lambda c: (c.onset_day, c.id))
    start = 0
    for end in range(len(cases)):
        while start < end and (cases[end].onset_day - cases[start].onset_day).days >= rule.days:
            start += 1
        if end - start + 1 >= rule.cases:
            window = cases[start : end + 1]
            yield Cluster(
                rule=rule.id,
                class_id=window[0].class_id if rule.scope == "class" else None,
                syndrome=window[0].syndrome,
                case_ids=tuple(c.id for c in window),
                first_day=window[0].onset_day,
                last_day=window[-1].onset_day,
                detected_at=now,
                report_by=now + timedelta(hours=rule.report_within_hours),
            )
            # A case belongs to one cluster of a rule: the next one is made of later cases.
            start = end + 1


def find_clusters(cases: Iterable[Case], policy: HealthPolicy, now: datetime) -> list[Cluster]:
    """Every cluster the policy's rules find among ``cases``, plus notifiable cases."""
    cases = list(cases)
    found: list[Cluster] = []
    for rule in policy.cluster_rules:
        groups: dict[tuple[int | None, str], list[Case]] = defaultdict(list)
        for case in cases:
            if "*" not in rule.syndromes and case.syndrome not in rule.syndromes:
                continue
            groups[(case.class_id if rule.scope == "class" else None, case.syndrome)].append(case)
        for key in sorted(groups, key=lambda k: (k[0] or 0, k[1])):
            found.extend(_windows(rule, groups[key], now))
    for case in cases:
        if case.notifiable:
            found.append(
                Cluster(
                    rule="notifiable",
                    class_id=case.class_id,
                    syndrome=case.disease or case.syndrome,
                    case_ids=(case.id,),
                    first_day=case.onset_day,
                    last_day=case.onset_day,
                    detected_at=now,
                    report_by=now + timedelta(hours=policy.notifiable_report_within_hours),
                )
            )
    return found
