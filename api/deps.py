"""Shared dependencies of the routers (``Annotated`` aliases, STYLE §10): the app's state, the
authenticated user (rate-limited), and the operator role.

They are ``async def`` on purpose: FastAPI runs a sync dependency in its thread pool (a thread
hop per dependency per request), and these are cheap -- a verified token is a dictionary hit,
the user id is cached, the rate limiter is a few arithmetic operations. The one database call (a
caller seen for the first time) goes through ``Database.run`` off the event loop."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Annotated

from fastapi import Depends
from fastapi import HTTPException
from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.security import HTTPBearer

from api.events import EventHub
from api.identity import AuthError
from api.identity import TokenVerifier
from api.limits import RateLimiter
from api.node_link import NodeLink
from api.secrets import SecretStore
from api.storage.database import Database
from api.storage.store import Store
from intents.venue import VenueSnapshot

__all__ = ["AppState", "CurrentUser", "Operator", "State", "User"]


@dataclass
class AppState:
    """Everything the routers reach, built by the app factory and opened by the lifespan."""

    database: Database
    store: Store
    hub: EventHub
    link: NodeLink
    verifier: TokenVerifier
    limiter: RateLimiter
    snapshot: Callable[[], VenueSnapshot]
    secrets: SecretStore | None = None
    venue_http_url: str | None = None
    # (subject, roles) -> user id, so a known caller costs no database round trip; users are
    # never deleted and a change of roles is a new key (stored on its first request).
    known_users: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class User:
    """The authenticated caller as the services see it."""

    id: str
    subject: str
    roles: tuple[str, ...]


async def _state(request: Request) -> AppState:
    state: AppState = request.app.state.jarvis
    return state


State = Annotated[AppState, Depends(_state)]

_bearer = HTTPBearer(auto_error=False, description="a JWT (ES256/RS256); `jarvis token` mints one")


async def _user(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            401,
            "missing bearer token (Authorization: Bearer <JWT>)",
            {"WWW-Authenticate": "Bearer"},
        )
    try:
        identity = state.verifier.verify(credentials.credentials)
    except AuthError as exc:
        raise HTTPException(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None
    key = (identity.subject, identity.roles)
    user_id = state.known_users.get(key)
    if user_id is None:  # first sight of this subject with these roles: one transaction
        row = await state.database.run(
            state.store.user_for_subject, identity.subject, identity.roles, state.clock_ms()
        )
        user_id = row.id
        state.known_users[key] = user_id
    wait = state.limiter.allow(user_id)
    if wait > 0:
        raise HTTPException(
            429, f"rate limit: retry in {wait:.1f} s", {"Retry-After": str(int(wait) + 1)}
        )
    return User(id=user_id, subject=identity.subject, roles=identity.roles)


CurrentUser = Annotated[User, Depends(_user)]


async def _operator(user: CurrentUser) -> User:
    if "operator" not in user.roles:
        raise HTTPException(403, "this needs the operator role")
    return user


Operator = Annotated[User, Depends(_operator)]
