"""The database: an engine for ``DATABASE_URL`` (SQLite or PostgreSQL), Alembic migrations run
programmatically at start-up, and a session factory.

Sync SQLAlchemy on purpose: the queries are small, and one code path serves both SQLite (no async
driver to install) and PostgreSQL. Sync endpoints run in FastAPI's thread pool; an async endpoint
hands its database work to ``run()``, which keeps it off the event loop: on SQLite on the one
database thread (SQLite has one writer: the writes queue there instead of in SQLite's busy
handler), on PostgreSQL on a small pool of threads. ``write()`` is for the hot INSERT-only writes:
they are group-committed on that one thread (``api.storage.writer``), on both databases.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec
from typing import TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from api.storage.writer import DatabaseThread
from api.storage.writer import Insert

__all__ = ["Database"]

MIGRATIONS = Path(__file__).parent / "migrations"
# Threads that run() uses on PostgreSQL (each holds a pooled connection while it works).
PG_THREADS = 8

P = ParamSpec("P")
T = TypeVar("T")


def _normalise(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the driver we install)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """One engine and its sessions; ``migrate()`` brings the schema to the newest revision."""

    def __init__(self, url: str) -> None:
        self.url = _normalise(url)
        sqlite = self.url.startswith("sqlite")
        # A pre-ping tests a pooled connection before each use: it finds a PostgreSQL connection
        # the server dropped, but an SQLite "connection" is a local file and never goes away.
        self.engine: Engine = create_engine(self.url, pool_pre_ping=not sqlite)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer at a time; concurrent writers otherwise wait in its busy handler,
        # which sleeps in growing steps (tens of ms): the tail latency of every write endpoint.
        # Taking turns here instead costs nothing more than the lock. PostgreSQL needs none.
        self._write_lock: contextlib.AbstractContextManager[object] = (
            threading.Lock() if self.engine.dialect.name == "sqlite" else contextlib.nullcontext()
        )
        self._executor: ThreadPoolExecutor | None = None
        self._thread: DatabaseThread | None = None
        self._executor_lock = threading.Lock()

    def alembic_config(self) -> Config:
        """Alembic's config for this database (script location inside the package)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return config

    def migrate(self, revision: str = "head") -> None:
        """Upgrade the schema to ``revision``."""
        config = self.alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def downgrade(self, revision: str) -> None:
        """Downgrade the schema to ``revision`` (``"base"``: nothing left)."""
        config = self.alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)

    def session(self) -> Session:
        """A new session (use as a context manager)."""
        return self.sessions()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction, committed on success (writers take turns on SQLite)."""
        with self._write_lock, self.sessions() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def writing(self) -> Iterator[Connection]:
        """A Core connection in a transaction, committed on success: the cheap path for plain
        INSERTs (no ORM unit of work). Writers take turns on SQLite, as in ``transaction()``."""
        with self._write_lock, self.engine.begin() as connection:
            yield connection

    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection for a read (no ORM session)."""
        with self.engine.connect() as connection:
            yield connection

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` off the event loop, awaited: on SQLite on the one database
        thread (in arrival order), on PostgreSQL on one of ``PG_THREADS`` threads."""
        call = functools.partial(fn, *args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            answer: T = await self._database_thread().call(call)
            return answer
        return await asyncio.get_running_loop().run_in_executor(self._pool(), call)

    async def write(self, prepare: Callable[[], tuple[T, list[Insert]]]) -> T:
        """``prepare()`` on the database thread (it may read, compute, or raise to refuse), then
        the rows it returns INSERTed, group-committed with the other writes waiting; its answer
        once they are committed. Rows are listed parents first."""
        answer: T = await self._database_thread().write(prepare)
        return answer

    def _database_thread(self) -> DatabaseThread:
        thread = self._thread
        if thread is None:
            with self._executor_lock:
                if self._thread is None:
                    self._thread = DatabaseThread(self.writing)
                thread = self._thread
        return thread

    def _pool(self) -> ThreadPoolExecutor:
        executor = self._executor
        if executor is None:
            with self._executor_lock:
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(
                        max_workers=PG_THREADS, thread_name_prefix="database"
                    )
                executor = self._executor
        return executor

    def reachable(self) -> bool:
        """Whether a trivial query answers (readiness)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    def close(self) -> None:
        """Finish the work handed to ``run()`` and close every pooled connection."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.close()
        if executor is not None:
            executor.shutdown(wait=True)
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL: a commit survives a crash of the process (not of the machine), without an
    # fsync per commit; PostgreSQL is the store for deployments that need more.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
