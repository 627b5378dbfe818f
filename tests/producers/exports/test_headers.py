"""Every header folds to its raw field under the contract's rule; extra columns fold to nothing."""

from __future__ import annotations

import random

import pytest

from orion.catalog import entities
from producers.exports.columns import camel, columns_of, title
from producers.exports.plan import PLANS, Format
from producers.exports.style import EXTRA_HEADERS, draw_style
from tests.producers.exports.conftest import Export
from tests.producers.exports.landing_reader import field_of_header, fold, read_file


def test_every_files_headers_map_to_each_raw_field_once(exported: Export) -> None:
    extras = {fold(h) for h in EXTRA_HEADERS}
    for stem in PLANS:
        cols = columns_of(stem)
        fields = field_of_header(cols)
        for p in exported.files(stem):
            headers = read_file(p).headers
            mapped = [fields.get(fold(h)) for h in headers]
            assert sorted(f for f in mapped if f) == sorted(cols.fields), p.name
            assert all(fold(h) in extras for h, f in zip(headers, mapped, strict=True) if not f)


@pytest.mark.parametrize("stem", sorted(PLANS))
def test_no_alias_or_extra_column_folds_to_another_field(stem: str) -> None:
    cols = columns_of(stem)
    names = {fold(f): f for f in cols.fields}
    for f, aliases in cols.aliases.items():
        for a in aliases:
            assert names.get(fold(a), f) == f, f"{stem}: alias {a!r} of {f} is another field"
    assert not {fold(h) for h in EXTRA_HEADERS} & set(field_of_header(cols))


@pytest.mark.parametrize("stem", sorted(PLANS))
def test_every_variant_of_a_field_name_folds_to_it(stem: str) -> None:
    for f in columns_of(stem).fields:
        assert {fold(v) for v in (f, title(f), f.upper(), camel(f))} == {fold(f)}
    assert title("sale_id") == "Sale ID" and camel("sale_id") == "saleId"


def test_styles_cover_every_header_form() -> None:
    cols = columns_of("erp.sales")
    seen = set()
    for i in range(200):
        rng = random.Random(i)  # noqa: S311
        fmt = (Format.CSV, Format.JSON)[i % 2]
        headers = draw_style(fmt, cols, 10, rng).headers
        if "sale_id" in headers:
            seen.add("name")
        if "Sale ID" in headers:
            seen.add("title")
        if "SALE_ID" in headers:
            seen.add("upper")
        if "saleId" in headers:
            seen.add("camel")
        if "Price (ZAR)" in headers or "Selling Price" in headers:
            seen.add("alias")
    assert seen == {"name", "title", "upper", "camel", "alias"}


def test_the_schemas_declare_aliases_the_files_use() -> None:
    assert any(e.headers for e in entities())
