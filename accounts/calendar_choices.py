"""What a person may choose for their business calendar on the profile page.

The calendar itself (working hours, holidays, deadlines) is approvals' business;
accounts only keeps the person's time zone and subdivision, validated here.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

import holidays
from django.conf import settings


@lru_cache(maxsize=8)
def subdivisions(country: str | None = None) -> list[tuple[str, str]]:
    """(code, name) of the country's subdivisions, e.g. ("BY", "Bayern"), by name."""
    cls = holidays.country_holidays(country or settings.HOLIDAY_COUNTRY).__class__
    names = {code: name for name, code in getattr(cls, "subdivisions_aliases", {}).items()}
    codes = [c for c in cls.subdivisions if len(c) <= 3]  # "Augsburg" is a city, not a Land
    return sorted(((code, names.get(code, code)) for code in codes), key=lambda item: item[1])


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def time_zones() -> list[str]:
    """The IANA zones a person may choose (sorted; legacy aliases left out)."""
    return sorted(z for z in _zones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


def valid_time_zone(name: str) -> bool:
    return name in _zones()
