"""Databases for the sidecar tests: an SQLite file and a real PostgreSQL database created for
this test session under a unique name and dropped afterwards; sidecars without a node
(``sidecar``) and with one in both link modes, in-process and over Redis (``node_sidecar``)."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.deps import AppState
from api.events import EventHub
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.node_link import NodeLink
from api.node_worker import NodeWorker
from api.node_worker import RedisEventPublisher
from api.redis_link import RedisNodeLink
from api.secrets import SecretStore
from api.settings import ApiSettings
from api.storage.database import Database
from api.streams import StreamNames
from tests.api.node_double import NodeDouble

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


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database's URL, on SQLite and on PostgreSQL (its own schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/sidecar.db"
        return
    pg_url = request.getfixturevalue("pg_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A migrated database, on SQLite and on PostgreSQL."""
    db = Database(db_url)
    db.migrate()
    yield db
    db.close()


class Sidecar:
    """A real sidecar served by uvicorn on its own thread, and tokens to call it with."""

    def __init__(self, url: str, app: FastAPI, keys: LocalSigningKey) -> None:
        self.url = url
        self.app = app
        self.keys = keys

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.jarvis
        return state

    def token(self, subject: str, roles: tuple[str, ...] = ("trader",)) -> str:
        return self.keys.mint(subject, roles)

    def client(self, subject: str | None, roles: tuple[str, ...] = ("trader",)) -> httpx.Client:
        headers = (
            {} if subject is None else {"Authorization": f"Bearer {self.token(subject, roles)}"}
        )
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on a free port on a thread; yields its base URL; stops it afterwards."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="sidecar-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive(), "the sidecar did not start"
        assert time.monotonic() < deadline, "the sidecar did not start within 60 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def make_settings(db_url: str, **overrides: object) -> ApiSettings:
    """Settings for a test sidecar (no environment read for the database)."""
    return ApiSettings(database_url=db_url, **overrides)  # type: ignore[arg-type]


@pytest.fixture
def sidecar_factory(db_url: str, tmp_path: Path) -> Iterator[Callable[..., Sidecar]]:
    """Start sidecars with given settings overrides (and node link)."""
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    stack = contextlib.ExitStack()

    def start(
        link: NodeLink | None = None, hub: EventHub | None = None, **overrides: object
    ) -> Sidecar:
        verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
        app = create_app(make_settings(db_url, **overrides), link=link, hub=hub, verifier=verifier)
        url = stack.enter_context(contextlib.contextmanager(serve)(app))
        return Sidecar(url, app, keys)

    with stack:
        yield start


@pytest.fixture
def sidecar(sidecar_factory: Callable[..., Sidecar]) -> Sidecar:
    """A sidecar without a node, on SQLite and on PostgreSQL."""
    return sidecar_factory()


REDIS_URL = os.environ.get("JARVIS_TEST_REDIS", "redis://127.0.0.1:6379/0")
LINK_MODES = ["in-process", "redis"]


@dataclass
class NodeSidecar:
    """A sidecar with a node behind its link, in one of the two link modes of ``jarvis serve``:

    - ``in-process``: the sidecar holds the node's link itself (one process);
    - ``redis``: a real ``RedisNodeLink`` on the real Redis, to a ``NodeWorker`` driving the
      same node link (``jarvis serve --redis``: sidecar and node joined by Redis streams), in
      a namespace of its own (``namespace``), deleted afterwards.

    ``node`` is the stand-in node (``NodeDouble`` unless a test brings its own): what it was
    asked is what a test asserts; what it publishes reaches the sidecar's event hub through
    the link, as a real node's events do."""

    mode: str
    sidecar: Sidecar
    node: Any
    namespace: str | None


@dataclass
class RedisScratch:
    """A namespace of its own on the real Redis, and what still stops in it at teardown."""

    names: StreamNames
    stopping: list[threading.Thread]


@pytest.fixture
def redis_namespace() -> Iterator[RedisScratch]:
    """A namespace of its own on the real Redis; every key in it is deleted afterwards, once
    the sidecars and node workers of the test have stopped (this fixture is set up first, so
    torn down last; node workers stop on threads meanwhile, while the sidecars stop)."""
    scratch = RedisScratch(StreamNames(f"jt-api-{uuid.uuid4().hex[:8]}"), [])
    yield scratch
    for thread in scratch.stopping:
        thread.join(timeout=30)
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{scratch.names.namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(params=LINK_MODES)
def node_sidecar_factory(
    request: pytest.FixtureRequest,
    redis_namespace: RedisScratch,
    sidecar_factory: Callable[..., Sidecar],
) -> Iterator[Callable[..., NodeSidecar]]:
    """Start a sidecar on ``node`` in this test's link mode (in-process, then over Redis).

    ``secrets`` is the node's own secret store (over Redis the node opens it from its own
    environment; in-process the sidecar's is the node's); other keywords are sidecar settings.
    """
    mode: str = request.param
    stack = contextlib.ExitStack()

    def start(node: Any, secrets: SecretStore | None = None, **overrides: object) -> NodeSidecar:
        hub = EventHub()
        if mode == "in-process":
            node._hub = hub  # what the node publishes goes to the sidecar's hub
            return NodeSidecar(mode, sidecar_factory(link=node, hub=hub, **overrides), node, None)
        names = redis_namespace.names
        client = redis.Redis.from_url(REDIS_URL)
        node._hub = RedisEventPublisher(client, names, 0)
        worker = NodeWorker(client, names, 0, node, secrets)
        worker.start()

        def stop_worker() -> None:
            worker.stop()
            client.close()

        stopper = threading.Thread(target=stop_worker, name="node-worker-stop", daemon=True)
        stack.callback(redis_namespace.stopping.append, stopper)
        stack.callback(stopper.start)  # before the append above: the callbacks run LIFO
        link = RedisNodeLink(REDIS_URL, 1, hub, names.namespace, timeout_secs=10)
        sidecar = sidecar_factory(link=link, hub=hub, **overrides)
        deadline = time.monotonic() + 30
        while not link.connected():
            assert time.monotonic() < deadline, "the node worker never said ready"
            time.sleep(0.02)
        return NodeSidecar(mode, sidecar, node, names.namespace)

    with stack:
        yield start


@pytest.fixture
def node_sidecar(node_sidecar_factory: Callable[..., NodeSidecar]) -> NodeSidecar:
    """A sidecar on a ``NodeDouble``, in-process and over Redis (on SQLite and PostgreSQL)."""
    return node_sidecar_factory(NodeDouble())
