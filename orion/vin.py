"""ISO 3779 vehicle identification numbers: the check digit and what a valid VIN is.

Shared by the simulator (which builds valid VINs and breaks some on purpose)
and the processor (which rejects the broken ones), so both read one rule.
17 characters from the VIN alphabet (no I, O or Q), position 9 the check
digit: the weighted sum of the transliterated characters modulo 11, 10
written ``X``.
"""

from __future__ import annotations

from operator import mul

__all__ = ["ALPHABET", "check_digit", "is_valid_vin"]

ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_CHARS = frozenset(_VALUES)


def check_digit(vin: str) -> str:
    """The check digit of a 17-character VIN (position 9 itself is ignored).

    ``map`` over ``operator.mul``: the processor calls this once per VIN it has
    not seen before, on its hottest path.
    """
    total = sum(map(mul, map(_VALUES.__getitem__, vin), _WEIGHTS))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def is_valid_vin(vin: str) -> bool:
    """True for 17 characters of the VIN alphabet with a correct check digit."""
    return len(vin) == 17 and _CHARS.issuperset(vin) and vin[8] == check_digit(vin)
