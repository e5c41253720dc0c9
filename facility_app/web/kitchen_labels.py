"""Translated labels of meals, amounts eaten, allergens, disinfection objects and methods."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # meals
    "breakfast": _l("Breakfast"),
    "morning_snack": _l("Morning snack"),
    "lunch": _l("Lunch"),
    "afternoon_snack": _l("Afternoon snack"),
    "dinner": _l("Dinner"),
    # amounts eaten
    "none": _l("None"),
    "some": _l("Some"),
    "most": _l("Most"),
    "all": _l("All"),
    # allergens
    "milk": _l("Milk"),
    "egg": _l("Egg"),
    "peanut": _l("Peanut"),
    "tree_nut": _l("Tree nuts"),
    "soy": _l("Soy"),
    "wheat": _l("Wheat / gluten"),
    "fish": _l("Fish"),
    "shellfish": _l("Shellfish"),
    "sesame": _l("Sesame"),
    "buckwheat": _l("Buckwheat"),
    "mango": _l("Mango"),
    # objects disinfected
    "activity_room": _l("Activity room"),
    "sleeping_room": _l("Sleeping room"),
    "tableware": _l("Tableware"),
    "towels": _l("Towels"),
    "toys": _l("Toys"),
    "potties": _l("Potties"),
    "door_handles": _l("Door handles"),
    "air": _l("Air"),
    # methods
    "ventilation": _l("Ventilation"),
    "uv_lamp": _l("UV lamp"),
    "boiling": _l("Boiling"),
    "steaming": _l("Steaming"),
    "chlorine": _l("Chlorine solution"),
    "sun": _l("Sun"),
    # sample problems
    "no_sample": _l("No sample"),
    "underweight": _l("Underweight"),
    "discarded_early": _l("Discarded early"),
}


def klabel(value: Any) -> str:
    """The translated label of a kitchen or hygiene value."""
    key = str(getattr(value, "value", value))
    text = LABELS.get(key)
    return str(text) if text is not None else key


def allergen_list(codes: list[str] | tuple[str, ...] | frozenset[str] | str) -> str:
    """Allergen codes as translated names."""
    from facility_app.kitchen.allergens import CODES

    items = codes.split(",") if isinstance(codes, str) else list(codes)
    return "、".join(klabel(c) for c in CODES if c in items)
