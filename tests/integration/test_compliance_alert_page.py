"""A compliance change shows on the director's alerts page in the chosen language."""

from __future__ import annotations

from datetime import date

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from carewatch.policy import ClassType
from edge_agent.compliance import evaluate, record
from edge_agent.reporter import Reporter
from tests.conftest import T0
from tests.integration.management_support import signed_in_director, text


def test_director_sees_the_compliance_change(client, auth, build, session):
    s = signed_in_director(build, session, auth)
    small = build.room(s.fac, ClassType.TODDLER, capacity=1, name="托小二班")
    for _ in range(2):
        build.child(s.fac, small, birth_date=date(2025, 1, 5))
    session.commit()
    publish = Reporter(
        key=Ed25519PrivateKey.generate(), facility="F1", prefix="carewatch/v1", limit=100
    )
    done = record(session, evaluate(session, s.fac, T0, providers={}), now=T0, publish=publish)
    session.commit()
    [change] = done.changes
    page = text(client.get("/alerts/"))
    open_part = page.split('id="open-alerts"', 1)[1].split("</ul>", 1)[0]
    assert "Compliance check class.size changed from Not evaluated to Fail." in open_part
    assert 'class="alert-critical"' in open_part
    assert change.rule_id == "class.size"
