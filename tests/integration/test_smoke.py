"""The app starts on a migrated database and signs a director in."""

from __future__ import annotations

from facility_app.accounts.models import Role


def test_director_signs_in_and_sees_today(client, auth, build, session):
    fac = build.facility()
    build.room(fac)
    director = build.user(Role.DIRECTOR)
    session.commit()
    response = auth.login(director)
    assert response.status_code == 302
    page = client.get("/today")
    assert page.status_code == 200
    assert "阳光托育中心" in page.get_data(as_text=True)


def test_wrong_password_is_refused(client, auth, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    response = auth.login(director, password="wrong password")
    assert response.status_code == 401
    assert client.get("/today").status_code == 302


def test_ids_beyond_the_database_range_are_not_found(client, auth, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(director)
    for url in (
        "/classes/99999999999",
        "/people/children/99999999999",
        "/api/v1/children/99999999999",
    ):
        assert client.get(url).status_code == 404


def test_language_chosen_before_sign_in_is_kept(client, build, session):
    from tests.conftest import AuthActions

    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth = AuthActions(client, language=None)
    assert "登录" in client.get("/auth/login").get_data(as_text=True)
    client.post("/auth/language/en", data={"csrf_token": auth.token()})
    auth.login(director)
    page = client.get("/today").get_data(as_text=True)
    assert "Present now" in page and "当前在园" not in page
