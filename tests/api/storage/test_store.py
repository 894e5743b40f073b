"""The store on SQLite and on a real PostgreSQL: rows round-trip, every query is scoped to its
user, runs open and close with the strategy state, and the audit log is append-only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.storage.database import Database
from api.storage.store import Store


def _plan(coin: str = "BTC") -> dict[str, Any]:
    return {
        "template": "DirectBuy",
        "coin": coin,
        "instrument_id": f"{coin}-USD-PERP.HYPERLIQUID",
        "live": False,
        "config_hash": "ab" * 32,
        "rendered": "Plan: DirectBuy",
        "strategy_config": {"strategy_path": "x:Y", "config_path": "x:YConfig", "config": {}},
    }


def test_migration_creates_every_table(database: Database) -> None:
    names = set(inspect(database.engine).get_table_names())

    assert {"users", "intents", "plans", "strategies", "runs", "audit_log"} <= names
    assert "agent_wallets" in names


def test_user_is_created_once_per_subject_and_roles_follow_the_token(database: Database) -> None:
    store = Store(database)

    first = store.user_for_subject("sub-a", ("trader",), now_ms=1)
    again = store.user_for_subject("sub-a", ("trader", "operator"), now_ms=2)

    assert again.id == first.id
    assert again.roles == "operator,trader"
    actions = [row.action for row in store.audit_entries(first.id)]
    assert actions == ["user.created", "user.roles"]


def test_plans_and_strategies_of_one_user_are_invisible_to_another(database: Database) -> None:
    store = Store(database)
    alice = store.user_for_subject("alice", ("trader",), now_ms=1)
    bob = store.user_for_subject("bob", ("trader",), now_ms=1)
    _, plan = store.add_intent_and_plan(alice.id, "buy", {"kind": "x"}, _plan(), now_ms=2)
    strategy = store.add_strategy(alice.id, plan, "acct", "created", now_ms=3)

    assert store.plan(alice.id, plan.id) is not None
    assert store.plan(bob.id, plan.id) is None
    assert store.strategy(bob.id, strategy.id) is None
    assert store.strategies(bob.id) == []
    assert [s.id for s in store.strategies(alice.id)] == [strategy.id]
    assert store.set_strategy_state(bob.id, strategy.id, "running", 4, action="x") is None
    assert store.strategy(alice.id, strategy.id).state == "created"  # type: ignore[union-attr]
    assert store.runs(bob.id, strategy.id) == []


def test_running_opens_a_run_and_stopping_closes_it(database: Database) -> None:
    store = Store(database)
    user = store.user_for_subject("carol", ("trader",), now_ms=1)
    _, plan = store.add_intent_and_plan(user.id, None, {"kind": "x"}, _plan(), now_ms=2)
    strategy = store.add_strategy(user.id, plan, "acct", "created", now_ms=3)

    store.set_strategy_state(user.id, strategy.id, "running", 10, action="strategy.start")
    store.set_strategy_state(
        user.id, strategy.id, "stopped", 20, action="strategy.stop", reason="user asked"
    )
    store.set_strategy_state(user.id, strategy.id, "running", 30, action="strategy.start")

    runs = [
        (r.started_at_ms, r.stopped_at_ms, r.stop_reason) for r in store.runs(user.id, strategy.id)
    ]
    assert runs == [(10, 20, "user asked"), (30, None, None)]


def test_audit_log_records_who_what_when_intent_and_config_hash(database: Database) -> None:
    store = Store(database)
    user = store.user_for_subject("dave", ("trader",), now_ms=1)
    intent, plan = store.add_intent_and_plan(user.id, "t", {"kind": "x"}, _plan(), now_ms=2)
    strategy = store.add_strategy(user.id, plan, "acct", "created", now_ms=3)
    store.set_strategy_state(user.id, strategy.id, "running", 4, action="strategy.start")

    entries = store.audit_entries(user.id)

    started = entries[-1]
    assert (started.user_id, started.action, started.target, started.at_ms) == (
        user.id,
        "strategy.start",
        strategy.id,
        4,
    )
    assert started.intent_id == intent.id
    assert started.config_hash == "ab" * 32
    assert [e.action for e in entries] == [
        "user.created",
        "plan.compiled",
        "strategy.created",
        "strategy.start",
    ]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"]
)
def test_audit_log_refuses_update_and_delete(database: Database, statement: str) -> None:
    store = Store(database)
    store.audit(1, None, "control.halt", None, {"reason": "test"})

    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))

    assert [e.action for e in store.audit_entries()] == ["control.halt"]


def test_active_on_finds_strategies_of_any_user_on_the_same_account_and_coin(
    database: Database,
) -> None:
    store = Store(database)
    a = store.user_for_subject("a", ("trader",), now_ms=1)
    b = store.user_for_subject("b", ("trader",), now_ms=1)
    _, plan_a = store.add_intent_and_plan(a.id, None, {}, _plan("ETH"), now_ms=2)
    _, plan_b = store.add_intent_and_plan(b.id, None, {}, _plan("ETH"), now_ms=2)
    sa = store.add_strategy(a.id, plan_a, "shared", "created", now_ms=3)
    store.add_strategy(b.id, plan_b, "other", "created", now_ms=3)

    found = store.active_on("shared", "ETH", ("created", "running"))

    assert [s.id for s in found] == [sa.id]
    assert store.active_on("shared", "BTC", ("created",)) == []
