"""The per-user event history behind ``GET /events/stream``.

Events carry one global increasing id, so a client reconnecting with ``Last-Event-ID`` gets every
later event of its own that is still kept (the newest ``history`` per user). Publishing is
thread-safe (the node publishes from its own thread); waiting is asyncio (the sidecar's loop).
Our own small hub: NautilusTrader's bus is not thread-safe and has no per-user replay.

With ``persist_to(EventLog)`` the history also survives a restart: the kept events are read
back and ids continue above them, and every new event is written by a writer thread in batches
(the node's loop never waits on the database).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from api.storage.event_log import EventLog

__all__ = ["Event", "EventHub"]

log = logging.getLogger("jarvis.api")

_WRITE_BATCH = 500


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
        self._published = False
        self._pending: queue.SimpleQueue[Event | None] | None = None
        self._writer: threading.Thread | None = None

    def persist_to(self, event_log: EventLog) -> None:
        """Read the kept history back, continue ids above it and write new events to
        ``event_log`` from now on (before the first publish: ids must not go back)."""
        with self._lock:
            if self._published:
                raise RuntimeError("persist_to must be called before the first event")
            if self._writer is not None:
                return
            for row in event_log.recent():
                self._events.setdefault(row.user_id, deque(maxlen=self._history)).append(
                    Event(row.id, row.user_id, row.type, row.data)
                )
            self._ids = itertools.count(event_log.last_id() + 1)
            self._pending = queue.SimpleQueue()
            self._writer = threading.Thread(
                target=self._write,
                args=(event_log, self._pending),
                name="jarvis-events",
                daemon=True,
            )
            self._writer.start()

    def _write(self, event_log: EventLog, pending: queue.SimpleQueue[Event | None]) -> None:
        while True:
            first = pending.get()
            batch = [] if first is None else [first]
            done = first is None
            while not done and len(batch) < _WRITE_BATCH:
                try:
                    item = pending.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    done = True
                else:
                    batch.append(item)
            try:
                event_log.append((e.id, e.user_id, e.type, e.data) for e in batch)
            except Exception as exc:  # kept in memory still; a restart loses these
                log.error("events not persisted (%d): %s", len(batch), type(exc).__name__)
            if done:
                return

    def close(self) -> None:
        """Write what is queued and stop the writer (the lifespan calls it at shutdown)."""
        with self._lock:
            writer, pending = self._writer, self._pending
            self._writer = self._pending = None
        if writer is not None and pending is not None:
            pending.put(None)
            writer.join(timeout=30)

    def publish(self, user_id: str, type_: str, data: dict[str, Any]) -> Event:
        """Append an event for ``user_id`` and wake that user's streams (any thread)."""
        with self._lock:
            self._published = True
            event = Event(next(self._ids), user_id, type_, data)
            self._events.setdefault(user_id, deque(maxlen=self._history)).append(event)
            waiters = list(self._waiters.get(user_id, ()))
            if self._pending is not None:
                self._pending.put(event)
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
