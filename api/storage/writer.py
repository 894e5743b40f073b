"""The database thread: blocking database work handed over from the event loop, done in arrival
order on one thread, with group commit for batchable writes.

A *call* runs alone. A *write* is a ``prepare`` function that runs on this thread (it may read
and compute, or raise to refuse) and returns its answer and the rows to INSERT; the writes waiting
in the queue together are prepared one by one and their rows stored in ONE transaction (a group
commit: one COMMIT, one executemany per table, for many requests). Should that transaction fail,
each write is retried in its own transaction, so a bad row fails only the request it came from.

Answers go back to each caller's event loop in one hand-over per batch and loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import Any
from typing import Final

from sqlalchemy import Connection
from sqlalchemy import Table

__all__ = ["MAX_BATCH", "DatabaseThread", "Insert"]

log = logging.getLogger("jarvis.api")

# An INSERT of one row: the table and the row's column values.
Insert = tuple[Table, dict[str, Any]]

# Writes stored in one transaction at most.
MAX_BATCH: Final[int] = 64


class _Job:
    __slots__ = ("batched", "fn", "future", "loop")

    def __init__(
        self,
        fn: Callable[[], Any],
        batched: bool,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
    ) -> None:
        self.fn = fn
        self.batched = batched
        self.loop = loop
        self.future = future


# (future, answer, exception) to settle on the future's loop.
_Outcome = tuple["asyncio.Future[Any]", Any, BaseException | None]


class DatabaseThread:
    """One thread doing the database work handed to it, in arrival order."""

    def __init__(
        self,
        writing: Callable[[], contextlib.AbstractContextManager[Connection]],
        name: str = "database",
    ) -> None:
        self._writing = writing
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[[], Any]) -> asyncio.Future[Any]:
        """``fn()`` on this thread; a future of its answer on the running loop."""
        return self._submit(fn, batched=False)

    def write(self, prepare: Callable[[], tuple[Any, Sequence[Insert]]]) -> asyncio.Future[Any]:
        """``prepare()`` on this thread, then its rows stored (group-committed with the other
        writes waiting); a future of ``prepare``'s answer once the rows are committed."""
        return self._submit(prepare, batched=True)

    def close(self) -> None:
        """Finish what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _submit(self, fn: Callable[[], Any], batched: bool) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.put(_Job(fn, batched, loop, future))
        return future

    def _serve(self) -> None:
        pending: _Job | None = None
        while True:
            job = pending if pending is not None else self._queue.get()
            pending = None
            if job is None:
                return
            if not job.batched:
                self._settle([self._call(job)])
                continue
            batch = [job]
            while len(batch) < MAX_BATCH:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:  # close(): stop once this batch is stored
                    self._queue.put(None)
                    break
                if not following.batched:
                    pending = following
                    break
                batch.append(following)
            self._settle(self._write(batch))

    def _call(self, job: _Job) -> tuple[_Job, _Outcome]:
        try:
            return job, (job.future, job.fn(), None)
        except BaseException as exc:
            return job, (job.future, None, exc)

    def _write(self, batch: list[_Job]) -> list[tuple[_Job, _Outcome]]:
        outcomes: list[tuple[_Job, _Outcome]] = []
        prepared: list[tuple[_Job, Any, Sequence[Insert]]] = []
        for job in batch:
            try:
                answer, rows = job.fn()
            except BaseException as exc:
                outcomes.append((job, (job.future, None, exc)))
            else:
                prepared.append((job, answer, rows))
        if not prepared:
            return outcomes
        try:
            with self._writing() as connection:
                _insert(connection, [row for _, _, rows in prepared for row in rows])
        except Exception:
            if len(prepared) == 1:
                job, _, _ = prepared[0]
                return [*outcomes, self._call_alone(job, prepared[0][2], prepared[0][1])]
            log.warning("a batch of %d writes failed; storing them one by one", len(prepared))
            return outcomes + [
                self._call_alone(job, rows, answer) for job, answer, rows in prepared
            ]
        return outcomes + [(job, (job.future, answer, None)) for job, answer, _ in prepared]

    def _call_alone(self, job: _Job, rows: Sequence[Insert], answer: Any) -> tuple[_Job, _Outcome]:
        try:
            with self._writing() as connection:
                _insert(connection, rows)
        except BaseException as exc:
            return job, (job.future, None, exc)
        return job, (job.future, answer, None)

    @staticmethod
    def _settle(results: list[tuple[_Job, _Outcome]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
        for job, outcome in results:
            by_loop.setdefault(job.loop, []).append(outcome)
        for loop, outcomes in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the caller's loop has closed meanwhile
                loop.call_soon_threadsafe(_resolve, outcomes)


def _resolve(outcomes: list[_Outcome]) -> None:
    for future, answer, exc in outcomes:
        if future.cancelled():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(answer)


def _insert(connection: Connection, rows: Sequence[Insert]) -> None:
    """The rows, one executemany per table and set of columns, tables in the order they first
    appear (a write lists its rows parents first, so every batch keeps that order)."""
    for (table, _), params in _grouped(rows):
        connection.execute(table.insert(), params)


def _grouped(
    rows: Sequence[Insert],
) -> Iterator[tuple[tuple[Table, tuple[str, ...]], list[dict[str, Any]]]]:
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, values in rows:
        groups.setdefault((table, tuple(values)), []).append(values)
    yield from groups.items()
