"""How rule statuses combine into the overall status, and the shape of the report bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from edge_agent.compliance import CATALOGUE, Change, RuleResult, Snapshot, Status, overall

P, W, F, U = Status.PASS, Status.WARN, Status.FAIL, Status.UNKNOWN
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([P, P], P),
        ([P, W], W),
        ([W, U], U),  # a rule that could not be checked may hide a failure
        ([P, U], U),
        ([U, F, W], F),
        ([F], F),
        ([], U),  # nothing checked is not a pass
    ],
)
def test_overall_status(statuses: list[Status], expected: Status) -> None:
    assert overall(statuses) is expected


def test_snapshot_counts_and_body() -> None:
    results = (
        RuleResult("a", P, "ok", 0, 0, {"classes": []}, NOW),
        RuleResult("b", W, "hm", 1, 0, {}, NOW),
        RuleResult("c", U, "module not installed"),
    )
    snap = Snapshot(1, NOW, results)
    assert snap.overall is U
    assert snap.counts == {"pass": 1, "warn": 1, "fail": 0, "unknown": 1}
    body = snap.body()
    assert body["overall"] == "unknown"
    assert body["rules"][0] == {
        "id": "a",
        "status": "pass",
        "value": 0,
        "threshold": 0,
        "evidence": {"classes": []},
        "since": "2026-03-10T01:00:00.000Z",
    }
    assert body["rules"][2]["since"] is None


def test_change_body() -> None:
    change = Change("class.ratio", P, F, NOW, "1 class(es) out of ratio now")
    assert change.body() == {
        "rule": "class.ratio",
        "from": "pass",
        "to": "fail",
        "at": "2026-03-10T01:00:00.000Z",
        "message": "1 class(es) out of ratio now",
    }


def test_catalogue_ids_are_unique_and_cover_the_design() -> None:
    ids = [r.id for r in CATALOGUE]
    assert len(ids) == len(set(ids)) == 23
    assert {"class.size", "class.ratio", "cctv.retention_forecast", "fees.cap"} <= set(ids)
