"""The rule engine every entity module configures: repair, then validate, field by field.

Who calls it: :mod:`stream_processors.pipeline`, once per decoded raw record.
Types come from the clean ``.avsc`` (the single source of truth): a decimal
field is money, an ``int`` with ``logicalType: date`` is a date, an enum has
its closed vocabulary. What Avro types cannot say (this field is an e-mail, a
VIN, free text, a foreign key, has a physical range) the clean schema says in
its ``orion.*`` attributes, read by :mod:`orion.catalog` into an
:class:`~orion.catalog.Entity`.

The repairs and the reject reasons follow ``producers/defects.py`` (the
contract): a deterministic repair is applied and named; anything else raises
:class:`~stream_processors.exceptions.RuleViolation` with a stable
:class:`~orion.reasons.Reason`. Converters are compiled once per entity into
closures, so the hot path is a loop over fields with no lookups by name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from orion.catalog import ENVELOPE, MASTER_ENVELOPE, Entity, load_schema
from orion.reasons import Reason
from orion.vin import is_valid_vin
from stream_processors.exceptions import RuleViolation

__all__ = ["CompiledRules", "compile_rules"]

MONEY_CEILING = Decimal("20000000.00")
_CENT = Decimal("0.01")
_MONEY = re.compile(r"-?\d+(\.\d{1,2})?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(\+27|0)[1-8]\d{8}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_YMD_SLASH = re.compile(r"(\d{4})/(\d{2})/(\d{2})")
_DMY = re.compile(r"(\d{2})[-/](\d{2})[-/](\d{4})")
_ENVELOPE = frozenset({*ENVELOPE, *MASTER_ENVELOPE})
_TYPE_BOUNDS = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}

Repairs = list[str]
Converter = Callable[[Any, Repairs], Any]


# -- value parsers (pure; each raises RuleViolation or returns the clean value) --------------


def parse_money(field: str, raw: str, repairs: Repairs) -> Decimal:
    """``"R 1 234,50"`` -> ``Decimal("1234.50")``; the rules of producers/defects.py."""
    s = raw.strip()
    body = s
    if body.startswith("ZAR"):
        body = body[3:]
    elif body.startswith("R"):
        body = body[1:]
    body = "".join(body.split())
    if "," in body:
        body = body.replace(",", "") if "." in body else body.replace(",", ".")
    if not _MONEY.fullmatch(body):
        raise RuleViolation(Reason.UNPARSEABLE_NUMBER, f"money.{field}", f"{raw!r} is no amount")
    if body != s:
        repairs.append("currency_format")
    value = Decimal(body)
    # Bounds before quantize: quantizing more than 26 digits raises InvalidOperation,
    # which stopped the processor (found by the fuzz test).
    if value < 0:
        raise RuleViolation(Reason.NEGATIVE_AMOUNT, f"money.{field}", f"{raw!r} is negative")
    if value > MONEY_CEILING:
        raise RuleViolation(
            Reason.IMPLAUSIBLE_AMOUNT, f"money.{field}", f"{raw!r} exceeds R 20 000 000.00"
        )
    return value.quantize(_CENT)


def parse_date(field: str, raw: str, repairs: Repairs) -> date:
    """ISO, ``YYYY/MM/DD``, day-first ``DD-MM-YYYY``/``DD/MM/YYYY``; a time or offset is dropped."""
    s = raw.strip()
    m = _ISO_DATE.match(s)
    if m is not None:
        y, mo, d = m.groups()
    else:
        m = _YMD_SLASH.match(s)
        if m is not None:
            y, mo, d = m.groups()
        else:
            m = _DMY.match(s)
            if m is None:
                raise RuleViolation(Reason.INVALID_DATE, f"date.{field}", f"{raw!r} is no date")
            d, mo, y = m.groups()
    rest = s[m.end() :]
    if rest and not (rest[0] in " T" and rest[1:3].isdigit()):
        raise RuleViolation(Reason.INVALID_DATE, f"date.{field}", f"{raw!r} is no date")
    try:
        value = date(int(y), int(mo), int(d))
    except ValueError as e:
        raise RuleViolation(Reason.INVALID_DATE, f"date.{field}", f"{raw!r}: {e}") from e
    if m.re is not _ISO_DATE or rest:
        repairs.append("date_format")
    return value


@lru_cache(maxsize=1 << 16)
def _valid_vin(vin: str) -> bool:
    """Cached: telemetry names the same few thousand vehicles over and over."""
    return is_valid_vin(vin)


def parse_vin(field: str, raw: str, repairs: Repairs) -> str:
    """Strip, upper-case, cut a trailing run of X beyond 17; then demand a valid check digit."""
    vin = "".join(raw.split()).upper()
    if len(vin) > 17 and vin[17:].strip("X") == "":
        vin = vin[:17]
    if not _valid_vin(vin):
        raise RuleViolation(Reason.INVALID_VIN, f"vin.{field}", f"{raw!r} is not a valid VIN")
    if vin != raw:
        repairs.append("vin_format")
    return vin


def check_email(field: str, raw: str) -> str:
    s: str = raw.strip()
    if not _EMAIL.fullmatch(s):
        raise RuleViolation(Reason.INVALID_EMAIL, f"email.{field}", f"{raw!r} is no e-mail")
    return s


def check_phone(field: str, raw: str) -> str:
    s = raw.strip().replace(" ", "").replace("-", "")
    if not _PHONE.fullmatch(s):
        raise RuleViolation(Reason.INVALID_PHONE, f"phone.{field}", f"{raw!r} is no SA number")
    return "+27" + s[1:] if s.startswith("0") else s


def strip_text(raw: str, repairs: Repairs) -> str:
    s = raw.strip()
    if s.endswith("??"):
        s = s[:-2].rstrip()
        repairs.append("garbage_suffix")
    return s


def parse_number(field: str, raw: str, kind: str) -> int | float:
    """An int or a *finite* double: ``float()`` reads "nan", "inf" and "1e999" too, and
    no warehouse column, chart or sum has a use for them."""
    try:
        n = int(raw) if kind == "int" else float(raw)
    except ValueError as e:
        raise RuleViolation(
            Reason.UNPARSEABLE_NUMBER, f"number.{field}", f"{raw!r} is no {kind}"
        ) from e
    if n.__class__ is float and not math.isfinite(n):
        raise RuleViolation(
            Reason.UNPARSEABLE_NUMBER, f"number.{field}", f"{raw!r} is no finite number"
        )
    return n


def check_text(field: str, value: str) -> str:
    """NUL is the one character no PostgreSQL text (nor C string) can hold: a clean
    record with it was loaded by no warehouse transaction (found by the fuzz test)."""
    if "\x00" in value:
        raise RuleViolation(
            Reason.GARBAGE_VALUE, f"text.{field}", f"{field} contains a NUL character"
        )
    return value


def check_sum(field: str, terms: tuple[tuple[str, int], ...], clean: dict[str, Any]) -> None:
    """``orion.sum_of``: a total that is not the sum of its parts is rejected, not loaded
    (the warehouse's CHECK refused it; found by the fuzz test)."""
    total = clean.get(field)
    if total is None or any(clean.get(t) is None for t, _ in terms):
        return
    expected = sum((clean[t] * sign for t, sign in terms), Decimal(0))
    if total != expected:
        spelled = " ".join(("- " if sign < 0 else "+ ") + t for t, sign in terms).lstrip("+ ")
        raise RuleViolation(Reason.INCONSISTENT_VALUES, f"sum.{field}",
                            f"{field} {total} is not {spelled} = {expected}")  # fmt: skip


# -- compilation --------------------------------------------------------------------------


def _converter(entity: Entity, field: str, ftype: Any) -> Converter:
    base = ftype.get("type") if isinstance(ftype, dict) else ftype
    logical = ftype.get("logicalType") if isinstance(ftype, dict) else None
    ranges = {f: (lo, hi) for f, lo, hi in entity.ranges}
    kind = dict(entity.kinds).get(field)
    if kind == "vin":
        return lambda v, r: parse_vin(field, v, r)
    if kind == "email":
        return lambda v, r: check_email(field, v)
    if kind == "phone":
        return lambda v, r: check_phone(field, v)
    if logical == "decimal":
        return lambda v, r: parse_money(field, v, r)
    if logical == "date":
        return lambda v, r: parse_date(field, v, r)
    if base == "enum":
        symbols = frozenset(ftype["symbols"])

        def enum(v: Any, r: Repairs) -> str:
            s: str = v.strip().upper()
            if s not in symbols:
                raise RuleViolation(Reason.INVALID_ENUM, f"enum.{field}", f"{v!r} not allowed")
            if s != v:
                r.append("enum_case")
            return s

        return enum
    if base in ("int", "long", "double", "float"):
        numeric = "int" if base in ("int", "long") else "double"
        # An int beyond its Avro type was written by fastavro without complaint and
        # failed the warehouse's integer column (found by the fuzz test).
        lo, hi = ranges.get(field, _TYPE_BOUNDS.get(base, (float("-inf"), float("inf"))))

        def number(v: Any, r: Repairs) -> int | float:
            n = parse_number(field, v, numeric)
            if not lo <= n <= hi:
                raise RuleViolation(
                    Reason.OUT_OF_RANGE, f"range.{field}", f"{v!r} outside {lo:g}..{hi:g}"
                )
            return n

        return number
    if base == "array":
        return lambda v, r: [check_text(field, e) for e in v]
    if kind == "text":
        return strip_text
    return lambda v, r: v.strip()


@dataclass(frozen=True)
class CompiledRules:
    """One entity's rules ready to run: ``apply(raw) -> (clean, repairs)``."""

    entity: Entity
    converters: tuple[tuple[str, bool, Converter], ...]
    """(field, optional, converter of a present value) in schema order."""
    passthrough: tuple[str, ...]

    def apply(self, raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The clean record and the repairs made; RuleViolation on the first bad field.

        A null or blank value is missing: None where the clean schema allows it,
        else MISSING_REQUIRED_FIELD. The check is inline, not one more call per
        field: this loop is the processor's hottest code.
        """
        repairs: list[str] = []
        out = {name: raw[name] for name in self.passthrough}
        for name in self.passthrough:
            value = out[name]
            if value.__class__ is str and "\x00" in value:
                check_text(name, value)
        for name, optional, convert in self.converters:
            value = raw.get(name)
            if value is None or (value.__class__ is str and not value.strip()):
                if not optional:
                    raise RuleViolation(
                        Reason.MISSING_REQUIRED_FIELD, f"required.{name}", f"{name} is missing"
                    )
                out[name] = None
                continue
            if value.__class__ is str and "\x00" in value:
                check_text(name, value)
            out[name] = convert(value, repairs)
        for name, terms in self.entity.sums:
            check_sum(name, terms, out)
        return out, repairs

    def references(self, clean: dict[str, Any]) -> list[tuple[str, str, str]]:
        """(field, referent stem, id) of every foreign key of a clean record."""
        refs = self.entity.references
        return [(f, stem, clean[f]) for f, stem in refs if clean.get(f) is not None]


def compile_rules(entity: Entity) -> CompiledRules:
    schema = load_schema(entity.schema_path("clean"))
    converters: list[tuple[str, bool, Converter]] = []
    passthrough: list[str] = []
    for f in schema["fields"]:
        name, ftype = f["name"], f["type"]
        if name in _ENVELOPE:
            passthrough.append(name)
            continue
        optional = isinstance(ftype, list) and "null" in ftype
        inner_type = next(t for t in ftype if t != "null") if isinstance(ftype, list) else ftype
        converters.append((name, optional, _converter(entity, name, inner_type)))
    return CompiledRules(entity, tuple(converters), tuple(passthrough))
