"""The kept SSE events: appended in batches, the newest ``history`` per user read back at
start-up, older ones deleted (bounded history, as in memory)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select

from api.storage.database import Database
from api.storage.models import EventRow

__all__ = ["EventLog"]


class EventLog:
    """Events of every user in one table; reads and writes always name the user."""

    def __init__(self, database: Database, history: int) -> None:
        if history <= 0:
            raise ValueError(f"history must be positive, got {history}")
        self.database = database
        self.history = history

    def append(self, rows: Iterable[tuple[int, str, str, dict[str, Any]]]) -> None:
        """Insert ``(id, user_id, type, data)`` rows in one transaction, then drop each touched
        user's events beyond the newest ``history``."""
        values = [{"id": i, "user_id": u, "type": t, "data": d} for i, u, t, d in rows]
        if not values:
            return
        with self.database.transaction() as s:
            s.execute(insert(EventRow), values)
            for user_id in {v["user_id"] for v in values}:
                oldest_kept = (
                    select(EventRow.id)
                    .where(EventRow.user_id == user_id)
                    .order_by(EventRow.id.desc())
                    .offset(self.history - 1)
                    .limit(1)
                    .scalar_subquery()
                )
                s.execute(
                    delete(EventRow).where(EventRow.user_id == user_id, EventRow.id < oldest_kept)
                )

    def recent(self) -> list[EventRow]:
        """Every user's kept events, oldest first (at most ``history`` per user)."""
        with self.database.session() as s:
            return list(s.scalars(select(EventRow).order_by(EventRow.id)))

    def last_id(self) -> int:
        """The highest event id ever kept (0 when none): new ids continue above it."""
        with self.database.session() as s:
            return int(s.scalar(select(func.coalesce(func.max(EventRow.id), 0))) or 0)
