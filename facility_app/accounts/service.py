"""Passwords, sign-in with throttling, and user accounts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carewatch.errors import Conflict, DomainError, NotFound
from carewatch.policy import LoginPolicy
from facility_app.accounts.models import LoginAttempt, Role, User
from facility_app.accounts.permissions import Actor, Perm
from facility_app.audit import service as audit
from facility_app.staff.models import ClassAssignment

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    """Whether a password matches its hash."""
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


class TooManyAttempts(DomainError):
    """Sign-in is throttled for this user name."""

    status = 429


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    remote_addr: str,
    policy: LoginPolicy,
) -> User | None:
    """Check a sign-in; record the attempt; refuse while too many recent ones failed."""
    username = username.strip()
    since = now - timedelta(minutes=policy.window_minutes)
    failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.at >= since,
            LoginAttempt.success.is_(False),
        )
    )
    if failures is not None and failures >= policy.max_failures:
        raise TooManyAttempts(
            "too_many_attempts",
            "Too many failed sign-ins. Try again in %(minutes)s minutes.",
            minutes=policy.window_minutes,
        )
    user = session.scalar(select(User).where(User.username == username))
    ok = user is not None and user.active and verify_password(user.password_hash, password)
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now, success=ok))
    if not ok:
        log.info("failed sign-in for %r from %s", username, remote_addr)
        return None
    return user


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str,
    staff_id: int | None = None,
) -> User:
    """Create an account; caregivers must be linked to a staff record."""
    username = username.strip()
    if not username or len(username) > 60:
        raise DomainError(
            "invalid_username", "User name must be 1–60 characters.", field="username"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            "weak_password",
            "The password must have at least %(n)s characters.",
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )
    try:
        role = Role(role)
    except ValueError:
        raise DomainError("invalid_role", "Unknown role.", field="role") from None
    if role == Role.CAREGIVER and staff_id is None:
        raise DomainError(
            "caregiver_needs_staff", "A caregiver account must belong to a staff member."
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("username_taken", "This user name is already taken.", field="username")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        display_name=display_name or username,
        staff_id=staff_id,
    )
    session.add(user)
    session.flush()
    return user


def actor_for(session: Session, user: User) -> Actor:
    """The actor for a signed-in user, with the classes assigned to their staff record."""
    class_ids: frozenset[int] = frozenset()
    if user.staff_id is not None:
        class_ids = frozenset(
            session.scalars(
                select(ClassAssignment.class_id).where(ClassAssignment.staff_id == user.staff_id)
            )
        )
    return Actor(user_id=user.id, role=user.role, staff_id=user.staff_id, class_ids=class_ids)


def list_users(session: Session) -> list[User]:
    """Every account, by role and name."""
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def update_user(
    session: Session,
    actor: Actor,
    user_id: int,
    *,
    now: datetime,
    role: Role | str,
    display_name: str,
    active: bool,
    staff_id: int | None,
    new_password: str | None = None,
) -> User:
    """Change an account's role, name, staff link or status, or set a new password."""
    actor.require(Perm.USERS_MANAGE)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "This account does not exist.")
    try:
        role = Role(role)
    except ValueError:
        raise DomainError("invalid_role", "Unknown role.", field="role") from None
    if role == Role.CAREGIVER and staff_id is None:
        raise DomainError(
            "caregiver_needs_staff", "A caregiver account must belong to a staff member."
        )
    if user.id == actor.user_id and (not active or role != user.role):
        # Nobody locks themselves out of administration by accident.
        raise DomainError("cannot_demote_self", "You cannot disable or demote your own account.")
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 60:
        raise DomainError("invalid_name", "Name must be 1–60 characters.", field="display_name")
    before = audit.snapshot(user)
    user.role, user.display_name, user.active, user.staff_id = role, display_name, active, staff_id
    if new_password:
        if len(new_password) < MIN_PASSWORD_LENGTH:
            raise DomainError(
                "weak_password",
                "The password must have at least %(n)s characters.",
                field="password",
                n=MIN_PASSWORD_LENGTH,
            )
        user.password_hash = hash_password(new_password)
    session.flush()
    after = audit.snapshot(user) | ({"password": "changed"} if new_password else {})
    audit.record(
        session,
        at=now,
        user_id=actor.user_id,
        action="update",
        entity="user",
        entity_id=user.id,
        before=before,
        after=after,
    )
    return user


def change_own_password(
    session: Session, user: User, *, now: datetime, current: str, new: str
) -> None:
    """Let a signed-in person replace their password after proving the current one."""
    if not verify_password(user.password_hash, current):
        raise DomainError("wrong_password", "The current password is wrong.", field="current")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise DomainError(
            "weak_password",
            "The password must have at least %(n)s characters.",
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )
    user.password_hash = hash_password(new)
    audit.record(
        session,
        at=now,
        user_id=user.id,
        action="password_change",
        entity="user",
        entity_id=user.id,
        after={"password": "changed"},
    )
