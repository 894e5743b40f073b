"""The database thread on SQLite and on a real PostgreSQL: writes waiting together are stored in
one transaction, a write that refuses or whose rows fail fails only its own caller, and calls run
in arrival order."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select

from api.storage.database import Database
from api.storage.models import AuditRow
from api.storage.models import IntentRow
from api.storage.store import Store
from api.storage.writer import Insert

INTENTS = IntentRow.__table__
AUDIT = AuditRow.__table__


def _count(database: Database, table: Any) -> int:
    with database.reading() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def _intent(user_id: str, n: int, intent_id: str | None = None) -> list[Insert]:
    row = {
        "id": intent_id or f"intent-{n}",
        "user_id": user_id,
        "text": f"intent {n}",
        "intent": {"n": n},
        "created_at_ms": n,
    }
    audit = {
        "at_ms": n,
        "user_id": user_id,
        "action": "test.write",
        "target": row["id"],
        "intent_id": row["id"],
        "config_hash": None,
        "detail": {"n": n},
    }
    return [(INTENTS, row), (AUDIT, audit)]  # type: ignore[list-item]


async def _held(database: Database, writes: list[Any]) -> list[Any]:
    """Queue ``writes`` while the database thread is held busy, so they wait together."""
    release = threading.Event()
    busy = asyncio.ensure_future(database.write(lambda: (release.wait(10), [])))
    await asyncio.sleep(0.05)  # the thread has taken the holding call (not timed: any is fine)
    futures = [asyncio.ensure_future(database.write(w)) for w in writes]
    await asyncio.sleep(0)
    release.set()
    await busy
    return await asyncio.gather(*futures, return_exceptions=True)


def test_writes_waiting_together_are_all_stored_with_their_answers(database: Database) -> None:
    user = Store(database).user_for_subject("writer", ("trader",), now_ms=1)
    audits_before = _count(database, AUDIT)

    def write(n: int) -> Any:
        return lambda: (f"answer-{n}", _intent(user.id, n))

    answers = asyncio.run(_held(database, [write(n) for n in range(20)]))

    assert answers == [f"answer-{n}" for n in range(20)]
    assert _count(database, INTENTS) == 20
    assert _count(database, AUDIT) == audits_before + 20


def test_a_refused_write_fails_alone(database: Database) -> None:
    user = Store(database).user_for_subject("writer", ("trader",), now_ms=1)

    def refuse() -> tuple[str, list[Insert]]:
        raise ValueError("refused")

    answers = asyncio.run(
        _held(
            database,
            [lambda: ("a", _intent(user.id, 1)), refuse, lambda: ("b", _intent(user.id, 2))],
        )
    )

    assert answers[0] == "a" and answers[2] == "b"
    assert isinstance(answers[1], ValueError)
    assert _count(database, INTENTS) == 2


def test_rows_that_fail_in_a_batch_fail_only_their_own_write(database: Database) -> None:
    user = Store(database).user_for_subject("writer", ("trader",), now_ms=1)
    writes = [
        lambda: ("a", _intent(user.id, 1)),
        lambda: ("dup", _intent(user.id, 2, intent_id="intent-1")),  # same primary key
        lambda: ("ghost", _intent("no-such-user", 3)),  # foreign key fails
        lambda: ("b", _intent(user.id, 4)),
    ]

    answers = asyncio.run(_held(database, writes))

    assert answers[0] == "a" and answers[3] == "b"
    assert all(isinstance(a, Exception) for a in answers[1:3])
    with database.reading() as c:
        ids = sorted(c.execute(select(INTENTS.c.id)).scalars())
    assert ids == ["intent-1", "intent-4"]


def test_calls_run_in_arrival_order_and_raise_to_their_caller(database: Database) -> None:
    seen: list[int] = []

    async def main() -> list[Any]:
        calls = [database.run(seen.append, n) for n in range(10)]
        return await asyncio.gather(*calls, database.run(int, "x"), return_exceptions=True)

    answers = asyncio.run(main())

    assert isinstance(answers[-1], ValueError)
    if database.engine.dialect.name == "sqlite":  # one thread; PostgreSQL uses several
        assert seen == list(range(10))
    else:
        assert sorted(seen) == list(range(10))


@pytest.mark.parametrize("reopen", [False, True])
def test_close_finishes_queued_writes_and_the_database_can_be_used_again(
    database: Database, reopen: bool
) -> None:
    user = Store(database).user_for_subject("writer", ("trader",), now_ms=1)

    async def main() -> str:
        answer: str = await database.write(lambda: ("a", _intent(user.id, 1)))
        return answer

    assert asyncio.run(main()) == "a"
    database.close()
    if reopen:
        assert asyncio.run(database.write(lambda: ("b", _intent(user.id, 2)))) == "b"
    assert _count(database, INTENTS) == (2 if reopen else 1)


def test_a_batch_is_one_transaction(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    user = Store(database).user_for_subject("writer", ("trader",), now_ms=1)
    transactions = 0
    writing = database.writing

    def counted() -> Any:
        nonlocal transactions
        transactions += 1
        return writing()

    monkeypatch.setattr(database, "writing", counted)

    def write(n: int) -> Any:
        return lambda: (n, _intent(user.id, n))

    assert asyncio.run(_held(database, [write(n) for n in range(10)])) == list(range(10))
    assert transactions == 2  # the holding write, then the ten together
