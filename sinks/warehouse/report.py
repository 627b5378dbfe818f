"""The business questions: one view per question in schema ``analytics``.

A question's name is its view's name, its title the view's comment
(``COMMENT ON VIEW``), so adding a question is one migration and ``orion
report`` lists it without a code change. The data-quality scorecard's views
are read the same way from schema ``dq``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

from orion.exceptions import ConfigurationError

__all__ = ["Answer", "Question", "answer", "questions"]


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    schema: str = "analytics"


@dataclass(frozen=True)
class Answer:
    question: Question
    columns: list[str]
    rows: list[tuple[Any, ...]]


def questions(conn: Connection, schema: str = "analytics") -> list[Question]:
    """Every view in ``schema``, by name (none when the schema does not exist)."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('v', 'm') ORDER BY c.relname",
            (schema,),
        )
        out = [Question(n, t, schema) for n, t in cur.fetchall()]
    conn.rollback()
    return out


def answer(conn: Connection, question: Question, limit: int | None = None) -> Answer:
    """The rows of one question's view (at most ``limit``), read in a read-only transaction."""
    query = sql.SQL("SELECT * FROM {} LIMIT %s").format(
        sql.Identifier(question.schema, question.name)
    )
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION READ ONLY")
        cur.execute(query, (limit,))
        cols = [d[0] for d in cur.description or ()]
        rows = [tuple(r) for r in cur.fetchall()]
    conn.rollback()
    return Answer(question, cols, rows)


def find(conn: Connection, name: str) -> Question:
    """The question called ``name``; ConfigurationError listing the names otherwise."""
    known = questions(conn)
    for q in known:
        if q.name == name:
            return q
    raise ConfigurationError(
        f"no question named {name!r}",
        fix="one of: " + ", ".join(q.name for q in known) if known else "run migrations",
    )
