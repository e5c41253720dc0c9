"""A fixed allergen vocabulary and the parsing of free-text allergy notes into it.

Enrolment records a child's allergies as free text ("对牛奶、鸡蛋过敏", "peanuts"). Matching
that text against dishes word by word would miss "奶粉" for milk or match nothing for a
typo, so the text is mapped onto a small fixed vocabulary of the common major allergens
by keywords. What could not be mapped is kept and shown, so a person sees the mapping and
can fix the enrolment text; an unmapped remainder never counts as "no allergy".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Allergen code -> keywords (Chinese and English, lower case) that name it.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "milk": ("牛奶", "奶粉", "乳制品", "乳糖", "奶", "乳", "milk", "dairy", "lactose"),
    "egg": ("鸡蛋", "蛋", "egg"),
    "peanut": ("花生", "peanut"),
    "tree_nut": ("坚果", "核桃", "杏仁", "腰果", "榛子", "开心果", "tree nut", "nut", "almond",
                 "walnut", "cashew", "hazelnut"),
    "soy": ("大豆", "黄豆", "豆浆", "豆腐", "豆制品", "soy", "soya", "tofu"),
    "wheat": ("小麦", "麸质", "面粉", "面筋", "wheat", "gluten"),
    "fish": ("鱼", "fish"),
    "shellfish": ("虾", "蟹", "贝", "甲壳", "海鲜", "shellfish", "shrimp", "prawn", "crab",
                  "lobster", "clam", "mussel", "oyster", "seafood"),
    "sesame": ("芝麻", "sesame"),
    "buckwheat": ("荞麦", "buckwheat"),
    "mango": ("芒果", "mango"),
}  # fmt: skip

#: Order of display.
CODES: tuple[str, ...] = tuple(VOCABULARY)

# Words that say "none" rather than naming an allergen.
_NONE = {"无", "没有", "暂无", "none", "no", "nil", "n/a", "-", "—"}
# Words around allergen names that carry no allergen themselves.
_FILLER = re.compile(r"(过敏|不耐受|对|禁食|忌|allerg(y|ic|ies)( to)?|intoleran(t|ce))", re.I)
_SPLIT = re.compile(r"[,，、;；/\n。.和及与]+|\band\b", re.I)


@dataclass(frozen=True)
class ParsedAllergies:
    """The allergens recognised in a free-text note, and the parts not recognised."""

    codes: frozenset[str]
    unrecognised: tuple[str, ...]

    @property
    def needs_review(self) -> bool:
        """Whether part of the note could not be mapped (a person must look at it)."""
        return bool(self.unrecognised)


def _match(part: str) -> set[str]:
    low = part.lower()
    found = set()
    for code, words in VOCABULARY.items():
        # "坚果" contains no "果" of another code; "花生" must not count as tree nuts, so
        # English "nut" is matched only where "peanut" is not.
        for word in words:
            if word == "nut" and "peanut" in low and low.count("nut") == low.count("peanut"):
                continue
            if word in low:
                found.add(code)
                break
    return found


def parse(text: str) -> ParsedAllergies:
    """Map a free-text allergy note onto the vocabulary."""
    codes: set[str] = set()
    unrecognised: list[str] = []
    for raw in _SPLIT.split(text or ""):
        part = raw.strip()
        if not part or part.lower() in _NONE:
            continue
        hits = _match(part)
        if hits:
            codes |= hits
            continue
        rest = _FILLER.sub("", part).strip()
        if rest and rest.lower() not in _NONE:
            unrecognised.append(part)
    return ParsedAllergies(frozenset(codes), tuple(unrecognised))


def normalise(codes: str | list[str] | tuple[str, ...] | set[str] | frozenset[str]) -> list[str]:
    """Known codes from a comma-separated string or a list, in vocabulary order."""
    items = codes.split(",") if isinstance(codes, str) else list(codes)
    wanted = {c.strip() for c in items if c.strip()}
    unknown = wanted - set(CODES)
    if unknown:
        raise ValueError(f"unknown allergen codes: {sorted(unknown)}")
    return [c for c in CODES if c in wanted]


def conflicts(child_codes: frozenset[str], dish_codes: list[str] | set[str]) -> list[str]:
    """The allergens a dish shares with a child, in vocabulary order."""
    return [c for c in CODES if c in child_codes and c in set(dish_codes)]
