"""The repair and validation rules as pure functions (no Kafka, no registry)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from orion.reasons import Reason
from orion.vin import check_digit
from stream_processors.exceptions import RuleViolation
from stream_processors.pipeline import content_hash
from stream_processors.rules import REFERENT_STEMS, all_rules
from stream_processors.rules.base import (
    check_email,
    check_phone,
    parse_date,
    parse_money,
    parse_vin,
    strip_text,
)


def _valid_vin() -> str:
    body = "ADRVEL1A" + "0" + "SG000476"
    return body[:8] + check_digit(body) + body[9:]


@pytest.mark.parametrize(
    ("raw", "want", "repaired"),
    [
        ("1234.50", "1234.50", False),
        ("R 1 234,50", "1234.50", True),
        ("R1234.50", "1234.50", True),
        ("ZAR 1,234.50", "1234.50", True),
        ("0.00", "0.00", False),
    ],
)
def test_money_repairs_exactly(raw: str, want: str, repaired: bool) -> None:
    repairs: list[str] = []
    assert parse_money("amount", raw, repairs) == Decimal(want)
    assert bool(repairs) is repaired


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("abc", Reason.UNPARSEABLE_NUMBER),
        ("N/A", Reason.UNPARSEABLE_NUMBER),
        ("R ???", Reason.UNPARSEABLE_NUMBER),
        ("twelve thousand", Reason.UNPARSEABLE_NUMBER),
        ("-", Reason.UNPARSEABLE_NUMBER),
        ("1.2.3", Reason.UNPARSEABLE_NUMBER),
        ("-5000.00", Reason.NEGATIVE_AMOUNT),
        ("99999999.00", Reason.IMPLAUSIBLE_AMOUNT),
        ("20000000.01", Reason.IMPLAUSIBLE_AMOUNT),
    ],
)
def test_money_rejects(raw: str, reason: Reason) -> None:
    with pytest.raises(RuleViolation) as e:
        parse_money("amount", raw, [])
    assert e.value.reason is reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("9" * 40, Reason.IMPLAUSIBLE_AMOUNT), ("-" + "9" * 40, Reason.NEGATIVE_AMOUNT),
     ("1" * 27 + ".5", Reason.IMPLAUSIBLE_AMOUNT)],
)  # fmt: skip
def test_money_with_more_digits_than_decimal_holds_is_rejected_not_raised(
    raw: str, reason: Reason
) -> None:
    """Found by the fuzz test: quantize raised decimal.InvalidOperation past 26 digits."""
    with pytest.raises(RuleViolation) as e:
        parse_money("amount", raw, [])
    assert e.value.reason is reason


def test_the_largest_int_of_an_avro_int_is_clean() -> None:
    clean, _ = all_rules()["iot.telemetry"].apply(_telemetry(odometer_km=str(2**31 - 1)))
    assert clean["odometer_km"] == 2**31 - 1


def test_money_ceiling_is_inclusive() -> None:
    assert parse_money("amount", "20000000.00", []) == Decimal("20000000.00")


@pytest.mark.parametrize(
    "raw",
    ["2025-03-07", "2025/03/07", "07-03-2025", "07/03/2025", "07-03-2025 14:00",
     "2025-03-07T14:12:00+02:00"],
)  # fmt: skip
def test_date_variants_are_day_first_and_keep_the_written_date(raw: str) -> None:
    repairs: list[str] = []
    assert parse_date("d", raw, repairs) == date(2025, 3, 7)
    assert bool(repairs) is (raw != "2025-03-07")


@pytest.mark.parametrize("raw", ["31-02-2025", "2025-02-30", "31-04-2025", "2025-13-01", "soon"])
def test_impossible_dates_are_invalid(raw: str) -> None:
    with pytest.raises(RuleViolation) as e:
        parse_date("d", raw, [])
    assert e.value.reason is Reason.INVALID_DATE


def test_vin_normalisation_and_check_digit() -> None:
    vin = _valid_vin()
    for variant in (vin + "X", vin + "XXX", f" {vin}  ", vin.lower()):
        repairs: list[str] = []
        assert parse_vin("vin", variant, repairs) == vin
        assert repairs == ["vin_format"]
    assert parse_vin("vin", vin, []) == vin
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    for bad in (vin[:12], wrong, vin.replace(vin[0], "I", 1)):
        with pytest.raises(RuleViolation) as e:
            parse_vin("vin", bad, [])
        assert e.value.reason is Reason.INVALID_VIN


@pytest.mark.parametrize(
    "raw", ["a.b.example.com", "a@@example.com", "a@", "a@example", "a @example.com"]
)
def test_bad_emails(raw: str) -> None:
    with pytest.raises(RuleViolation) as e:
        check_email("email", raw)
    assert e.value.reason is Reason.INVALID_EMAIL
    assert check_email("email", "thandi.nel42@webmail.co.za") == "thandi.nel42@webmail.co.za"


@pytest.mark.parametrize("raw", ["12345", "+27 82 12", "n/a", "0000000000", "+1 555 0100"])
def test_bad_phones(raw: str) -> None:
    with pytest.raises(RuleViolation) as e:
        check_phone("phone", raw)
    assert e.value.reason is Reason.INVALID_PHONE
    assert check_phone("phone", "+27821234567") == "+27821234567"
    assert check_phone("phone", "082 123-4567") == "+27821234567"


def test_garbage_suffix_is_stripped() -> None:
    repairs: list[str] = []
    assert strip_text("Pretoria??", repairs) == "Pretoria"
    assert repairs == ["garbage_suffix"]
    assert strip_text("Pretoria", []) == "Pretoria"


def _telemetry(**over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "event_id": "e1", "event_type": "telemetry.reading", "source_system": "IOT",
        "event_time": datetime(2025, 3, 7, tzinfo=UTC),
        "produced_at": datetime(2025, 3, 7, tzinfo=UTC),
        "telemetry_id": "TEL-1", "vin": _valid_vin(), "speed_kmh": "88.5",
        "fuel_level_pct": "40.0", "engine_temp_c": "90.0", "latitude": "-25.7",
        "longitude": "28.2", "odometer_km": "1200", "error_codes": [],
    }  # fmt: skip
    rec.update(over)
    return rec


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("speed_kmh", "9999.0", Reason.OUT_OF_RANGE),
        ("speed_kmh", "-50.0", Reason.OUT_OF_RANGE),
        ("fuel_level_pct", "150.0", Reason.OUT_OF_RANGE),
        ("fuel_level_pct", None, Reason.MISSING_REQUIRED_FIELD),
        ("engine_temp_c", "-80.0", Reason.OUT_OF_RANGE),
        ("engine_temp_c", "300.0", Reason.OUT_OF_RANGE),
        ("odometer_km", "lots", Reason.UNPARSEABLE_NUMBER),
        # found by the fuzz test: these went clean
        ("latitude", "nan", Reason.UNPARSEABLE_NUMBER),
        ("longitude", "-inf", Reason.UNPARSEABLE_NUMBER),
        ("latitude", "1e999", Reason.UNPARSEABLE_NUMBER),
        ("odometer_km", str(2**31), Reason.OUT_OF_RANGE),  # an Avro int holds less
        ("odometer_km", str(-(2**31) - 1), Reason.OUT_OF_RANGE),
        ("latitude", "1e308", Reason.OUT_OF_RANGE),  # the warehouse's CHECKs, now orion.range
        ("longitude", "-180.5", Reason.OUT_OF_RANGE),
        ("odometer_km", "-1", Reason.OUT_OF_RANGE),
        ("telemetry_id", "TEL\x001", Reason.GARBAGE_VALUE),
        ("event_id", "e\x00", Reason.GARBAGE_VALUE),
        ("error_codes", ["P0300", "\x00"], Reason.GARBAGE_VALUE),
    ],
)
def test_telemetry_ranges(field: str, value: object, reason: Reason) -> None:
    with pytest.raises(RuleViolation) as e:
        all_rules()["iot.telemetry"].apply(_telemetry(**{field: value}))
    assert e.value.reason is reason


def test_a_valid_record_gets_clean_types_and_its_references() -> None:
    rules = all_rules()["iot.telemetry"]
    clean, repairs = rules.apply(_telemetry(speed_kmh="350"))
    assert clean["speed_kmh"] == 350.0 and clean["odometer_km"] == 1200
    assert repairs == []
    assert rules.references(clean) == [("vin", "erp.vehicles", _valid_vin())]


def test_every_entity_has_rules_and_referents_are_entities() -> None:
    rules = all_rules()
    assert len(rules) == 14
    assert set(REFERENT_STEMS) <= set(rules)


def test_content_hash_ignores_event_id_and_produced_at_only() -> None:
    a = _telemetry()
    b = _telemetry(event_id="e2", produced_at=datetime(2025, 3, 8, tzinfo=UTC))
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(_telemetry(speed_kmh="88.6"))


def _sale(**over: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "event_id": "e1", "event_type": "sale.recorded", "source_system": "ERP",
        "event_time": datetime(2025, 3, 7, tzinfo=UTC),
        "produced_at": datetime(2025, 3, 7, tzinfo=UTC), "sale_id": "SAL-1",
        "sale_date": "2025-03-07", "customer_id": "C-1", "vin": _valid_vin(),
        "dealer_id": "D-1", "sale_price": "100000.00", "discount_amount": "5000.00",
        "final_price": "95000.00", "sale_channel": "ONLINE", "sale_status": "COMPLETED",
        "payment_method": "EFT",
    }  # fmt: skip
    rec.update(over)
    return rec


def test_a_total_that_is_not_the_sum_of_its_parts_is_inconsistent() -> None:
    """Found by the fuzz test: a repaired price ("R 1 234,50") beside an unchanged total
    went clean and failed the warehouse's CHECK (final_price = sale_price - discount)."""
    rules = all_rules()["erp.sales"]
    clean, _ = rules.apply(_sale(final_price="R 95 000,00"))
    assert clean["final_price"] == Decimal("95000.00")
    with pytest.raises(RuleViolation) as e:
        rules.apply(_sale(final_price="95000.01"))
    assert e.value.reason is Reason.INCONSISTENT_VALUES and e.value.rule == "sum.final_price"
