"""The ground-truth ledger of a file run: each row's event id as the ingester will derive it.

Who calls it: the writer, once per finished file, with the ledger records of
its rows in row order and the SHA-256 of its bytes. The ingester ignores the
source's event id and gives data row ``i`` the id
``orion.landing.row_event_id(sha256, i)``, so every record is rebuilt (never
changed in place) with:

- ``event_id`` and ``expected["event_id"]``: the derived id;
- ``duplicate_of``: the derived id of the first copy (always in this file
  or an earlier file of the same entity: the simulator repeats only recent
  events, and an entity's files are written in order);
- an EXACT_RESEND (the same event id again) becomes BUSINESS_DUPLICATE,
  outcome still DUPLICATE: in a file it is another row with the same
  content, so it gets an id of its own and the processors see a business
  duplicate;
- ``outcome`` ACCEPT becomes REPAIR, with CURRENCY_FORMAT added to
  ``defects``, for a row whose money was written with a decimal comma
  (``1234,50`` in the ``;`` files): the contract passes business values on
  as text, and the processors' money rule counts a comma as a repair. (A
  row that had a defect already then lists two.)

POISON events (bytes that are not Avro) have no file form: the writer
leaves them out of the files, and so out of this ledger. ``seq`` keeps the
simulated stream's position, so a file run's ledger has gaps where the
poison was, and its lines come in file order (entity by entity as files
close), not in ``seq`` order. The format is :mod:`producers.ledger`'s.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from orion.landing import row_event_id
from orion.reasons import DefectKind, Outcome
from producers.exports.exceptions import ExportError
from producers.ledger import LedgerRecord

__all__ = ["IdRewriter"]

REMEMBER = 1 << 17
"""Source ids kept for duplicates to find their first copy (the simulator's window is 256)."""


class IdRewriter:
    """Rewrites ledger records file by file; remembers recent source -> derived ids."""

    def __init__(self, remember: int = REMEMBER) -> None:
        self._derived: OrderedDict[str, str] = OrderedDict()
        self._remember = remember

    def rewrite(
        self,
        records: Sequence[LedgerRecord],
        sha256: str,
        comma_rows: frozenset[int] = frozenset(),
    ) -> list[LedgerRecord]:
        """The records of one file's data rows 0..n-1, with derived ids (module docstring)."""
        ids = [row_event_id(sha256, i) for i in range(len(records))]
        derived = self._derived
        for rec, new in zip(records, ids, strict=True):
            if rec.event_id not in derived:  # an exact resend keeps its first copy's entry
                derived[rec.event_id] = new
                if len(derived) > self._remember:
                    derived.popitem(last=False)
        out = []
        for i, (rec, new) in enumerate(zip(records, ids, strict=True)):
            d = rec.to_dict()
            d["event_id"] = new
            if d["expected"] is not None:
                d["expected"] = {**d["expected"], "event_id": new}
            if rec.duplicate_of is not None:
                first = derived.get(rec.duplicate_of)
                if first is None:
                    raise ExportError(
                        f"seq {rec.seq}: duplicate of {rec.duplicate_of}, which no file holds",
                        fix="a bug: duplicates repeat recent events; raise REMEMBER",
                    )
                d["duplicate_of"] = first
            defects = [DefectKind(k) for k in d["defects"]]
            if DefectKind.EXACT_RESEND in defects:
                defects = [
                    DefectKind.BUSINESS_DUPLICATE if k is DefectKind.EXACT_RESEND else k
                    for k in defects
                ]
            if i in comma_rows and rec.outcome is Outcome.ACCEPT:
                d["outcome"] = Outcome.REPAIR
                defects.append(DefectKind.CURRENCY_FORMAT)
            d["defects"] = defects
            out.append(LedgerRecord.from_dict(d))
        return out
