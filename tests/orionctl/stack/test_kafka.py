"""KRaft cluster ids: ``kafka-storage format`` must never read one as an option."""

from __future__ import annotations

import base64
import uuid

import pytest

from orionctl.stack.kafka import new_cluster_id


def test_an_id_that_would_start_with_a_dash_is_drawn_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0xF8 = 0b111110_00: the first base64 digit is 62, which is "-" in the URL-safe alphabet.
    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=b"\x10" + bytes(15))
    draws = iter([dashed, plain])
    monkeypatch.setattr("orionctl.stack.kafka.uuid.uuid4", lambda: next(draws))
    assert base64.urlsafe_b64encode(dashed.bytes).decode().startswith("-")
    assert new_cluster_id() == base64.urlsafe_b64encode(plain.bytes).rstrip(b"=").decode()


def test_ids_are_16_bytes_in_url_safe_base64() -> None:
    for _ in range(2000):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
