"""The compliance engine: the rule catalogue, snapshots, change alerts and daily figures."""

from edge_agent.compliance.base import (
    Context,
    Rule,
    RuleResult,
    Status,
    Verdict,
    register_provider,
    unregister_provider,
)
from edge_agent.compliance.daily import daily_body
from edge_agent.compliance.rules import CATALOGUE
from edge_agent.compliance.snapshot import (
    Change,
    Recorded,
    Snapshot,
    evaluate,
    evaluate_and_record,
    overall,
    record,
)

__all__ = [
    "CATALOGUE",
    "Change",
    "Context",
    "Recorded",
    "Rule",
    "RuleResult",
    "Snapshot",
    "Status",
    "Verdict",
    "daily_body",
    "evaluate",
    "evaluate_and_record",
    "overall",
    "record",
    "register_provider",
    "unregister_provider",
]
