"""Chinese public holidays (法定节假日) 2025–2027, for the demo's service calendar."""

from __future__ import annotations

from datetime import date, timedelta

# (first day, last day, name). 2025 and 2026 follow the State Council's published
# schedules; 2027 is estimated from the lunar calendar until its schedule is published
# (each autumn), so update it then. Make-up working Saturdays (调休) are not modelled:
# the service calendar has weekdays and closed days only.
PUBLIC_HOLIDAYS: list[tuple[date, date, str]] = [
    (date(2025, 1, 1), date(2025, 1, 1), "元旦"),
    (date(2025, 1, 28), date(2025, 2, 4), "春节"),
    (date(2025, 4, 4), date(2025, 4, 6), "清明节"),
    (date(2025, 5, 1), date(2025, 5, 5), "劳动节"),
    (date(2025, 5, 31), date(2025, 6, 2), "端午节"),
    (date(2025, 10, 1), date(2025, 10, 8), "国庆节、中秋节"),
    (date(2026, 1, 1), date(2026, 1, 3), "元旦"),
    (date(2026, 2, 15), date(2026, 2, 23), "春节"),
    (date(2026, 4, 4), date(2026, 4, 6), "清明节"),
    (date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
    (date(2026, 6, 19), date(2026, 6, 21), "端午节"),
    (date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
    (date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
    (date(2027, 1, 1), date(2027, 1, 3), "元旦"),
    (date(2027, 2, 5), date(2027, 2, 13), "春节"),
    (date(2027, 4, 3), date(2027, 4, 5), "清明节"),
    (date(2027, 5, 1), date(2027, 5, 5), "劳动节"),
    (date(2027, 6, 9), date(2027, 6, 11), "端午节"),
    (date(2027, 9, 15), date(2027, 9, 17), "中秋节"),
    (date(2027, 10, 1), date(2027, 10, 7), "国庆节"),
]

COVERED = (date(2025, 1, 1), date(2027, 12, 31))


def holidays_between(start: date, end: date) -> dict[date, str]:
    """Every public-holiday date in [start, end] with its name."""
    out: dict[date, str] = {}
    for first, last, name in PUBLIC_HOLIDAYS:
        day = max(first, start)
        while day <= min(last, end):
            out[day] = name
            day += timedelta(days=1)
    return out
