"""``GET /events/stream``: Server-Sent Events of the caller's own events, with ids; reconnecting
with ``Last-Event-ID`` replays what is still kept. Plain SSE over a StreamingResponse."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter
from fastapi import Header
from fastapi import HTTPException
from fastapi import Query
from fastapi import Request
from fastapi.responses import StreamingResponse

from api.deps import CurrentUser
from api.deps import State
from api.events import Event

router = APIRouter(prefix="/events", tags=["events"])

KEEPALIVE_SECS = 15.0


def _frame(event: Event) -> bytes:
    data = json.dumps(event.data, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "your events"}},
)
async def stream_events(
    request: Request,
    user: CurrentUser,
    state: State,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=100_000, description="close after this many events")
    ] = None,
) -> StreamingResponse:
    """Your order, fill, position, strategy-state and risk events as they happen."""
    last = 0
    if last_event_id is not None:
        if not last_event_id.isdigit():
            raise HTTPException(400, "Last-Event-ID must be a non-negative integer event id")
        last = int(last_event_id)
    hub = state.hub
    flag = hub.register(user.id)

    async def frames() -> AsyncIterator[bytes]:
        nonlocal last
        sent = 0
        try:
            yield b": connected\n\n"
            while True:
                flag.clear()
                for event in hub.since(user.id, last):
                    yield _frame(event)
                    last = event.id
                    sent += 1
                    if limit is not None and sent >= limit:
                        return
                if await request.is_disconnected():
                    return
                try:
                    await asyncio.wait_for(flag.wait(), timeout=KEEPALIVE_SECS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            hub.unregister(user.id, flag)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
