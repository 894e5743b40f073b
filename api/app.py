"""The sidecar's app factory and lifespan: open the database (migrated) and the kept event
history at start-up, close them and the node link at shutdown."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.deps import AppState
from api.errors import CatchAll
from api.errors import install_error_handlers
from api.events import EventHub
from api.identity import TokenVerifier
from api.limits import BodySizeLimit
from api.limits import RateLimiter
from api.node_link import DetachedNodeLink
from api.node_link import NodeLink
from api.routers import accounts
from api.routers import control
from api.routers import events
from api.routers import health
from api.routers import intents
from api.routers import metrics
from api.routers import page
from api.routers import status
from api.routers import strategies
from api.secrets import open_secret_store
from api.services.strategies import finish_queued
from api.services.strategies import settle_lost
from api.settings import ApiSettings
from api.storage.database import Database
from api.storage.event_log import EventLog
from api.storage.store import Store
from intents.venue import SHIPPED_SNAPSHOT
from intents.venue import VenueSnapshot
from intents.venue import load_snapshot

__all__ = ["create_app"]

DESCRIPTION = """\
Jarvis's intent sidecar: send an intent (words or JSON), read the compiled plan, confirm it as a
strategy, start and stop it, and watch your own events. Every call but `/health` needs a bearer
JWT; you only ever see your own intents, strategies and events. There are no withdrawal or
transfer endpoints.
"""


def create_app(
    settings: ApiSettings,
    *,
    link: NodeLink | None = None,
    hub: EventHub | None = None,
    verifier: TokenVerifier | None = None,
    snapshot: Callable[[], VenueSnapshot] | None = None,
) -> FastAPI:
    """A ready app: nothing opens until the lifespan starts."""
    if verifier is None:
        verifier = TokenVerifier.from_files(
            settings.jwt_public_key_file,
            settings.jwks_file,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            operator_subjects=settings.operator_subjects,
        )
    if snapshot is None:
        shipped = load_snapshot(SHIPPED_SNAPSHOT)

        def snapshot() -> VenueSnapshot:
            return shipped

    database = Database(settings.resolved_database_url())
    state = AppState(
        database=database,
        store=Store(database),
        hub=hub or EventHub(settings.event_history_per_user),
        link=link or DetachedNodeLink(),
        verifier=verifier,
        limiter=RateLimiter(settings.rate_limit_per_min),
        snapshot=snapshot,
        secrets=open_secret_store(settings),
        venue_http_url=settings.venue_http_url,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        database.migrate()
        state.hub.persist_to(EventLog(database, settings.event_history_per_user))
        # After the history is open: a restarted sidecar's backlog of node events comes at once.
        state.link.open(lambda r: finish_queued(state.store, state.hub, r, state.clock_ms()))
        settle_lost(state.store, state.hub, state.link, state.clock_ms())
        # Everything loaded so far (NautilusTrader, SQLAlchemy, pydantic: ~240k objects) lives as
        # long as the process. Frozen, the collector stops scanning it: a full collection while
        # serving otherwise pauses every request for ~100 ms (the p99 of POST /intents).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            state.link.close()
            state.hub.close()
            database.close()

    app = FastAPI(
        title="Jarvis sidecar",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.jarvis = state
    install_error_handlers(app)
    for router in (
        accounts.router,
        intents.router,
        strategies.router,
        events.router,
        control.router,
        health.router,
        metrics.router,
        status.router,
    ):
        app.include_router(router)
    page.install(app)
    app.add_middleware(CatchAll)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
