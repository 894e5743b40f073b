"""``GET /status`` (one snapshot of the caller's view of the node) and ``GET /status/stream``
(the same snapshot as Server-Sent Events, sent again whenever it changes).

The stream re-reads the snapshot every ``PERIOD_SECS`` and at once when the caller gets an
event: regimes, mids and feed health change without any event of the caller's, so polling the
node's cache (one read on its loop) is what keeps the page honest; an unchanged snapshot is not
sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser
from api.deps import State
from api.deps import User
from api.schemas import StatusResponse
from api.services.status import status_snapshot

router = APIRouter(prefix="/status", tags=["status"])

PERIOD_SECS = 1.0
KEEPALIVE_SECS = 15.0


def _snapshot(state: State, user: User) -> StatusResponse:
    return status_snapshot(
        state.store,
        state.link,
        user.id,
        user.subject,
        "operator" in user.roles,
        state.clock_ms(),
    )


@router.get("", response_model=StatusResponse)
def get_status(user: CurrentUser, state: State) -> StatusResponse:
    """Instruments (regime, feed health), your strategies (all of them for operators) with
    state and PnL, positions, the newest orders and fills, and the trading state."""
    return _snapshot(state, user)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "status snapshots"}},
)
async def stream_status(request: Request, user: CurrentUser, state: State) -> StreamingResponse:
    """``event: status`` frames carrying the ``GET /status`` body, each time it changes."""
    flag = state.hub.register(user.id)

    async def frames() -> AsyncIterator[bytes]:
        last = ""
        idle = 0.0
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                flag.clear()
                snapshot = await run_in_threadpool(_snapshot, state, user)
                body = snapshot.model_dump_json(exclude={"at_ms"})
                if body != last:
                    last = body
                    idle = 0.0
                    yield f"event: status\ndata: {snapshot.model_dump_json()}\n\n".encode()
                elif idle >= KEEPALIVE_SECS:
                    idle = 0.0
                    yield b": keep-alive\n\n"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(flag.wait(), timeout=PERIOD_SECS)
                idle += PERIOD_SECS
        finally:
            state.hub.unregister(user.id, flag)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
