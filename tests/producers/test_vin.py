"""ISO 3779 VINs."""

from __future__ import annotations

import pytest

from producers.vin import check_digit, is_valid_vin, make_vin


def test_known_vins() -> None:
    assert is_valid_vin("1M8GDM9AXKP042788")
    assert check_digit("1M8GDM9A0KP042788") == "X"
    assert is_valid_vin("11111111111111111")
    assert not is_valid_vin("1M8GDM9A1KP042788")


@pytest.mark.parametrize("serial", [0, 1, 999_999, 1_000_000, 32_999_999])
def test_made_vins_are_valid_and_distinct(serial: int) -> None:
    vin = make_vin("STR1A", 2025, "R", serial)
    assert is_valid_vin(vin)
    assert vin != make_vin("STR1A", 2025, "R", serial + 1)


@pytest.mark.parametrize(
    "bad", ["", "ADRSTR1A4SR00012", "ADRSTR1A4SR0001234", "ADRSTR1A4SR00012I", "adrstr1a4sr000123"]
)
def test_malformed(bad: str) -> None:
    assert not is_valid_vin(bad)
