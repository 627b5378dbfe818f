"""ISO 3779: the check digit and what a valid VIN is."""

from __future__ import annotations

import pytest

from orion.vin import check_digit, is_valid_vin


def test_known_vins() -> None:
    assert is_valid_vin("1M8GDM9AXKP042788")
    assert check_digit("1M8GDM9A0KP042788") == "X"
    assert is_valid_vin("11111111111111111")
    assert not is_valid_vin("1M8GDM9A1KP042788")


@pytest.mark.parametrize(
    "bad", ["", "ADRSTR1A4SR00012", "ADRSTR1A4SR0001234", "ADRSTR1A4SR00012I", "adrstr1a4sr000123"]
)
def test_malformed(bad: str) -> None:
    assert not is_valid_vin(bad)
