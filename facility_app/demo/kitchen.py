"""Demo kitchen and hygiene: a rotating menu, served and sampled meals, disinfection logs.

The last two weeks are filled in through the services (so every rule and the audit log
apply), with today's first dish served but not sampled, so the director's page and the
compliance status have something to show. Dishes that would reach an allergic child are
planned but left for the kitchen to choose a substitute.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from facility_app.accounts.permissions import SYSTEM
from facility_app.facility.models import Facility
from facility_app.facility.service import at_local, is_service_day, today
from facility_app.hygiene import service as hygiene
from facility_app.kitchen import service as kitchen
from facility_app.kitchen.models import Meal

log = logging.getLogger(__name__)

REASON = "演示数据：补录历史记录"
DISHES: list[tuple[str, str, list[str]]] = [
    ("小米粥", "小米", []),
    ("鸡蛋羹", "鸡蛋", ["egg"]),
    ("牛奶", "牛奶", ["milk"]),
    ("蒸南瓜", "南瓜", []),
    ("米饭", "大米", []),
    ("番茄炒蛋", "番茄、鸡蛋", ["egg"]),
    ("清蒸鲈鱼", "鲈鱼", ["fish"]),
    ("西兰花炒胡萝卜", "西兰花、胡萝卜", []),
    ("冬瓜排骨汤", "冬瓜、排骨", []),
    ("香蕉", "香蕉", []),
    ("小馒头", "面粉", ["wheat"]),
    ("苹果", "苹果", []),
]
MENU: dict[Meal, list[list[int]]] = {
    Meal.BREAKFAST: [[0, 1], [2, 3], [0, 10]],
    Meal.MORNING_SNACK: [[9], [11], [2]],
    Meal.LUNCH: [[4, 5, 8], [4, 6, 7], [4, 7, 8]],
    Meal.AFTERNOON_SNACK: [[10], [3], [11]],
}
MEAL_TIMES = {
    Meal.BREAKFAST: time(8, 0),
    Meal.MORNING_SNACK: time(9, 45),
    Meal.LUNCH: time(11, 15),
    Meal.AFTERNOON_SNACK: time(15, 0),
}
TASKS: list[dict[str, object]] = [
    {"area": "全园活动室", "target": "air", "method": "ventilation", "duration_minutes": 15,
     "times_per_day": 2},
    {"area": "午睡室", "target": "sleeping_room", "method": "uv_lamp", "duration_minutes": 60},
    {"area": "厨房", "target": "tableware", "method": "steaming", "duration_minutes": 10},
    {"area": "盥洗室", "target": "towels", "method": "chlorine", "duration_minutes": 20,
     "concentration_mg_l": 300},
    {"area": "全园", "target": "door_handles", "method": "chlorine", "duration_minutes": 20,
     "concentration_mg_l": 250},
    {"area": "玩具柜", "target": "toys", "method": "sun", "duration_minutes": 360,
     "every_days": 5},
]  # fmt: skip


def seed_kitchen(
    session: Session, fac: Facility, now: datetime, rng: random.Random, days: int = 14
) -> None:
    """Dishes, the menu of the last ``days`` days and the coming week, samples and logs."""
    day0 = today(fac, now)
    dishes = [
        kitchen.save_dish(
            session, SYSTEM, fac, now=now, name=name, ingredients=ingredients,
            allergen_codes=codes,
        )
        for name, ingredients, codes in DISHES
    ]  # fmt: skip
    tasks = [
        hygiene.save_task(
            session, SYSTEM, fac, now=now, start_date=day0 - timedelta(days=days), **spec
        )  # type: ignore[arg-type]
        for spec in TASKS
    ]
    skipped_sample = False
    for offset in range(days, -8, -1):
        day = day0 - timedelta(days=offset)
        if not is_service_day(session, fac, day):
            continue
        for meal, rotation in MENU.items():
            served_at = at_local(fac, day, MEAL_TIMES[meal])
            past = served_at <= now
            for index in rotation[day.toordinal() % len(rotation)]:
                item = kitchen.plan_item(
                    session, SYSTEM, fac, now=now, day=day, meal=meal,
                    dish_id=dishes[index].id, reason=REASON if day < day0 else "",
                )  # fmt: skip
                if not past or kitchen.affected(item, kitchen.allergic_children(session, day)):
                    continue  # the future, or a dish that needs a substitute chosen first
                kitchen.serve_item(
                    session, SYSTEM, fac, now=now, item_id=item.id, at=served_at, reason=REASON
                )
                if offset == 0 and not skipped_sample:
                    skipped_sample = True  # today: one dish served without its sample
                    continue
                sample = kitchen.log_sample(
                    session, SYSTEM, fac, now=now, item_id=item.id,
                    weight_g=rng.randint(130, 180), fridge="留样冰箱1号",
                    stored_at=served_at + timedelta(minutes=5), reason=REASON,
                )  # fmt: skip
                out = served_at + timedelta(hours=49)
                if out <= now:
                    kitchen.discard_sample(
                        session, SYSTEM, fac, now=now, sample_id=sample.id, at=out, reason=REASON
                    )
        if offset <= 0:
            continue
        for task in tasks:
            if offset % task.every_days:
                continue
            for n in range(task.times_per_day):
                done_at = at_local(fac, day, time(10 + 4 * n, 0))
                hygiene.log_task(
                    session, SYSTEM, fac, now=now, task_id=task.id,
                    duration_minutes=task.duration_minutes,
                    concentration_mg_l=task.concentration_mg_l, at=done_at, reason=REASON,
                )  # fmt: skip
    log.info("demo kitchen: %d dishes, %d disinfection tasks", len(dishes), len(tasks))
