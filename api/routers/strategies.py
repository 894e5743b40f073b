"""Strategies: create from a plan (confirmation), start, stop, cancel, list, detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Body
from fastapi import HTTPException
from fastapi import Path
from fastapi.responses import JSONResponse

from api.deps import CurrentUser
from api.deps import State
from api.node_link import CommandQueued
from api.schemas import ID_PATTERN
from api.schemas import CommandQueuedResponse
from api.schemas import ErrorResponse
from api.schemas import StrategyCancelRequest
from api.schemas import StrategyCreateRequest
from api.schemas import StrategyDetail
from api.schemas import StrategySummary
from api.services.strategies import StrategyConflict
from api.services.strategies import StrategyNotFound
from api.services.strategies import budget
from api.services.strategies import command_strategy
from api.services.strategies import create_strategy
from api.storage.models import StrategyRow

StrategyId = Annotated[
    str, Path(pattern=ID_PATTERN, examples=["6f1c7e0e-3a1b-4f7a-9a55-0d3a0c1e2b44"])
]

router = APIRouter(prefix="/strategies", tags=["strategies"])

_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "no such strategy or plan of yours"},
    409: {"model": ErrorResponse, "description": "not allowed in the current state"},
    503: {"model": ErrorResponse, "description": "node not connected"},
}
_QUEUED: dict[int | str, dict[str, object]] = {
    202: {
        "model": CommandQueuedResponse,
        "description": "the strategy's node is down: the command is queued, NOT run yet; it runs "
        "once when the node is back (before `expires_at_ms`) and its outcome comes as a "
        "`command.result` event on /events/stream",
    },
    **_ERRORS,
}


def _summary(row: StrategyRow) -> StrategySummary:
    return StrategySummary(
        strategy_id=row.id,
        plan_id=row.plan_id,
        coin=row.coin,
        account=row.account,
        state=row.state,  # type: ignore[arg-type]
        node_strategy_id=row.node_strategy_id,
        created_at_ms=row.created_at_ms,
        updated_at_ms=row.updated_at_ms,
    )


def _raise(exc: Exception) -> None:
    if isinstance(exc, StrategyNotFound):
        raise HTTPException(404, str(exc)) from None
    if isinstance(exc, StrategyConflict):
        raise HTTPException(409, str(exc)) from None
    raise exc


@router.post("", status_code=201, response_model=StrategySummary, responses=_ERRORS)
def post_strategy(body: StrategyCreateRequest, user: CurrentUser, state: State) -> StrategySummary:
    """Confirm one of your plans as a strategy (created, not started)."""
    try:
        row = create_strategy(state.store, state.hub, user.id, body.plan_id, state.clock_ms())
    except (StrategyNotFound, StrategyConflict) as exc:
        _raise(exc)
        raise
    return _summary(row)


@router.get("", response_model=list[StrategySummary])
def list_strategies(user: CurrentUser, state: State) -> list[StrategySummary]:
    """Your strategies, newest first."""
    return [_summary(row) for row in state.store.strategies(user.id)]


@router.get("/{strategy_id}", response_model=StrategyDetail, responses=_ERRORS)
def get_strategy(strategy_id: StrategyId, user: CurrentUser, state: State) -> StrategyDetail:
    """One of your strategies with its orders, fills, position, PnL, fees and budget."""
    row = state.store.strategy(user.id, strategy_id)
    if row is None:
        raise HTTPException(404, f"strategy {strategy_id} not found")
    plan = state.store.plan(user.id, row.plan_id)
    assert plan is not None
    status = state.link.status(row.node_strategy_id) if row.node_strategy_id else None
    used, left = budget(plan.plan["notional_usd"], status)
    config = plan.strategy_config.get("config", {})
    return StrategyDetail(
        **_summary(row).model_dump(),
        regime_gate=(status.regime_gate if status else None) or _plan_gate(config),
        orders=status.orders if status else [],
        fills=status.fills if status else [],
        position=status.position if status else None,
        realized_pnl_usd=status.realized_pnl_usd if status else None,
        unrealized_pnl_usd=status.unrealized_pnl_usd if status else None,
        fees_usd=status.fees_usd if status else None,
        budget_usd=plan.plan["notional_usd"],
        budget_used_usd=used,
        budget_left_usd=left,
        node_connected=state.link.connected(),
        interrupted=(
            state.link.interruption(row.node_strategy_id) if row.node_strategy_id else None
        ),
    )


def _plan_gate(config: dict[str, object]) -> str:
    gate = config.get("regime_gate")
    return f"gated on {gate} (not reported by the node)" if gate else "not regime-gated"


def _command(
    command: str, strategy_id: str, user_id: str, state: State, close: bool = False
) -> StrategySummary | JSONResponse:
    try:
        row = command_strategy(
            state.store,
            state.hub,
            state.link,
            user_id,
            strategy_id,
            command,
            state.clock_ms(),
            close=close,
            secrets=state.secrets,
        )
    except (StrategyNotFound, StrategyConflict) as exc:
        _raise(exc)
        raise
    except CommandQueued as queued:
        unchanged = state.store.strategy(user_id, strategy_id)
        assert unchanged is not None
        body = CommandQueuedResponse(
            detail=str(queued),
            command_id=queued.command_id,
            node=queued.node,
            expires_at_ms=queued.expires_at_ms,
            strategy=_summary(unchanged),
        )
        return JSONResponse(body.model_dump(), status_code=202)
    return _summary(row)


@router.post("/{strategy_id}/start", response_model=StrategySummary, responses=_ERRORS)
def start_strategy(
    strategy_id: StrategyId, user: CurrentUser, state: State
) -> StrategySummary | JSONResponse:
    """Start your strategy on the node (through the regime controller). Refused (503 naming the
    node) while its node is down: no new risk where nothing watches it."""
    return _command("start", strategy_id, user.id, state)


@router.post("/{strategy_id}/stop", response_model=StrategySummary, responses=_QUEUED)
def stop_strategy(
    strategy_id: StrategyId, user: CurrentUser, state: State
) -> StrategySummary | JSONResponse:
    """Stop your running strategy (it cancels its own orders on stop)."""
    return _command("stop", strategy_id, user.id, state)


@router.post("/{strategy_id}/cancel", response_model=StrategySummary, responses=_QUEUED)
def cancel_strategy(
    strategy_id: StrategyId,
    user: CurrentUser,
    state: State,
    body: Annotated[StrategyCancelRequest | None, Body()] = None,
) -> StrategySummary | JSONResponse:
    """Cancel your strategy: stop it, cancel its orders, close its position if ``close``."""
    close = body.close if body is not None else False
    return _command("cancel", strategy_id, user.id, state, close)
