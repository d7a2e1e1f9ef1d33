"""Valid, unique SNILS numbers for demo people."""

from __future__ import annotations

import random

from models.snils import LAST_UNCHECKED_NUMBER, format_snils, snils_checksum

FIRST_CHECKED_NUMBER = LAST_UNCHECKED_NUMBER + 1
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
