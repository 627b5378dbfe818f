"""Vehicle identification numbers of the simulated world: how they are built.

The simulated world only ever holds valid VINs; what makes one valid (ISO
3779: check digit in position 9, no I/O/Q) is :mod:`orion.vin`, shared with
the processor. Orion Motors' WMI is ``ADR`` (the ``AA``-``AH`` range is South
Africa). Position 11 is the plant; plant ``Z`` is never used by a real
vehicle, so a VIN with plant ``Z`` is a valid-looking VIN that never exists
(the orphan-reference defect uses it).
"""

from __future__ import annotations

from orion.vin import ALPHABET, check_digit

__all__ = ["WMI", "make_vin", "year_code"]

WMI = "ADR"
# Model-year codes repeat every 30 years; 2010 is "A".
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


def year_code(year: int) -> str:
    """Position-10 character for a model year."""
    return _YEAR_CODES[(year - 2010) % 30]


def make_vin(vds: str, year: int, plant: str, serial: int) -> str:
    """Assemble a valid VIN from a 5-character VDS, model year, plant and serial.

    ``serial`` may exceed 999 999: the millions cycle through the last VDS
    character so VINs stay unique for 33 million vehicles.
    """
    millions, rest = divmod(serial, 1_000_000)
    vds = vds[:4] + ALPHABET[(ALPHABET.index(vds[4]) + millions) % len(ALPHABET)]
    body = f"{WMI}{vds}0{year_code(year)}{plant}{rest:06d}"
    return body[:8] + check_digit(body) + body[9:]
