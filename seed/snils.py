"""Valid, unique SNILS numbers for demo people."""

from __future__ import annotations

import random

from admin_views.validators import format_snils, snils_checksum

# Numbers up to 001-001-998 were issued before the control number existed.
FIRST_CHECKED_NUMBER = 1_001_999
LAST_NUMBER = 999_999_999


def make_snils(rng: random.Random, used: set[str]) -> str:
    """A random SNILS with a correct control number, «123-456-789 01», not yet in `used`.

    The number is added to `used`.
    """
    while True:
        body = f"{rng.randint(FIRST_CHECKED_NUMBER, LAST_NUMBER):09d}"
        snils = format_snils(f"{body}{snils_checksum(body):02d}")
        if snils not in used:
            used.add(snils)
            return snils
