"""The CCTV demo: simulated cameras and a recording store that show findings."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from carewatch.db import make_engine, make_session_factory
from monitoring import compliance
from monitoring.demo import seed_cctv
from monitoring.models import RetentionState
from monitoring.service import coverage


def test_demo_seeds_cameras_store_and_results(sqlite_template, tmp_path):
    db = tmp_path / "demo.db"
    shutil.copyfile(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    session = make_session_factory(engine)()
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    try:
        made = seed_cctv(tmp_path / "data", session, now)
        session.commit()
        assert made is not None and (made.cameras, made.zones) == (5, 7)
        assert (tmp_path / "data" / "cctv-demo" / "streams" / "entrance.avi").stat().st_size > 0
        assert seed_cctv(tmp_path / "data", session, now) is None  # only once
        cov = coverage(session, now)
        assert [z.name for z in cov.zones if z.required and not z.covered] == ["户外活动区"]
        assert cov.totals["healthy"] == 4 and cov.totals["unhealthy"] == 1
        finding = compliance.coverage_finding(session, now)
        assert (finding.status, finding.value, finding.threshold) == ("fail", 5, 6)
        states = {s.camera_id: s for s in session.query(RetentionState)}
        gaps = {cid: len(s.gaps) for cid, s in states.items()}
        assert sorted(gaps.values()) == [0, 0, 0, 0, 1]
        assert compliance.retention_finding(session, now).status == "fail"
    finally:
        session.close()
        engine.dispose()
