"""Databases for the sidecar tests: an SQLite file and a real PostgreSQL database created for
this test session under a unique name and dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from api.storage.database import Database

PG_ADMIN_URL = os.environ.get("JARVIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session (dropped at the end)."""
    name = f"jarvis_sidecar_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_schema_db(pg_url: str) -> Iterator[Database]:
    """A clean schema per test inside the session's database, so tests do not see each other."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    db = Database(f"{pg_url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield db
    finally:
        db.close()
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path}/sidecar.db")
        db.migrate()
        yield db
        db.close()
        return
    pg_url = request.getfixturevalue("pg_url")
    for db in _pg_schema_db(pg_url):
        db.migrate()
        yield db
