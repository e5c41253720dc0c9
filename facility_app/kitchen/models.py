"""Dishes, the menu (what is planned and served), substitutes, intake and food samples."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum


class Meal(enum.StrEnum):
    """The meals of a day, in the order they are served."""

    BREAKFAST = "breakfast"
    MORNING_SNACK = "morning_snack"
    LUNCH = "lunch"
    AFTERNOON_SNACK = "afternoon_snack"
    DINNER = "dinner"


class Eaten(enum.StrEnum):
    """How much of a meal a child ate."""

    NONE = "none"
    SOME = "some"
    MOST = "most"
    ALL = "all"


class Dish(Base):
    """A dish the kitchen cooks, with its ingredients and the allergens in it."""

    __tablename__ = "dish"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    name: Mapped[str] = mapped_column(String(60))
    ingredients: Mapped[str] = mapped_column(String(500), default="")
    # Codes of facility_app.kitchen.allergens.VOCABULARY, comma-separated.
    allergens: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (UniqueConstraint("facility_id", "name"),)

    @property
    def allergen_codes(self) -> list[str]:
        """The allergen codes as a list."""
        return [c for c in self.allergens.split(",") if c]


class MenuItem(Base):
    """One dish planned for one meal of one day; ``served_at`` once it was served."""

    __tablename__ = "menu_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    dish_id: Mapped[int] = mapped_column(ForeignKey("dish.id"))
    served_at: Mapped[datetime | None]
    served_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    planned_at: Mapped[datetime]
    planned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    dish: Mapped[Dish] = relationship()
    substitutes: Mapped[list[MealSubstitute]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="MealSubstitute.id"
    )
    sample: Mapped[FoodSample | None] = relationship(back_populates="item", uselist=False)

    __table_args__ = (
        UniqueConstraint("day", "meal", "dish_id"),
        Index("ix_menu_item_day", "day"),
    )


class MealSubstitute(Base):
    """What one allergic child gets instead of a dish."""

    __tablename__ = "meal_substitute"

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_item.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    substitute: Mapped[str] = mapped_column(String(120))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    item: Mapped[MenuItem] = relationship(back_populates="substitutes")

    __table_args__ = (UniqueConstraint("menu_item_id", "child_id"),)


class MealIntake(Base):
    """How much of one meal one child ate."""

    __tablename__ = "meal_intake"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    meal: Mapped[Meal] = mapped_column(str_enum(Meal))
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"))
    class_id: Mapped[int] = mapped_column(ForeignKey("class_room.id"))
    eaten: Mapped[Eaten] = mapped_column(str_enum(Eaten))
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        UniqueConstraint("day", "meal", "child_id"),
        Index("ix_meal_intake_class_day", "class_id", "day"),
    )


class FoodSample(Base):
    """The retained sample (留样) of one served dish."""

    __tablename__ = "food_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    menu_item_id: Mapped[int] = mapped_column(ForeignKey("menu_item.id"), unique=True)
    weight_g: Mapped[int]
    fridge: Mapped[str] = mapped_column(String(40))
    stored_at: Mapped[datetime]
    stored_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    discarded_at: Mapped[datetime | None]
    discarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]

    item: Mapped[MenuItem] = relationship(back_populates="sample")

    __table_args__ = (
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint(
            "discarded_at IS NULL OR discarded_at >= stored_at", name="discard_after_intake"
        ),
    )


class MealFeeAccount(Base):
    """One month's meal-fee account (伙食费收支), published without personal data."""

    __tablename__ = "meal_fee_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM
    income_fen: Mapped[int]
    food_cost_fen: Mapped[int]
    other_cost_fen: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    published: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (
        CheckConstraint(
            "income_fen >= 0 AND food_cost_fen >= 0 AND other_cost_fen >= 0",
            name="amounts_not_negative",
        ),
    )
