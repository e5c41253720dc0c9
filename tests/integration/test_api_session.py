"""Signing in and out through the API, with the web app's session cookie and CSRF."""

from __future__ import annotations

from facility_app.accounts.models import LoginAttempt, Role
from tests.factories import PASSWORD
from tests.integration.test_api_support import (
    API,
    ApiClient,
    error_code,
    row_counts,
)


def test_sign_in_returns_user_role_and_token_and_sign_out_ends_it(client, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    api = ApiClient(client)

    anonymous = client.get(f"{API}/session")
    assert anonymous.status_code == 200
    assert anonymous.get_json()["authenticated"] is False
    assert anonymous.get_json()["csrf_token"]
    assert api.get("/children").status_code == 401

    response = api.login(director)
    assert response.status_code == 200
    body = response.get_json()
    assert body["authenticated"] is True
    assert body["role"] == "director"
    assert body["user"]["username"] == director.username
    assert body["csrf_token"]

    who = api.get("/session").get_json()
    assert who["user"]["id"] == director.id
    assert api.get("/children").status_code == 200

    assert api.call("DELETE", f"{API}/session").status_code == 204
    assert api.get("/session").get_json()["authenticated"] is False
    assert error_code(api.get("/children")) == "not_authenticated"


def test_caregiver_session_names_their_classes(client, build, session):
    fac = build.facility()
    room = build.room(fac)
    member = build.staff(fac, classes=[room.id])
    caregiver = build.user(Role.CAREGIVER, staff=member)
    session.commit()
    body = ApiClient(client).login(caregiver).get_json()
    assert body["role"] == "caregiver"
    assert body["user"]["class_ids"] == [room.id]
    assert body["user"]["staff_id"] == member.id


def test_api_sign_in_also_opens_the_web_pages(client, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    ApiClient(client).login(director)
    assert client.get("/today").status_code == 200


def test_wrong_password_is_401_and_recorded(client, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    response = ApiClient(client).login(director, password="not the password")
    assert response.status_code == 401
    assert error_code(response) == "invalid_credentials"
    assert session.query(LoginAttempt).filter_by(success=False).count() == 1
    assert ApiClient(client).get("/session").get_json()["authenticated"] is False


def test_sign_in_is_throttled_like_the_login_page(client, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    api = ApiClient(client)
    for _ in range(5):
        assert api.login(director, password="wrong").status_code == 401
    response = api.login(director)
    assert response.status_code == 429
    assert error_code(response) == "too_many_attempts"


def test_writes_without_csrf_token_are_refused(client, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    no_token = client.post(f"{API}/session", json={"username": director.username, "password": "x"})
    assert no_token.status_code == 400
    assert error_code(no_token) == "csrf_failed"

    api = ApiClient(client)
    api.login(director)
    before = row_counts(session)
    response = client.post(
        f"{API}/children",
        json={"name": "无令牌", "sex": "male", "birth_date": "2025-01-01"},
        headers={"X-CSRFToken": "forged"},
    )
    assert response.status_code == 400
    assert error_code(response) == "csrf_failed"
    assert row_counts(session) == before


def test_sign_in_body_is_validated(client, build, session):
    build.facility()
    session.commit()
    api = ApiClient(client)
    api.refresh_token()
    response = api.post("/session", {"username": "x" * 61, "password": "", "remember": True})
    assert response.status_code == 422
    fields = {d["field"] for d in response.get_json()["error"]["details"]}
    assert fields == {"username", "password", "remember"}


def test_over_https_writes_also_need_a_same_origin_referer(app, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    client = app.test_client()
    base = "https://localhost"
    token = client.get(f"{base}{API}/session").get_json()["csrf_token"]
    body = {"username": director.username, "password": PASSWORD}
    bare = client.post(f"{base}{API}/session", json=body, headers={"X-CSRFToken": token})
    assert bare.status_code == 400
    assert error_code(bare) == "csrf_failed"
    signed_in = client.post(
        f"{base}{API}/session",
        json=body,
        headers={"X-CSRFToken": token, "Referer": f"{base}/api/v1/docs"},
    )
    assert signed_in.status_code == 200
