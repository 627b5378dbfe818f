"""OffsetBook: which records a worker handles and which offsets it commits (pure logic)."""

from __future__ import annotations

from stream_processors.offsets import OffsetBook


def test_a_record_is_handled_only_at_the_expected_offset() -> None:
    book: OffsetBook[str] = OffsetBook()
    assert book.expected("t0") is None  # nothing handled since the assignment
    assert book.check(10, expected=10) == "handle"
    assert book.check(9, expected=10) == "skip"  # before the commit: done already
    assert book.check(12, expected=10) == "gap"  # fetched before a seek, or retention


def test_own_progress_sets_the_next_offset() -> None:
    book: OffsetBook[str] = OffsetBook()
    book.handled("t0", 10)
    assert book.expected("t0") == 11


def test_due_holds_only_what_moved_since_the_last_commit() -> None:
    book: OffsetBook[str] = OffsetBook()
    book.handled("a", 4)
    book.handled("b", 7)
    assert book.due() == {"a": 5, "b": 8}
    book.committed({"a": 5, "b": 8})
    assert book.due() == {}
    book.handled("a", 5)
    assert book.due() == {"a": 6}


def test_forget_drops_revoked_partitions() -> None:
    book: OffsetBook[str] = OffsetBook()
    book.handled("a", 4)
    book.forget(["a"])
    assert book.due() == {}
    assert book.expected("a") is None
