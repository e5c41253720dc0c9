"""Helpers shared by the API and authorisation tests (this module holds no tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import edge_agent.models  # noqa: F401  (complete metadata for row counts)
import facility_app.models  # noqa: F401  (complete metadata for row counts)
import monitoring.models  # noqa: F401  (complete metadata for row counts)
from carewatch.db import Base
from carewatch.policy import ClassType
from facility_app.accounts.models import Role, User
from facility_app.children.models import Child
from facility_app.facility.models import ClassRoom, Facility
from facility_app.staff.models import Staff
from tests.factories import PASSWORD, Builder

API = "/api/v1"
# 18 and 30 months old at T0 (2026-03-10): a toddler and an older toddler.
TODDLER_BIRTH = date(2024, 9, 1)
OLDER_BIRTH = date(2023, 9, 1)


class ApiClient:
    """A test client that signs in through the API and sends the CSRF header on writes."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token: str | None = None

    def refresh_token(self) -> str:
        """Ask the API for the session's CSRF token."""
        self.token = self.client.get(f"{API}/session").get_json()["csrf_token"]
        return self.token

    def login(self, user: User | str, password: str = PASSWORD) -> Any:
        """Sign in with POST /session; keep the new session's token."""
        username = user if isinstance(user, str) else user.username
        self.refresh_token()
        response = self.call("POST", f"{API}/session", {"username": username, "password": password})
        if response.status_code == 200:
            self.token = response.get_json()["csrf_token"]
        return response

    def call(self, method: str, url: str, json: Any = None, **kw: Any) -> Any:
        """Any request, with the CSRF header when a token is known."""
        headers = dict(kw.pop("headers", {}))
        if self.token is not None:
            headers.setdefault("X-CSRFToken", self.token)
        return self.client.open(url, method=method, json=json, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        """GET an API path."""
        return self.call("GET", API + path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> Any:
        """POST JSON to an API path."""
        return self.call("POST", API + path, json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> Any:
        """PATCH JSON to an API path."""
        return self.call("PATCH", API + path, json, **kw)


def row_counts(session: Session) -> dict[str, int]:
    """Rows per table, read in a fresh transaction so the app's commits are visible."""
    session.commit()
    counts = {
        t.name: session.execute(select(func.count()).select_from(t)).scalar_one()
        for t in Base.metadata.sorted_tables
    }
    session.commit()
    return counts


def error_code(response: Any) -> str:
    """The ``error.code`` of an API answer."""
    body = response.get_json(silent=True) or {}
    return str(body.get("error", {}).get("code"))


def error_fields(response: Any) -> set[str]:
    """The fields named in a 422's details."""
    body = response.get_json(silent=True) or {}
    return {d["field"] for d in body.get("error", {}).get("details", [])}


@dataclass
class World:
    """Two classes, a child in each, a caregiver for each and a user of every role."""

    fac: Facility
    room_a: ClassRoom
    room_b: ClassRoom
    child_a: Child
    child_b: Child
    staff_a: Staff
    staff_b: Staff
    users: dict[Role, User] = field(default_factory=dict)

    @property
    def caregiver(self) -> User:
        """The caregiver of class A."""
        return self.users[Role.CAREGIVER]


def build_world(build: Builder, session: Session) -> World:
    """Create and commit the shared data: class A (toddlers) and class B (older toddlers)."""
    fac = build.facility()
    room_a = build.room(fac, ClassType.TODDLER, name="小一班")
    room_b = build.room(fac, ClassType.OLDER, name="大一班")
    child_a = build.child(fac, room_a, birth_date=TODDLER_BIRTH, name="王小明")
    child_b = build.child(fac, room_b, birth_date=OLDER_BIRTH, name="李小红")
    staff_a = build.staff(fac, classes=[room_a.id], name="张老师")
    staff_b = build.staff(fac, classes=[room_b.id], name="陈老师")
    users = {
        Role.ADMIN: build.user(Role.ADMIN),
        Role.DIRECTOR: build.user(Role.DIRECTOR),
        Role.CAREGIVER: build.user(Role.CAREGIVER, staff=staff_a),
        Role.HEALTH_OFFICER: build.user(Role.HEALTH_OFFICER),
        Role.REGULATOR: build.user(Role.REGULATOR),
    }
    session.commit()
    return World(fac, room_a, room_b, child_a, child_b, staff_a, staff_b, users)
