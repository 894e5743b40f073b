"""Migrations run on SQLite and PostgreSQL, are idempotent, and downgrade cleanly."""

from __future__ import annotations

from sqlalchemy import inspect

from api.storage.database import Database


def test_migrating_twice_is_a_no_op(database: Database) -> None:
    database.migrate()

    assert "audit_log" in inspect(database.engine).get_table_names()


def test_downgrade_to_base_removes_every_table(database: Database) -> None:
    database.downgrade("base")

    names = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
    assert names == set()


def test_database_reachable_is_true_for_a_live_database(database: Database) -> None:
    assert database.reachable()


def test_database_reachable_is_false_when_nothing_listens() -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")

    assert not db.reachable()
