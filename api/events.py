"""The per-user event history behind ``GET /events/stream``.

Events carry one global increasing id, so a client reconnecting with ``Last-Event-ID`` gets every
later event of its own that is still kept (the newest ``history`` per user). Publishing is
thread-safe (the node publishes from its own thread); waiting is asyncio (the sidecar's loop).
Our own small hub: NautilusTrader's bus is not thread-safe and has no per-user replay.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "EventHub"]


@dataclass(frozen=True, slots=True)
class Event:
    """One event of one user."""

    id: int
    user_id: str
    type: str
    data: dict[str, Any]


class EventHub:
    """Bounded per-user history plus wake-ups for waiting streams."""

    def __init__(self, history: int = 1000) -> None:
        if history <= 0:
            raise ValueError(f"history must be positive, got {history}")
        self._history = history
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._events: dict[str, deque[Event]] = {}
        self._waiters: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}

    def publish(self, user_id: str, type_: str, data: dict[str, Any]) -> Event:
        """Append an event for ``user_id`` and wake that user's streams (any thread)."""
        with self._lock:
            event = Event(next(self._ids), user_id, type_, data)
            self._events.setdefault(user_id, deque(maxlen=self._history)).append(event)
            waiters = list(self._waiters.get(user_id, ()))
        for loop, flag in waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # that stream's loop has closed
                continue
        return event

    def since(self, user_id: str, last_id: int) -> list[Event]:
        """The user's kept events with an id above ``last_id``."""
        with self._lock:
            return [e for e in self._events.get(user_id, ()) if e.id > last_id]

    def register(self, user_id: str) -> asyncio.Event:
        """A flag set whenever the user gets an event (call on the waiting loop)."""
        flag = asyncio.Event()
        with self._lock:
            self._waiters.setdefault(user_id, set()).add((asyncio.get_running_loop(), flag))
        return flag

    def unregister(self, user_id: str, flag: asyncio.Event) -> None:
        """Forget a stream's flag."""
        with self._lock:
            waiters = self._waiters.get(user_id, set())
            for item in [w for w in waiters if w[1] is flag]:
                waiters.discard(item)

    def subscribers(self, user_id: str) -> int:
        """How many streams of the user are waiting (tests and benchmarks)."""
        with self._lock:
            return len(self._waiters.get(user_id, ()))
