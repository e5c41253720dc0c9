"""The demo facility's profile, classes, staff, children, guardians and user accounts.

People are created through the domain services, so every record passes the same checks
(age bands, class sizes, password rules) and leaves the same audit trail as one typed in.
"""

from __future__ import annotations

import calendar
import itertools
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy.orm import Session

from carewatch.policy import ClassType, Policy
from facility_app.accounts.models import Role, User
from facility_app.accounts.permissions import SYSTEM
from facility_app.accounts.service import create_user
from facility_app.children import service as children_service
from facility_app.children.models import CareType, Guardian, Sex
from facility_app.demo.names import NameMaker
from facility_app.facility import service as facility_service
from facility_app.facility.models import ClassRoom, Facility, Grade, Ownership, PolicyProfile
from facility_app.ratio.rules import age_fits, age_in_months
from facility_app.staff import service as staff_service
from facility_app.staff.models import Staff, StaffRole

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ClassSpec:
    """One class of the base layout: the default facility has exactly these."""

    name: str
    class_type: ClassType
    capacity: int
    target: int  # children at the default size of 90
    room: str


BASE_LAYOUT: tuple[ClassSpec, ...] = (
    ClassSpec("小星星", ClassType.INFANT, 10, 9, "一楼 101"),
    ClassSpec("小月亮", ClassType.TODDLER, 15, 15, "一楼 102"),
    ClassSpec("小太阳", ClassType.TODDLER, 15, 15, "一楼 103"),
    ClassSpec("彩虹", ClassType.OLDER, 20, 18, "二楼 201"),
    ClassSpec("向日葵", ClassType.OLDER, 20, 18, "二楼 202"),
    ClassSpec("蒲公英", ClassType.MIXED, 18, 15, "二楼 203"),
)
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class DemoAccount:
    """A sign-in the demo creates, with its published password."""

    username: str
    password: str
    role: Role
    display_name: str
    note: str


# Published on purpose: these exist only in demo databases, and `carewatch up` lists
# only those that still have this password.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "carewatch-admin", Role.ADMIN, "系统管理员", "user accounts"),
    DemoAccount("director", "carewatch-director", Role.DIRECTOR, "", "the director's page"),
    DemoAccount("caregiver", "carewatch-caregiver", Role.CAREGIVER, "", "the door, one class"),
    DemoAccount("health", "carewatch-health", Role.HEALTH_OFFICER, "", "health officer"),
    DemoAccount("regulator", "carewatch-regulator", Role.REGULATOR, "区卫健局督查员", "read-only"),
)


@dataclass
class ChildPlan:
    """What the history generator needs to know about one enrolled child."""

    child_id: int
    class_id: int
    start: date
    end: date | None  # set for a child who has since left
    care_type: CareType
    drop_off: list[tuple[int, float]]  # (guardian id, weight)
    pick_up: list[tuple[int, float]]


@dataclass
class ClassPlan:
    """A class with its children and the caregivers assigned to it."""

    room: ClassRoom
    children: list[ChildPlan] = field(default_factory=list)
    caregivers: list[int] = field(default_factory=list)


@dataclass
class Roster:
    """Everything created for the demo facility."""

    facility: Facility
    classes: list[ClassPlan]
    staff: int
    users: dict[str, User]


def class_layout(children: int) -> list[tuple[ClassSpec, str, str, int]]:
    """Classes (spec, name, room, children) for a facility size; repeats the base layout."""
    per_set = sum(s.target for s in BASE_LAYOUT)
    sets = max(1, math.ceil(children / per_set))
    specs = [(k, s) for k in range(sets) for s in BASE_LAYOUT]
    targets = [s.target for _, s in specs]
    total = sum(targets)
    # Largest-remainder share of the children, never above a class's usual size.
    exact = [children * t / total for t in targets]
    sizes = [min(math.floor(x), t) for x, t in zip(exact, targets, strict=True)]
    order = sorted(range(len(specs)), key=lambda i: exact[i] - sizes[i], reverse=True)
    for i in order[: children - sum(sizes)]:
        sizes[i] += 1
    out = []
    for (k, spec), size in zip(specs, sizes, strict=True):
        name = f"{spec.name}班" if k == 0 else f"{spec.name}{_NUMERALS[k % 10]}班"
        room = spec.room if k == 0 else f"{k + 1}号楼 {spec.room}"
        out.append((spec, name, room, size))
    return out


def caregivers_needed(policy: Policy, class_type: ClassType, children: int) -> int:
    """Caregivers that keep a full class in ratio all day (at least one)."""
    return max(1, math.ceil(children / policy.class_rule(class_type).children_per_caregiver))


def create_facility(
    session: Session,
    *,
    name: str = "阳光宝贝托育中心",
    opening: time = time(7, 30),
    closing: time = time(17, 30),
    overrides: dict | None = None,
) -> Facility:
    """The facility profile: a graded, 普惠-certified centre in Shaoxing Shangyu."""
    profile = None
    if overrides:
        profile = PolicyProfile(key="demo", name="演示配置", overrides=overrides)
        session.add(profile)
    fac = Facility(
        name=name,
        registration_no="91330604MA2JDEMO1X",
        filing_no="浙托备〔2024〕0618号",
        grade=Grade.LEVEL2,
        puhui_certified=True,
        ownership=Ownership.PRIVATE,
        opening_time=opening,
        closing_time=closing,
        timezone="Asia/Shanghai",
        address="浙江省绍兴市上虞区百官街道人民西路 88 号",
        policy_profile=profile,
    )
    session.add(fac)
    session.flush()
    return fac


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later, clamped to the month's end."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PeopleBuilder:
    """Creates classes, staff, children, guardians and accounts through the services."""

    def __init__(
        self, session: Session, facility: Facility, now: datetime, rng: random.Random
    ) -> None:
        self.session = session
        self.fac = facility
        self.now = now
        self.rng = rng
        self.names = NameMaker(rng)
        self.today = facility_service.today(facility, now)
        self.policy = facility.policy()
        self._cert_numbers = itertools.count(1)

    def build(self, children: int, history_days: int, progress: Progress | None = None) -> Roster:
        """The whole roster for a facility of about ``children`` children."""
        window_start = self.today - timedelta(days=history_days)
        classes = self._classes(children)
        staff = self._caregivers(classes, window_start)
        others = self._other_staff(children, window_start)
        staff += sum(len(ids) for ids in others.values())
        done = 0
        for plan, size in classes:
            for _ in range(size):
                plan.children += self._child(plan.room, window_start)
                done += 1
                if progress is not None:
                    progress("people", done, children)
        users = self._users([p for p, _ in classes], others)
        return Roster(self.fac, [p for p, _ in classes], staff, users)

    def _classes(self, children: int) -> list[tuple[ClassPlan, int]]:
        out = []
        for spec, name, room, size in class_layout(children):
            room_obj = facility_service.save_class(
                self.session,
                SYSTEM,
                self.fac,
                now=self.now,
                name=name,
                class_type=spec.class_type,
                capacity=spec.capacity,
                room=room,
            )
            out.append((ClassPlan(room_obj), size))
        return out

    def _hire_date(self, before: date, years: int = 6) -> date:
        return before - timedelta(days=self.rng.randint(30, 365 * years))

    def _caregivers(self, classes: list[tuple[ClassPlan, int]], window_start: date) -> int:
        count = 0
        for plan, size in classes:
            for _ in range(caregivers_needed(self.policy, plan.room.class_type, size)):
                member = staff_service.save_staff(
                    self.session,
                    SYSTEM,
                    self.fac,
                    now=self.now,
                    name=self.names.adult(female=self.rng.random() < 0.92),
                    role=StaffRole.CAREGIVER,
                    hire_date=self._hire_date(window_start),
                    phone=self.names.phone(),
                    class_ids=[plan.room.id],
                )
                plan.caregivers.append(member.id)
                self._credentials(member, window_start, certified=True)
                count += 1
        return count

    def _credentials(self, member: Staff, window_start: date, *, certified: bool) -> None:
        """A certificate (caregivers), a yearly health exam, a background check, training."""
        from facility_app.credentials import service as credentials

        n = next(self._cert_numbers)
        if certified:
            # Every ninth certificate runs out within the month, so the demo shows a warning.
            expires = (
                self.today + timedelta(days=self.rng.randint(3, 25))
                if n % 9 == 0
                else self.today + timedelta(days=self.rng.randint(200, 1500))
            )
            credentials.add_certificate(
                self.session,
                SYSTEM,
                self.fac,
                member.id,
                now=self.now,
                kind="caregiver" if n % 3 else "infant_carer",
                number=f"DEMO{n:06d}",
                issuer="人力资源和社会保障局",
                valid_from=member.hire_date,
                expires_on=expires,
            )
        # Taken before the history starts, so the whole history counts the person.
        exam = window_start - timedelta(days=self.rng.randint(0, 250))
        credentials.add_health_exam(
            self.session,
            SYSTEM,
            self.fac,
            member.id,
            now=self.now,
            exam_date=exam,
            result="fit",
            issuer="区妇幼保健院",
        )
        credentials.add_background_check(
            self.session,
            SYSTEM,
            self.fac,
            member.id,
            now=self.now,
            issued_on=member.hire_date,
            issuer="公安局",
        )
        # Training through the year roughly on pace for the role's minimum; some behind.
        policy = self.fac.policy().staff
        need = {
            StaffRole.CAREGIVER: policy.training_hours_caregiver,
            StaffRole.DIRECTOR: policy.training_hours_head,
        }.get(member.role, 16)
        elapsed = (self.today - date(self.today.year, 1, 1)).days + 1
        goal = need * elapsed / 365 * self.rng.uniform(0.8, 1.3)
        done = 0
        while done < goal:
            hours = self.rng.choice([4, 8, 8, 16])
            done += hours
            credentials.add_training(
                self.session,
                SYSTEM,
                self.fac,
                member.id,
                now=self.now,
                course=self.rng.choice(["婴幼儿急救", "回应性照护", "膳食营养", "安全防护"]),
                hours=hours,
                done_on=date(self.today.year, 1, 1)
                + timedelta(days=self.rng.randint(0, elapsed - 1)),
            )

    def _other_staff(self, children: int, window_start: date) -> dict[StaffRole, list[int]]:
        # Health staff 1 per 150 children and cooks 1 per 50 (policy digest).
        wanted = [
            (StaffRole.DIRECTOR, 1),
            (StaffRole.HEALTH_OFFICER, max(1, math.ceil(children / 150))),
            (StaffRole.COOK, max(1, math.ceil(children / 50))),
            (StaffRole.SECURITY, 1 if children <= 150 else 2),
            (StaffRole.OTHER, 1),
        ]
        out: dict[StaffRole, list[int]] = {}
        for role, n in wanted:
            for _ in range(n):
                member = staff_service.save_staff(
                    self.session,
                    SYSTEM,
                    self.fac,
                    now=self.now,
                    name=self.names.adult(female=role != StaffRole.SECURITY),
                    role=role,
                    hire_date=self._hire_date(window_start, years=8),
                    phone=self.names.phone(),
                )
                out.setdefault(role, []).append(member.id)
                self._credentials(member, window_start, certified=False)
        return out

    def _earliest(self, birth: date, class_type: ClassType) -> date:
        """The first day a child born on ``birth`` is old enough for the class type."""
        rule = self.policy.class_rule(class_type)
        day = add_months(birth, rule.min_age_months)
        while not age_fits(birth, day, rule):
            day += timedelta(days=1)
        return day

    def _birth_and_start(self, class_type: ClassType, window_start: date) -> tuple[date, date]:
        """A birth date that fits the class today, and an enrolment start that fits too."""
        rule = self.policy.class_rule(class_type)
        lo = int((rule.min_age_months + 0.3) * 30.44)
        hi = int((rule.max_age_months - 0.3) * 30.44)
        birth = self.today - timedelta(days=self.rng.randint(lo, hi))
        while not age_fits(birth, self.today, rule):
            too_young = age_in_months(birth, self.today) < rule.min_age_months
            birth += timedelta(days=-1 if too_young else 1)
        if self.rng.random() < 0.8:
            # Most children were already there when the history starts.
            start = window_start - timedelta(days=self.rng.randint(1, 300))
        else:
            start = window_start + timedelta(
                days=self.rng.randint(0, max(0, (self.today - window_start).days))
            )
        return birth, min(max(start, self._earliest(birth, class_type)), self.today)

    def _child(self, room: ClassRoom, window_start: date) -> list[ChildPlan]:
        """A child enrolled today, and the one who had the place before, if it was taken."""
        birth, start = self._birth_and_start(room.class_type, window_start)
        plans = [self._enrol(room, birth, start, None)]
        if start > window_start:
            # The place was not empty before this child came: an older child had it and
            # left (to kindergarten, or up to the next class) the day before.
            rule = self.policy.class_rule(room.class_type)
            end = start - timedelta(days=1)
            former = add_months(start, -rule.max_age_months) + timedelta(
                days=self.rng.randint(1, 25)
            )
            since = window_start - timedelta(days=self.rng.randint(1, 300))
            since = max(since, self._earliest(former, room.class_type))
            if since <= end and age_fits(former, end, rule):
                plans.append(self._enrol(room, former, since, end))
        return plans

    def _enrol(self, room: ClassRoom, birth: date, start: date, end: date | None) -> ChildPlan:
        female = self.rng.random() < 0.5
        surname = self.names.surname()
        allergies = ""
        if self.rng.random() < 0.08:
            allergies = self.rng.choice(["鸡蛋", "牛奶蛋白", "花生", "虾", "芒果", "小麦"])
        child = children_service.save_child(
            self.session,
            SYSTEM,
            self.fac,
            now=self.now,
            name=self.names.child(surname, female),
            sex=Sex.FEMALE if female else Sex.MALE,
            birth_date=birth,
            allergies=allergies,
        )
        care_type = CareType.HALF_DAY if self.rng.random() < 0.07 else CareType.FULL_DAY
        children_service.add_enrolment(
            self.session,
            SYSTEM,
            self.fac,
            child,
            now=self.now,
            class_id=room.id,
            care_type=care_type,
            start_date=start,
            end_date=end,
            puhui_place=self.rng.random() < 0.85,
        )
        drop_off, pick_up = self._guardians(child, surname)
        return ChildPlan(child.id, room.id, start, end, care_type, drop_off, pick_up)

    def _guardians(
        self, child: object, surname: str
    ) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
        """Parents, often grandparents, sometimes an adult who may not pick up."""
        mother_surname = self.names.surname()
        # (name, relationship, is_guardian, can_pick_up, drop-off weight, pick-up weight)
        people = [
            (self.names.adult(mother_surname, female=True), "母亲", True, True, 4.0, 3.0),
            # About one family in 45 has a court order keeping the father from pick-up.
            (
                self.names.adult(surname, female=False),
                "父亲",
                True,
                self.rng.random() > 1 / 45,
                3.0,
                2.0,
            ),
        ]
        if self.rng.random() < 0.65:
            paternal = self.rng.random() < 0.6
            fam = surname if paternal else mother_surname
            grandma = self.names.grandparent(fam, female=True)
            people.append((grandma, "祖母" if paternal else "外祖母", False, True, 3.0, 4.0))
            if self.rng.random() < 0.4:
                grandpa = self.names.grandparent(fam, female=False)
                people.append((grandpa, "祖父" if paternal else "外祖父", False, True, 2.0, 3.0))
        if self.rng.random() < 0.1:
            if self.rng.random() < 0.5:
                people.append((self.names.adult(female=True), "保姆", False, False, 2.0, 0.0))
            else:
                uncle = self.names.adult(mother_surname, female=False)
                people.append((uncle, "舅舅", False, False, 1.0, 0.0))
        drop_off, pick_up = [], []
        for name, rel, is_guardian, can_pick_up, w_drop, w_pick in people:
            g: Guardian = children_service.save_guardian(
                self.session,
                SYSTEM,
                child,  # type: ignore[arg-type]
                now=self.now,
                name=name,
                relationship=rel,
                phone=self.names.phone(),
                is_guardian=is_guardian,
                can_pick_up=can_pick_up,
            )
            drop_off.append((g.id, w_drop))
            if can_pick_up:
                pick_up.append((g.id, w_pick))
        return drop_off, pick_up

    def _users(
        self, classes: list[ClassPlan], others: dict[StaffRole, list[int]]
    ) -> dict[str, User]:
        staff_for = {
            Role.DIRECTOR: others[StaffRole.DIRECTOR][0],
            Role.HEALTH_OFFICER: others[StaffRole.HEALTH_OFFICER][0],
            # The demo caregiver works in the first toddler class (or the first class).
            Role.CAREGIVER: next(
                (c.caregivers[0] for c in classes if c.room.class_type == ClassType.TODDLER),
                classes[0].caregivers[0],
            ),
        }
        users = {}
        for acc in DEMO_ACCOUNTS:
            staff_id = staff_for.get(acc.role)
            display = acc.display_name
            if not display and staff_id is not None:
                display = self.session.get(Staff, staff_id).name  # type: ignore[union-attr]
            users[acc.username] = create_user(
                self.session,
                username=acc.username,
                password=acc.password,
                role=acc.role,
                display_name=display or acc.username,
                staff_id=staff_id,
            )
        return users
