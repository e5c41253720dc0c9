"""Every role against every endpoint of the web app and the API, following
``facility_app.accounts.permissions.MATRIX``; plus a caregiver reaching into another class.

The test walks ``app.url_map``, so endpoints added later are covered without editing it:
an endpoint that is not wrapped by ``require`` fails, and so does a URL parameter this file
cannot fill (add it to ``PARAMS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.routing import Rule

from facility_app import create_app
from facility_app.accounts.models import Role
from facility_app.accounts.permissions import MATRIX, SYSTEM, Perm
from facility_app.alerts.models import Alert
from facility_app.attendance import service as attendance
from facility_app.attendance.models import AttendanceRecord
from facility_app.credentials import service as credentials
from facility_app.staff import service as staff_service
from monitoring import registry as cctv_registry
from monitoring.models import Camera, ProbeState, Zone
from tests.conftest import T0
from tests.integration.test_api_support import (
    API,
    ApiClient,
    World,
    build_world,
    error_code,
    row_counts,
)

#: Endpoints deliberately open to anyone, each with the reason.
PUBLIC: dict[str, str] = {
    "static": "stylesheets and scripts",
    "healthz": "liveness probe",
    "auth.login": "the sign-in page",
    "auth.logout": "signing out (login_required, no permission)",
    "auth.language": "choosing the interface language",
    "dashboard.home": "sends each signed-in role to its start page, anonymous to sign-in",
    "api.get_session": "tells a client whether it is signed in, hands out a CSRF token",
    "api.create_session": "signing in through the API",
    "api.delete_session": "signing out through the API",
    "api.openapi_document": "the API's description",
    "api.docs_page": "the API's description as a page",
    "public.notice": "the public information page: the week's menu and meal-fee accounts",
}

ANONYMOUS = None
ROLES: list[Role | None] = [*Role, ANONYMOUS]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class Data:
    """The world plus the records whose ids the URLs need."""

    world: World
    record_a: AttendanceRecord
    record_b: AttendanceRecord
    alert_a: Alert
    certificate_id: int
    camera: Camera
    zone: Zone


#: The value filled in for each URL parameter: always something the caregiver of class A
#: may reach, so that every allowed role gets a 200.
PARAMS: dict[str, Callable[[Data], int]] = {
    "class_id": lambda d: d.world.room_a.id,
    "child_id": lambda d: d.world.child_a.id,
    "staff_id": lambda d: d.world.staff_a.id,
    "record_id": lambda d: d.record_a.id,
    "alert_id": lambda d: d.alert_a.id,
    "guardian_id": lambda d: d.world.child_a.guardians[0].id,
    "enrolment_id": lambda d: d.world.child_a.enrolments[0].id,
    "user_id": lambda d: d.world.users[Role.CAREGIVER].id,
    # Only a POST takes a nap id; it is refused or its body invalid before the nap is looked up.
    "nap_id": lambda d: 1,
    "certificate_id": lambda d: d.certificate_id,
    "camera_id": lambda d: d.camera.id,
    "zone_id": lambda d: d.zone.id,
}

#: The same parameters pointing into class B, which the caregiver of class A may not reach.
CROSS_CLASS: dict[str, Callable[[Data], int]] = {
    "class_id": lambda d: d.world.room_b.id,
    "child_id": lambda d: d.world.child_b.id,
    "record_id": lambda d: d.record_b.id,
    "guardian_id": lambda d: d.world.child_b.guardians[0].id,
    "enrolment_id": lambda d: d.world.child_b.enrolments[0].id,
}

#: Allowed-role answers other than 200, with the reason (none needed so far).
ALLOWED_STATUS: dict[str, int] = {}


# --- helpers ----------------------------------------------------------------------------


def _is_api(rule: Rule) -> bool:
    return rule.rule.startswith(API + "/")


def _methods(rule: Rule) -> set[str]:
    return set(rule.methods or ()) - {"HEAD", "OPTIONS"}


def _guarded_rules(app: Any) -> Iterator[tuple[Rule, Perm]]:
    """Every rule that must be authorised, with the permission its view requires."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        view = app.view_functions[rule.endpoint]
        yield rule, view.required_permission


def _url(rule: Rule, data: Data, values: dict[str, Callable[[Data], int]] = PARAMS) -> str:
    args = {}
    for name in sorted(rule.arguments - set(rule.defaults or {})):
        if name not in values and name not in PARAMS:
            pytest.fail(
                f"{rule.endpoint} ({rule.rule}) needs URL parameter {name!r}: add it to PARAMS"
            )
        args[name] = (values.get(name) or PARAMS[name])(data)
    built = rule.build(args, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule} from {args}"
    return built[1]


def _expected(rule: Rule, perm: Perm, role: Role | None) -> int:
    if role is None:
        return 401 if _is_api(rule) else 302
    if role not in MATRIX[perm]:
        return 403
    return ALLOWED_STATUS.get(rule.endpoint, 200)


def _request(client: ApiClient, method: str, url: str, *, api: bool, body: Any = None) -> Any:
    if method == "GET":
        return client.call("GET", url)
    if api:
        return client.call(method, url, {} if body is None else body)
    return client.call(method, url, data=body or {})


@pytest.fixture
def data(build, session, clock) -> Data:
    """Both classes have a child checked in (raising ratio alerts) and class B a caregiver
    on duty."""
    world = build_world(build, session)
    record_a = attendance.check_in(
        session, SYSTEM, world.fac, world.child_a, now=T0,
        dropped_off_by_id=world.child_a.guardians[0].id,
    )  # fmt: skip
    record_b = attendance.check_in(
        session, SYSTEM, world.fac, world.child_b, now=T0,
        dropped_off_by_id=world.child_b.guardians[0].id,
    )  # fmt: skip
    staff_service.clock_in(session, SYSTEM, world.fac, world.staff_b, world.room_b.id, now=T0)
    alert_a = session.query(Alert).filter_by(class_id=world.room_a.id).first()
    assert alert_a is not None
    certificate = credentials.add_certificate(
        session, SYSTEM, world.fac, world.staff_a.id, now=T0, kind="teacher", number="T-1",
        valid_from=T0.date(), expires_on=None, scan=b"%PDF-1.4", scan_type="application/pdf",
    )  # fmt: skip
    zone = cctv_registry.save_zone(session, name="大门", kind="entrance")
    camera = cctv_registry.save_camera(
        session, name="door", stream_url="rtsp://u:p@127.0.0.1:9/x", zone_ids=[zone.id]
    )
    session.add(  # a stored probe with a frame, so the thumbnail answers 200
        ProbeState(camera_id=camera.id, at=T0, status="ok", health="healthy",
                   thumbnail=b"\xff\xd8\xff\xd9")
    )  # fmt: skip
    session.commit()
    return Data(world, record_a, record_b, alert_a, certificate.id, camera, zone)


@pytest.fixture
def clients(app, data) -> dict[Role | None, ApiClient]:
    """One client per role, signed in, and an anonymous one holding a CSRF token."""
    out: dict[Role | None, ApiClient] = {}
    for role in ROLES:
        api = ApiClient(app.test_client())
        if role is None:
            api.refresh_token()
        else:
            assert api.login(data.world.users[role]).status_code == 200, role
        out[role] = api
    return out


# --- every endpoint is authorised -------------------------------------------------------


def test_every_endpoint_requires_a_permission_or_is_listed_public():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "t"})
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    unguarded = []
    for endpoint in sorted(endpoints - set(PUBLIC)):
        perm = getattr(app.view_functions[endpoint], "required_permission", None)
        if not isinstance(perm, Perm) or perm not in MATRIX:
            unguarded.append(endpoint)
    assert not unguarded, f"endpoints not wrapped by require(Perm.X): {unguarded}"
    stale = set(PUBLIC) - endpoints
    assert not stale, f"PUBLIC lists endpoints that no longer exist: {stale}"
    assert sum(1 for e in endpoints if e.startswith("api.")) >= 30


def test_every_role_gets_what_the_matrix_says_on_every_page_and_api_read(app, clients, data):
    failures = []
    checked = 0
    for rule, perm in _guarded_rules(app):
        if "GET" not in _methods(rule):
            continue
        url = _url(rule, data)
        for role in ROLES:
            response = clients[role].call("GET", url)
            want = _expected(rule, perm, role)
            got = response.status_code
            checked += 1
            if got != want:
                failures.append(f"GET {url} as {role}: {got}, expected {want} ({perm})")
            elif want == 302:
                if not response.location.startswith("/auth/login"):
                    failures.append(f"GET {url} anonymous goes to {response.location}")
            elif want in (401, 403) and _is_api(rule):
                code = "not_authenticated" if want == 401 else "forbidden"
                if error_code(response) != code:
                    failures.append(f"GET {url} as {role}: code {error_code(response)}")
    assert not failures, "\n".join(failures)
    assert checked >= 6 * 30


def test_forbidden_writes_are_refused_and_write_nothing(app, clients, data, session):
    failures = []
    for rule, perm in _guarded_rules(app):
        for method in sorted(_methods(rule) & WRITE_METHODS):
            url = _url(rule, data)
            api = _is_api(rule)
            for role in ROLES:
                want = _expected(rule, perm, role)
                if want == 200:
                    continue
                before = row_counts(session)
                response = _request(clients[role], method, url, api=api)
                if response.status_code != want:
                    failures.append(f"{method} {url} as {role}: {response.status_code}")
                if row_counts(session) != before:
                    failures.append(f"{method} {url} as {role} wrote rows")
    assert not failures, "\n".join(failures)


def test_allowed_roles_pass_the_permission_gate_on_api_writes(app, clients, data, session):
    # A body that cannot be valid proves the request got past require() to validation.
    failures = []
    before = row_counts(session)
    for rule, perm in _guarded_rules(app):
        if not _is_api(rule):
            continue
        for method in sorted(_methods(rule) & WRITE_METHODS):
            op_has_body = method in {"POST", "PATCH"} and rule.endpoint != "api.ack_alert"
            if not op_has_body:
                continue
            for role in sorted(MATRIX[perm]):
                response = clients[role].call(method, _url(rule, data), [])
                if response.status_code != 422 or error_code(response) != "invalid_input":
                    failures.append(f"{method} {rule.rule} as {role}: {response.status_code}")
    assert not failures, "\n".join(failures)
    assert row_counts(session) == before


# --- a caregiver reaching into another class --------------------------------------------


def test_caregiver_reads_of_another_class_are_refused_everywhere(app, clients, data):
    caregiver = clients[Role.CAREGIVER]
    secrets = [data.world.child_b.name, data.world.child_b.pseudonym, data.world.room_b.name]
    failures = []
    for rule, perm in _guarded_rules(app):
        scoped = rule.arguments & set(CROSS_CLASS)
        if "GET" not in _methods(rule) or not scoped or Role.CAREGIVER not in MATRIX[perm]:
            continue
        url = _url(rule, data, CROSS_CLASS)
        response = caregiver.call("GET", url)
        # Pages answer a refused record with a flashed error and a redirect (errors.py).
        allowed = {403, 404} if _is_api(rule) else {303, 403, 404}
        body = response.get_data(as_text=True)
        if response.status_code not in allowed:
            failures.append(f"GET {url}: {response.status_code}")
        leaked = [s for s in secrets if s in body]
        if leaked:
            failures.append(f"GET {url} shows {leaked}")
    assert not failures, "\n".join(failures)


def test_caregiver_lists_show_only_their_class(clients, data):
    caregiver, world = clients[Role.CAREGIVER], data.world
    assert [c["id"] for c in caregiver.get("/classes").get_json()["items"]] == [world.room_a.id]
    assert [c["id"] for c in caregiver.get("/children").get_json()["items"]] == [world.child_a.id]
    door = caregiver.get("/attendance").get_json()["items"]
    assert [r["child"]["id"] for r in door] == [world.child_a.id]
    assert caregiver.get("/duty").get_json()["items"] == []  # only class B has someone on duty
    refused = caregiver.get(f"/attendance?class_id={world.room_b.id}")
    assert refused.status_code == 403
    assert error_code(refused) == "class_not_assigned"
    assert caregiver.get(f"/classes/{world.room_b.id}/breaches").status_code == 403
    page = caregiver.call("GET", f"/attendance/?class_id={world.room_b.id}")
    assert page.status_code in (403, 404)
    assert world.child_b.name not in page.get_data(as_text=True)


def _cross_class_writes(data: Data) -> list[tuple[str, str, dict[str, Any], set[int], str]]:
    world = data.world
    b, guardian_b = world.child_b, world.child_b.guardians[0].id
    room_b = world.room_b.id
    fixed = {"check_out_at": "2026-03-10T09:00:00+08:00"}
    return [
        ("POST", f"{API}/attendance/check-in", {"child_id": b.id, "dropped_off_by_id": guardian_b},
         {404}, "child_not_found"),
        ("POST", f"{API}/attendance/check-out", {"child_id": b.id, "picked_up_by_id": guardian_b},
         {404}, "child_not_found"),
        ("POST", f"{API}/attendance/check-out", {"child_id": b.id, "other_person": "某人"},
         {404}, "child_not_found"),
        ("POST", f"{API}/attendance/absence", {"child_id": b.id, "reason": "illness"},
         {404}, "child_not_found"),
        ("PATCH", f"{API}/attendance/{data.record_b.id}", fixed, {403}, "class_not_assigned"),
        ("POST", f"{API}/duty/clock-in", {"staff_id": world.staff_a.id, "class_id": room_b},
         {403}, "class_not_assigned"),
        ("POST", f"{API}/duty/clock-out", {"staff_id": world.staff_b.id},
         {403}, "class_not_assigned"),
    ]  # fmt: skip


def test_caregiver_cannot_check_in_or_out_a_child_of_another_class(clients, data, session):
    caregiver = clients[Role.CAREGIVER]
    for method, url, body, statuses, code in _cross_class_writes(data):
        before = row_counts(session)
        response = caregiver.call(method, url, body)
        assert response.status_code in statuses, (method, url, response.get_json())
        assert error_code(response) == code, (method, url)
        assert data.world.child_b.name not in response.get_data(as_text=True)
        assert row_counts(session) == before, f"{method} {url} wrote rows"
    session.refresh(data.record_b)
    assert data.record_b.check_out_at is None


def test_caregiver_cannot_use_the_door_pages_on_another_class(clients, data, session):
    caregiver, b = clients[Role.CAREGIVER], data.world.child_b
    guardian = b.guardians[0].id
    for url, form in [
        ("/attendance/check-in", {"child_id": b.id, "guardian_id": guardian}),
        ("/attendance/check-out", {"child_id": b.id, "guardian_id": guardian}),
        ("/attendance/check-out", {"child_id": b.id, "other_person": "某人"}),
        ("/attendance/absent", {"child_id": b.id, "reason": "illness"}),
    ]:
        before = row_counts(session)
        response = caregiver.call("POST", url, data=form)
        assert response.status_code in (303, 403, 404), url
        assert row_counts(session) == before, f"POST {url} wrote rows"
