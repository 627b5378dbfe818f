"""PostgreSQL's set-up on a running server: callers at once take turns, none fails."""

from __future__ import annotations

import threading

import psycopg2
import pytest

from orionctl.stack.config import StackConfig
from orionctl.stack.postgres import SET_UP_LOCK, Postgres
from orionctl.stack.process import wait_until

pytestmark = pytest.mark.integration


def _waiting_on_set_up_lock(pg: Postgres) -> bool:
    """Whether some backend waits for the set-up lock (pg_locks: not granted)."""
    with psycopg2.connect(pg.dsn("postgres"), connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND ((classid::bigint << 32) | objid::bigint) = %s",
            (SET_UP_LOCK,),
        )
        row = cur.fetchone()
    conn.close()
    return row is not None and row[0] > 0


def test_set_up_waits_for_one_already_under_way(stack: StackConfig) -> None:
    pg = Postgres(stack)
    holder = psycopg2.connect(pg.dsn("postgres"), connect_timeout=5)
    holder.autocommit = True
    errors: list[BaseException] = []

    def set_up() -> None:
        try:
            pg.after_start()
        except BaseException as e:  # reported by the assertion below
            errors.append(e)

    try:
        with holder.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (SET_UP_LOCK,))
        other = threading.Thread(target=set_up)
        other.start()
        assert wait_until(lambda: _waiting_on_set_up_lock(pg), 15), "set-up did not wait"
        assert other.is_alive()
    finally:
        holder.close()
    other.join(60)
    assert not other.is_alive()
    assert errors == []


def test_concurrent_set_ups_all_succeed(stack: StackConfig) -> None:
    """What two pytest-xdist workers do when they both bring the stack up."""
    pg = Postgres(stack)
    errors: list[BaseException] = []

    def set_up() -> None:
        try:
            pg.after_start()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=set_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [t for t in threads if t.is_alive()] == []
    assert errors == []
    with psycopg2.connect(pg.dsn("postgres"), connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname = ANY(%s) ORDER BY 1",
            (["orion_analyst", "orion_loader", "orion_migrator"],),
        )
        assert [r[0] for r in cur.fetchall()] == ["orion_analyst", "orion_loader", "orion_migrator"]
    conn.close()
