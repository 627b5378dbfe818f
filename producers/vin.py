"""ISO 3779 vehicle identification numbers: build, check and break them.

The simulated world only ever holds valid VINs (check digit in position 9,
no I/O/Q). Orion Motors' WMI is ``ADR`` (the ``AA``-``AH`` range is South
Africa). Position 11 is the plant; plant ``Z`` is never used by a real
vehicle, so a VIN with plant ``Z`` is a valid-looking VIN that never exists
(the orphan-reference defect uses it).
"""

from __future__ import annotations

__all__ = [
    "ALPHABET",
    "WMI",
    "check_digit",
    "is_valid_vin",
    "make_vin",
    "year_code",
]

WMI = "ADR"
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
# Model-year codes repeat every 30 years; 2010 is "A".
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def year_code(year: int) -> str:
    """Position-10 character for a model year."""
    return _YEAR_CODES[(year - 2010) % 30]


def check_digit(vin: str) -> str:
    """The ISO 3779 check digit of a 17-character VIN (position 9 is ignored)."""
    total = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    rem = total % 11
    return "X" if rem == 10 else str(rem)


def make_vin(vds: str, year: int, plant: str, serial: int) -> str:
    """Assemble a valid VIN from a 5-character VDS, model year, plant and serial.

    ``serial`` may exceed 999 999: the millions cycle through the last VDS
    character so VINs stay unique for 33 million vehicles.
    """
    millions, rest = divmod(serial, 1_000_000)
    vds = vds[:4] + ALPHABET[(ALPHABET.index(vds[4]) + millions) % len(ALPHABET)]
    body = f"{WMI}{vds}0{year_code(year)}{plant}{rest:06d}"
    return body[:8] + check_digit(body) + body[9:]


def is_valid_vin(vin: str) -> bool:
    """True for 17 allowed characters with a correct check digit."""
    if len(vin) != 17 or any(c not in _VALUES for c in vin):
        return False
    return vin[8] == check_digit(vin)
