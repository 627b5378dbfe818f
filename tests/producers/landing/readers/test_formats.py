"""Each reader on the files sources really send, and on files that are not what they say."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import pytest
from openpyxl import Workbook

from producers.landing.readers import BadRow, FileRejected, ReadOptions, SourceRow, read_table


def rows(
    name: str, data: bytes, **options: object
) -> tuple[tuple[object, ...], list[SourceRow | BadRow]]:
    table = read_table(name, data, ReadOptions(**options))  # type: ignore[arg-type]
    return table.headers, list(table.rows)


def test_csv_with_bom_semicolons_quotes_blank_and_repeated_header_lines() -> None:
    data = (
        b'\xef\xbb\xbfSale ID;Price (ZAR);note\r\nS1;"1 234,50";"a; b"\r\n\r\n'
        b"Sale ID;Price (ZAR);note\r\nS2;5;\r\n"
    )
    headers, got = rows("x.csv", data)
    assert headers == ("Sale ID", "Price (ZAR)", "note")
    assert got == [SourceRow(2, ("S1", "1 234,50", "a; b")), SourceRow(5, ("S2", "5", ""))]


def test_csv_in_cp1252_decodes_and_says_so() -> None:
    data = "name,city\nJosé,Gqeberha\n".encode("cp1252")
    table = read_table("x.csv", data)
    assert list(table.rows) == [SourceRow(2, ("José", "Gqeberha"))]
    assert table.details["encoding"] == "cp1252"


def test_csv_rows_of_the_wrong_width_are_bad_rows_and_reading_goes_on() -> None:
    _, got = rows("x.csv", b"a,b\n1\n1,2,3\n1,2,\n4,5\n")
    assert got == [
        BadRow(2, "1 cells, the header has 2"),
        BadRow(3, "3 cells, the header has 2"),
        SourceRow(4, ("1", "2")),
        SourceRow(5, ("4", "5")),
    ]


def test_csv_with_a_quote_never_closed_is_rejected_with_its_line() -> None:
    table = read_table("x.csv", b'a,b\n1,2\n3,"open\n')
    with pytest.raises(FileRejected) as e:
        list(table.rows)
    assert e.value.reason == "MALFORMED_CSV"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("x.csv", b"", "EMPTY_FILE"),
        ("x.csv", b"\n\n  \n", "EMPTY_FILE"),
        ("x.csv", bytes(range(256)) * 40, "BINARY_CONTENT"),
        ("x.txt", b"a,b\n", "UNSUPPORTED_FORMAT"),
        ("x.json", b'{"a": 1}', "MALFORMED_JSON"),
        ("x.json", b"[1, 2", "MALFORMED_JSON"),
        ("x.xlsx", b"PK\x03\x04 truncated", "MALFORMED_XLSX"),
        ("x.xlsx", b"a,b\n1,2\n", "MALFORMED_XLSX"),
        # found by the fuzz test: these raised RecursionError / ValueError out of the pass
        ("x.json", b"[" * 100_000 + b"]" * 100_000, "MALFORMED_JSON"),
        ("x.json", b'[{"a": 1' + b"0" * 5_000 + b"}]", "MALFORMED_JSON"),
    ],
)
def test_files_that_cannot_be_read_are_rejected_with_a_reason(
    name: str, data: bytes, reason: str
) -> None:
    with pytest.raises(FileRejected) as e:
        read_table(name, data)
    assert e.value.reason == reason


def test_json_array_and_lines_take_the_union_of_keys() -> None:
    headers, got = rows("x.json", b'[{"a": 1, "b": null}, {"c": [1, 2]}, 7]')
    assert headers == ("a", "b", "c")
    assert got == [
        SourceRow(1, (1, None, None)),
        SourceRow(2, (None, None, [1, 2])),
        BadRow(3, "a JSON int, not an object"),
    ]
    headers, got = rows("x.jsonl", b'{"a": "x"}\n\n{oops\n{"a": "y"}\n')
    assert headers == ("a",)
    assert [type(r).__name__ for r in got] == ["SourceRow", "BadRow", "SourceRow"]
    bad = got[1]
    assert isinstance(bad, BadRow) and bad.line == 3 and "not JSON" in bad.reason


def test_json_lines_nested_too_deep_or_with_a_huge_int_are_bad_rows() -> None:
    data = b'{"a": 1}\n' + b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b'\n{"a": 1' + b"0" * 5_000
    headers, got = rows("x.jsonl", data + b'}\n{"a": 2}\n')
    assert headers == ("a",)
    assert [type(r).__name__ for r in got] == ["SourceRow", "BadRow", "BadRow", "SourceRow"]
    assert "nested deeper" in str(got[1]) and "4300 digits" in str(got[2])


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for row in cells:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_or_a_named_one_with_typed_cells() -> None:
    when = datetime(2025, 3, 1, 8, 15)
    data = _xlsx(
        {
            "Summary": [["note"], ["ignore me"]],
            "Orders": [["PO", "Qty", "at"], [], ["PO-1", 5, when], ["PO", "Qty", "at"]],
        }
    )
    assert rows("x.xlsx", data)[1] == [SourceRow(2, ("ignore me",))]
    headers, got = rows("x.xlsx", data, sheet="Orders")
    assert headers == ("PO", "Qty", "at")
    assert got == [SourceRow(3, ("PO-1", 5, when))]
    with pytest.raises(FileRejected) as e:
        rows("x.xlsx", data, sheet="Nope")
    assert e.value.reason == "NO_SUCH_SHEET"


def test_xlsx_that_would_expand_past_the_limit_is_refused_unread() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(FileRejected) as e:
        read_table("bomb.xlsx", out.getvalue(), ReadOptions(max_expanded_bytes=1024 * 1024))
    assert e.value.reason == "TOO_LARGE"
    assert len(out.getvalue()) < 100_000  # it was small on the wire


@pytest.mark.parametrize(
    ("data", "cells"),
    [
        (b'sale_id,notes\n\nS1,"a; b; c; d"\n', ("S1", "a; b; c; d")),
        (b'id;amount\nA;"1,5"\n\n', ("A", "1,5")),
        (b"id|amount\nA|1,5\n", ("A", "1,5")),
    ],
)
def test_the_delimiter_is_the_headers_even_when_values_are_full_of_another(
    data: bytes, cells: tuple[str, ...]
) -> None:
    _, got = rows("x.csv", data)
    assert got == [SourceRow(got[0].line, cells)]
