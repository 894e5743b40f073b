"""Tables of the sidecar. Every row that belongs to a user carries ``user_id``; the services
filter on it in every query, so one user's rows are never visible to another.

Times are integer milliseconds since the epoch (UTC): the same on SQLite and PostgreSQL.
The audit log is append-only: the migration installs triggers that refuse UPDATE and DELETE.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

__all__ = [
    "AgentWalletRow",
    "AuditRow",
    "Base",
    "EventRow",
    "IntentRow",
    "PlanRow",
    "RunRow",
    "StrategyRow",
    "UserRow",
]


class Base(DeclarativeBase):
    """Declarative base of every sidecar table."""


class UserRow(Base):
    """An internal user, found by the subject of a verified token."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    roles: Mapped[str] = mapped_column(String(255))  # comma separated: trader,operator
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class IntentRow(Base):
    """An intent as the user sent it (text or structured)."""

    __tablename__ = "intents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    intent: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class PlanRow(Base):
    """The compiled plan of an intent; nothing runs until a strategy is created from it."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    intent_id: Mapped[str] = mapped_column(ForeignKey("intents.id"), index=True)
    template: Mapped[str] = mapped_column(String(64))
    coin: Mapped[str] = mapped_column(String(32))
    instrument_id: Mapped[str] = mapped_column(String(64))
    live: Mapped[bool] = mapped_column(Boolean)
    config_hash: Mapped[str] = mapped_column(String(64))
    rendered: Mapped[str] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    strategy_config: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)


class StrategyRow(Base):
    """A confirmed plan: a strategy the user may start, stop or cancel."""

    __tablename__ = "strategies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id"), index=True)
    account: Mapped[str] = mapped_column(String(64))
    coin: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    node_strategy_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class RunRow(Base):
    """One start..stop of a strategy on the node."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    strategy_id: Mapped[str] = mapped_column(ForeignKey("strategies.id"), index=True)
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    stopped_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """Who did what, when, from which intent, with which config hash. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128), nullable=True)
    intent_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    config_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventRow(Base):
    """One event of one user's SSE stream, kept (bounded per user) so that ``Last-Event-ID``
    resumes across a sidecar restart. The id is the hub's own, increasing across restarts."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class AgentWalletRow(Base):
    """A user's agent wallet: the account it trades for and its key, encrypted at rest."""

    __tablename__ = "agent_wallets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    account_address: Mapped[str] = mapped_column(String(42))
    agent_address: Mapped[str] = mapped_column(String(42))
    secret_ref: Mapped[str] = mapped_column(String(128))
    created_at_ms: Mapped[int] = mapped_column(BigInteger)
