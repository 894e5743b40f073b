"""Intents: text or structured -> compiled plan, stored. Nothing runs here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from api.storage.models import IntentRow
from api.storage.models import PlanRow
from api.storage.store import Store
from api.storage.writer import Insert
from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.parser import parse_intent
from intents.schema import decode_intent
from intents.venue import VenueSnapshot

__all__ = ["StoredPlan", "store_intent", "submit_intent"]

STARTED_STATES = ("running", "stopped", "cancelled")


@dataclass(frozen=True, slots=True)
class StoredPlan:
    """The stored intent and plan rows and the plan's figures."""

    intent: IntentRow
    plan: PlanRow
    figures: dict[str, Any]


def submit_intent(
    store: Store,
    user_id: str,
    text: str | None,
    structured: dict[str, Any] | None,
    snapshot: VenueSnapshot,
    now_ms: int,
) -> StoredPlan:
    """Parse (text) or decode (structured), compile for this user and store both.

    Raises ``intents.schema.IntentError`` with every problem when the intent is refused.
    """
    intent, figures = _compile(store, user_id, text, structured, snapshot, now_ms)
    intent_row, plan_row = store.add_intent_and_plan(user_id, text, intent, figures, now_ms=now_ms)
    return StoredPlan(intent=intent_row, plan=plan_row, figures=figures)


async def store_intent(
    store: Store,
    user_id: str,
    text: str | None,
    structured: dict[str, Any] | None,
    snapshot: Callable[[], VenueSnapshot],
    now_ms: int,
) -> StoredPlan:
    """``submit_intent`` from the event loop: the same parse, compile (on the user's strategies
    as stored now) and rows, done on the database thread and group-committed with the other
    intents arriving meanwhile (``Database.write``). Raises ``IntentError`` the same way."""

    def prepare() -> tuple[StoredPlan, list[Insert]]:
        intent, figures = _compile(store, user_id, text, structured, snapshot(), now_ms)
        intent_row, plan_row, rows = store.intent_and_plan_rows(
            user_id, text, intent, figures, now_ms=now_ms
        )
        return StoredPlan(intent=intent_row, plan=plan_row, figures=figures), rows

    return await store.database.write(prepare)


def _compile(
    store: Store,
    user_id: str,
    text: str | None,
    structured: dict[str, Any] | None,
    snapshot: VenueSnapshot,
    now_ms: int,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The compiled intent (as builtins) and the plan's figures; IntentError when refused."""
    intent = parse_intent(text) if text is not None else decode_intent(structured or {})
    traded = store.coins_traded(user_id, STARTED_STATES)
    profile = UserProfile(user_id=user_id, coins_traded=tuple(traded))
    plan = compile_intent(intent, snapshot, profile, now_ms=now_ms)
    cfg = plan.strategy_config
    figures: dict[str, Any] = {
        "template": plan.template,
        "coin": plan.coin,
        "instrument_id": plan.instrument_id,
        "live": plan.live,
        "config_hash": plan.config_hash,
        "rendered": plan.render(),
        "notional_usd": str(plan.notional_usd),
        "fees_usd": str(plan.fees_usd),
        "worst_case_loss": plan.worst_case_loss,
        "leverage": plan.leverage,
        "schedule": plan.schedule,
        "notes": list(plan.notes),
        "strategy_config": {
            "strategy_path": cfg.strategy_path,
            "config_path": cfg.config_path,
            "config": cfg.config,
        },
    }
    return plan.intent, figures
