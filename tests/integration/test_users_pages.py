"""Account administration and password changes."""

from __future__ import annotations

from sqlalchemy import select

from facility_app.accounts.models import Role, User
from facility_app.accounts.service import verify_password
from facility_app.audit.models import AuditEntry
from tests.factories import PASSWORD


def test_admin_creates_a_caregiver_account(client, auth, build, session):
    fac = build.facility()
    room = build.room(fac)
    carer = build.staff(fac, classes=[room.id], name="李老师")
    admin = build.user(Role.ADMIN)
    session.commit()
    auth.login(admin)
    form = {
        "username": "li",
        "display_name": "李老师",
        "role": "caregiver",
        "staff_id": str(carer.id),
        "active": "on",
        "password": "long enough 1",
    }
    response = auth.post("/users/new", form)
    assert response.status_code == 303
    session.expire_all()
    user = session.scalar(select(User).where(User.username == "li"))
    assert user.role == Role.CAREGIVER and user.staff_id == carer.id
    assert verify_password(user.password_hash, "long enough 1")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "user"))
    assert entry.after["username"] == "li" and "password_hash" not in entry.after


def test_caregiver_account_without_staff_is_refused_with_a_message(client, auth, build, session):
    build.facility()
    admin = build.user(Role.ADMIN)
    session.commit()
    auth.login(admin)
    form = {"username": "x", "display_name": "X", "role": "caregiver", "password": "long enough 1"}
    response = auth.post("/users/new", form)
    assert response.status_code == 422
    assert "保育" in response.get_data(as_text=True) or "staff member" in response.get_data(
        as_text=True
    )
    assert session.scalar(select(User).where(User.username == "x")) is None


def test_admin_cannot_disable_own_account(client, auth, build, session):
    build.facility()
    admin = build.user(Role.ADMIN)
    session.commit()
    auth.login(admin)
    form = {"display_name": "Admin", "role": "admin", "password": ""}
    response = auth.post(f"/users/{admin.id}", form)
    assert response.status_code == 422
    session.expire_all()
    assert session.get(User, admin.id).active


def test_director_cannot_manage_accounts(client, auth, build, session):
    build.facility()
    director = build.user(Role.DIRECTOR)
    session.commit()
    auth.login(director)
    assert client.get("/users/").status_code == 403
    response = auth.post(
        "/users/new",
        {"username": "y", "display_name": "Y", "role": "admin", "password": "long enough 1"},
    )
    assert response.status_code == 403
    assert session.scalar(select(User).where(User.username == "y")) is None


def test_anyone_changes_their_own_password(client, auth, build, session):
    build.facility()
    regulator = build.user(Role.REGULATOR)
    session.commit()
    auth.login(regulator)
    wrong = auth.post("/users/me/password", {"current": "nope", "new": "brand new pass"})
    assert wrong.status_code == 422
    ok = auth.post("/users/me/password", {"current": PASSWORD, "new": "brand new pass"})
    assert ok.status_code == 303
    session.expire_all()
    assert verify_password(session.get(User, regulator.id).password_hash, "brand new pass")
