"""One module per format: cells as the contract says, read back with the stdlib or openpyxl."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from openpyxl import load_workbook

from producers.exports.columns import columns_of, iso
from producers.exports.csv_format import csv_bytes
from producers.exports.json_format import json_bytes
from producers.exports.plan import PLANS, Format
from producers.exports.style import FileStyle
from producers.exports.xlsx_format import xlsx_bytes

MS = 1_740_816_900_123  # 2025-03-01T08:15:00.123Z


def _row(stem: str, **values: object) -> dict[str, object]:
    cols = columns_of(stem)
    row: dict[str, object] = dict.fromkeys(cols.fields, "x")
    for f in cols.instants:
        row[f] = MS
    for f in cols.arrays:
        row[f] = []
    row.update(values)
    return row


def _style(stem: str, **kw: object) -> FileStyle:
    return FileStyle(headers=columns_of(stem).fields, **kw)  # type: ignore[arg-type]


def test_iso_instants_have_milliseconds_and_a_z() -> None:
    assert iso(MS) == "2025-03-01T08:15:00.123Z"


def test_csv_null_is_an_empty_cell_and_arrays_are_joined() -> None:
    stem = "iot.telemetry"
    rows = [_row(stem, error_codes=["P0300", "P0171"], fuel_level_pct=None)]
    text = csv_bytes(columns_of(stem), rows, _style(stem), PLANS[stem]).decode()
    header, line = csv.DictReader(io.StringIO(text)), None
    (line,) = list(header)
    assert line["error_codes"] == "P0300|P0171" and line["fuel_level_pct"] == ""
    assert line["event_time"] == "2025-03-01T08:15:00.123Z"


def test_cp1252_only_when_every_value_fits_else_utf8() -> None:
    stem = "crm.customers"
    cols, plan = columns_of(stem), PLANS[stem]
    style = _style(stem, encoding="cp1252")
    fits = csv_bytes(cols, [_row(stem, first_name="Séamus")], style, plan)
    assert "Séamus".encode("cp1252") in fits and fits.decode("cp1252")
    does_not = csv_bytes(cols, [_row(stem, first_name="Łukasz")], style, plan)
    assert "Łukasz".encode() in does_not
    bom = csv_bytes(cols, [_row(stem)], _style(stem, encoding="utf-8-sig"), plan)
    assert bom.startswith(b"\xef\xbb\xbf")


def test_decimal_commas_only_for_clean_money_in_the_semicolon_file() -> None:
    stem = "erp.production_costs"
    rows = [_row(stem, materials_cost="1234.50", labour_cost="R 1 234,50", plant="1.25")]
    text = csv_bytes(columns_of(stem), rows, _style(stem), PLANS[stem]).decode()
    (line,) = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert line["materials_cost"] == "1234,50"
    assert line["labour_cost"] == "R 1 234,50"  # a defect stays as the simulator made it
    assert line["plant"] == "1.25"  # not money


def test_blank_lines_and_the_repeated_header_sit_between_data_rows() -> None:
    stem = "erp.sales"
    rows = [_row(stem, sale_id=f"S{i}") for i in range(4)]
    style = _style(stem, newline="\r\n", blank_before=frozenset({1, 4}), header_again_before=2)
    text = csv_bytes(columns_of(stem), rows, style, PLANS[stem]).decode()
    lines = text.split("\r\n")
    assert lines[2] == "" and lines[4] == lines[0] and lines[-2:] == ["", ""]
    data = [
        r for r in csv.reader(io.StringIO(text, newline="")) if any(r) and r != lines[0].split(",")
    ]
    assert [r[5] for r in data] == ["S0", "S1", "S2", "S3"]


def test_xlsx_date_time_cells_carry_the_millisecond_in_utc() -> None:
    stem = "supplier.procurement"
    rows = [_row(stem, actual_delivery_date=None)]
    data = xlsx_bytes(
        columns_of(stem), rows, _style(stem, typed_instants=True), "P", datetime(2025, 3, 1)
    )
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    header, row = list(ws.iter_rows(values_only=True))
    got = dict(zip(header, row, strict=True))
    assert got["event_time"] == datetime(2025, 3, 1, 8, 15, 0, 123000)
    assert got["actual_delivery_date"] is None and got["status"] == "x"


def test_json_keeps_types_and_may_write_epoch_ms() -> None:
    stem = "iot.telemetry"
    rows = [_row(stem, error_codes=["P0300"], vin=None)]
    cols = columns_of(stem)
    (obj,) = json.loads(json_bytes(cols, rows, _style(stem), Format.JSON))
    assert obj["error_codes"] == ["P0300"] and obj["vin"] is None
    assert obj["event_time"] == "2025-03-01T08:15:00.123Z"
    line = json_bytes(cols, rows, _style(stem, epoch_ms=True), Format.JSONL).decode()
    assert json.loads(line)["event_time"] == MS and line.endswith("\n")
