"""User-scoped queries. Every read and write of a user's rows takes that user's id and filters on
it, so a service cannot ask for another user's intent, plan or strategy by id: it gets None.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import select

from api.storage.database import Database
from api.storage.models import AgentWalletRow
from api.storage.models import AuditRow
from api.storage.models import IntentRow
from api.storage.models import PlanRow
from api.storage.models import RunRow
from api.storage.models import StrategyRow
from api.storage.models import UserRow

__all__ = ["Store"]


def _new_id() -> str:
    return str(uuid.uuid4())


class Store:
    """The sidecar's rows, always through a user id."""

    def __init__(self, database: Database) -> None:
        self.database = database

    # users ------------------------------------------------------------------------------------

    def user_for_subject(self, subject: str, roles: tuple[str, ...], now_ms: int) -> UserRow:
        """The internal user of a token subject, created on first sight; roles follow the
        token (a role removed at the identity provider is removed here on the next request)."""
        wanted = ",".join(sorted(set(roles)))
        with self.database.session() as s, s.begin():
            row = s.scalars(select(UserRow).where(UserRow.subject == subject)).one_or_none()
            if row is None:
                row = UserRow(id=_new_id(), subject=subject, roles=wanted, created_at_ms=now_ms)
                s.add(row)
                s.add(_audit(now_ms, row.id, "user.created", subject, {"roles": wanted}))
            elif row.roles != wanted:
                s.add(
                    _audit(now_ms, row.id, "user.roles", subject, {"from": row.roles, "to": wanted})
                )
                row.roles = wanted
            return row

    # intents and plans ------------------------------------------------------------------------

    def add_intent_and_plan(
        self,
        user_id: str,
        text: str | None,
        intent: dict[str, Any],
        plan: dict[str, Any],
        now_ms: int,
    ) -> tuple[IntentRow, PlanRow]:
        """Store an intent and its compiled plan together (one transaction), audited."""
        with self.database.session() as s, s.begin():
            intent_row = IntentRow(
                id=_new_id(), user_id=user_id, text=text, intent=intent, created_at_ms=now_ms
            )
            s.add(intent_row)
            s.flush()
            plan_row = PlanRow(
                id=_new_id(),
                user_id=user_id,
                intent_id=intent_row.id,
                template=plan["template"],
                coin=plan["coin"],
                instrument_id=plan["instrument_id"],
                live=plan["live"],
                config_hash=plan["config_hash"],
                rendered=plan["rendered"],
                plan=plan,
                strategy_config=plan["strategy_config"],
                created_at_ms=now_ms,
            )
            s.add(plan_row)
            s.add(
                _audit(
                    now_ms,
                    user_id,
                    "plan.compiled",
                    plan_row.id,
                    {"template": plan_row.template, "coin": plan_row.coin},
                    intent_id=intent_row.id,
                    config_hash=plan_row.config_hash,
                )
            )
            return intent_row, plan_row

    def plan(self, user_id: str, plan_id: str) -> PlanRow | None:
        """The user's plan, or None (also when it is another user's)."""
        with self.database.session() as s:
            return s.scalars(
                select(PlanRow).where(PlanRow.id == plan_id, PlanRow.user_id == user_id)
            ).one_or_none()

    # strategies -------------------------------------------------------------------------------

    def add_strategy(
        self, user_id: str, plan: PlanRow, account: str, state: str, now_ms: int
    ) -> StrategyRow:
        """Confirm a plan as a strategy (not started), audited with its intent and hash."""
        with self.database.session() as s, s.begin():
            row = StrategyRow(
                id=_new_id(),
                user_id=user_id,
                plan_id=plan.id,
                account=account,
                coin=plan.coin,
                state=state,
                node_strategy_id=None,
                created_at_ms=now_ms,
                updated_at_ms=now_ms,
            )
            s.add(row)
            s.add(
                _audit(
                    now_ms,
                    user_id,
                    "strategy.created",
                    row.id,
                    {"plan_id": plan.id, "account": account},
                    intent_id=plan.intent_id,
                    config_hash=plan.config_hash,
                )
            )
            return row

    def strategy(self, user_id: str, strategy_id: str) -> StrategyRow | None:
        """The user's strategy, or None (also when it is another user's)."""
        with self.database.session() as s:
            return s.scalars(
                select(StrategyRow).where(
                    StrategyRow.id == strategy_id, StrategyRow.user_id == user_id
                )
            ).one_or_none()

    def strategies(self, user_id: str) -> list[StrategyRow]:
        """The user's strategies, newest first."""
        with self.database.session() as s:
            return list(
                s.scalars(
                    select(StrategyRow)
                    .where(StrategyRow.user_id == user_id)
                    .order_by(StrategyRow.created_at_ms.desc(), StrategyRow.id)
                )
            )

    def active_on(self, account: str, coin: str, states: tuple[str, ...]) -> list[StrategyRow]:
        """Strategies of any user in ``states`` trading ``coin`` on ``account`` (the one-net-
        position-per-coin rule needs to look across users of the same account)."""
        with self.database.session() as s:
            return list(
                s.scalars(
                    select(StrategyRow).where(
                        StrategyRow.account == account,
                        StrategyRow.coin == coin,
                        StrategyRow.state.in_(states),
                    )
                )
            )

    def on_node(self, node_strategy_ids: Collection[str]) -> list[tuple[StrategyRow, str]]:
        """Strategies of any user with these node ids, each with its owner's subject (for the
        operators' status view only)."""
        if not node_strategy_ids:
            return []
        with self.database.session() as s:
            rows = s.execute(
                select(StrategyRow, UserRow.subject)
                .join(UserRow, UserRow.id == StrategyRow.user_id)
                .where(StrategyRow.node_strategy_id.in_(list(node_strategy_ids)))
            )
            return [(row, subject) for row, subject in rows]

    def set_strategy_state(
        self,
        user_id: str,
        strategy_id: str,
        state: str,
        now_ms: int,
        *,
        action: str,
        node_strategy_id: str | None = None,
        reason: str | None = None,
    ) -> StrategyRow | None:
        """Move the user's strategy to ``state``; opens a run on ``running`` and closes the open
        run otherwise. Audited with the plan's intent and config hash."""
        with self.database.session() as s, s.begin():
            row = s.scalars(
                select(StrategyRow).where(
                    StrategyRow.id == strategy_id, StrategyRow.user_id == user_id
                )
            ).one_or_none()
            if row is None:
                return None
            plan = s.get(PlanRow, row.plan_id)
            previous = row.state
            row.state = state
            row.updated_at_ms = now_ms
            if node_strategy_id is not None:
                row.node_strategy_id = node_strategy_id
            open_run = s.scalars(
                select(RunRow).where(RunRow.strategy_id == row.id, RunRow.stopped_at_ms.is_(None))
            ).one_or_none()
            if state == "running" and open_run is None:
                s.add(RunRow(strategy_id=row.id, started_at_ms=now_ms))
            elif state != "running" and open_run is not None:
                open_run.stopped_at_ms = now_ms
                open_run.stop_reason = reason or state
            s.add(
                _audit(
                    now_ms,
                    user_id,
                    action,
                    row.id,
                    {"from": previous, "to": state, "reason": reason},
                    intent_id=plan.intent_id if plan else None,
                    config_hash=plan.config_hash if plan else None,
                )
            )
            return row

    def runs(self, user_id: str, strategy_id: str) -> list[RunRow]:
        """The runs of the user's strategy, oldest first (empty for another user's)."""
        with self.database.session() as s:
            return list(
                s.scalars(
                    select(RunRow)
                    .join(StrategyRow, StrategyRow.id == RunRow.strategy_id)
                    .where(StrategyRow.id == strategy_id, StrategyRow.user_id == user_id)
                    .order_by(RunRow.id)
                )
            )

    # agent wallets ----------------------------------------------------------------------------

    def add_wallet(
        self, user_id: str, account: str, agent: str, secret_ref: str, now_ms: int
    ) -> AgentWalletRow:
        """Register the user's agent wallet (the key itself lives in the secret store)."""
        with self.database.session() as s, s.begin():
            row = AgentWalletRow(
                id=_new_id(),
                user_id=user_id,
                account_address=account,
                agent_address=agent,
                secret_ref=secret_ref,
                created_at_ms=now_ms,
            )
            s.add(row)
            s.add(_audit(now_ms, user_id, "wallet.registered", row.id, {"account": account}))
            return row

    def wallets(self, user_id: str) -> list[AgentWalletRow]:
        """The user's agent wallets."""
        with self.database.session() as s:
            return list(s.scalars(select(AgentWalletRow).where(AgentWalletRow.user_id == user_id)))

    # audit ------------------------------------------------------------------------------------

    def audit(
        self,
        now_ms: int,
        user_id: str | None,
        action: str,
        target: str | None,
        detail: dict[str, Any],
    ) -> None:
        """Append one audit entry on its own."""
        with self.database.session() as s, s.begin():
            s.add(_audit(now_ms, user_id, action, target, detail))

    def audit_entries(self, user_id: str | None = None) -> list[AuditRow]:
        """Audit entries (of one user, or all), oldest first."""
        with self.database.session() as s:
            query = select(AuditRow).order_by(AuditRow.id)
            if user_id is not None:
                query = query.where(AuditRow.user_id == user_id)
            return list(s.scalars(query))


def _audit(
    now_ms: int,
    user_id: str | None,
    action: str,
    target: str | None,
    detail: dict[str, Any],
    *,
    intent_id: str | None = None,
    config_hash: str | None = None,
) -> AuditRow:
    return AuditRow(
        at_ms=now_ms,
        user_id=user_id,
        action=action,
        target=target,
        intent_id=intent_id,
        config_hash=config_hash,
        detail=detail,
    )
