"""The simulator's VINs: valid by orion.vin's rule, and distinct."""

from __future__ import annotations

import pytest

from orion.vin import is_valid_vin
from producers.vin import make_vin


@pytest.mark.parametrize("serial", [0, 1, 999_999, 1_000_000, 32_999_999])
def test_made_vins_are_valid_and_distinct(serial: int) -> None:
    vin = make_vin("STR1A", 2025, "R", serial)
    assert is_valid_vin(vin)
    assert vin != make_vin("STR1A", 2025, "R", serial + 1)
