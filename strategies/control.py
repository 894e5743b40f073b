"""
Operator commands: HALT, REDUCE_ONLY, RESUME and FLATTEN, as plain functions of a kernel.

Each maps onto BOTH gates, the guard and NautilusTrader's RiskEngine (which has no command
message for its trading state: ``set_trading_state`` is the way, NAUTILUS_FACTS §5):

=============  ======================  ==================================================
command        RiskGuard               RiskEngine
=============  ======================  ==================================================
halt           HALTED                  HALTED
reduce_only    REDUCE_ONLY             REDUCING (the guard also refuses opening from flat)
resume         ACTIVE                  ACTIVE
flatten        stays as it is          HALTED -> REDUCING while flattening, then HALTED
=============  ======================  ==================================================

Why flatten touches the RiskEngine: a HALTED RiskEngine denies every submit, closes included
(NAUTILUS_FACTS §5). While the guard is HALTED it still refuses everything except orders tagged
``FLATTEN_TAG`` that reduce, so lowering the RiskEngine to REDUCING for the flatten lets only
those closes through; the guard puts the RiskEngine back to HALTED once the account is flat.

Call these on the node's event-loop thread (the message bus is not thread-safe); from another
thread (the sidecar) use ``loop.call_soon_threadsafe(halt, kernel, "reason")``.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.enums import TradingState

from strategies.risk_guard import FLATTEN_TAG
from strategies.risk_guard import GuardMode
from strategies.risk_guard import RiskGuard

__all__ = ["find_guard", "flatten", "halt", "reduce_only", "resume"]


def find_guard(kernel: Any) -> RiskGuard:
    """The node's installed risk guard (raises if there is none: never trade unguarded)."""
    for actor in kernel.trader.actors():
        if isinstance(actor, RiskGuard) and actor.installed:
            return actor
    raise RuntimeError("this node has no installed RiskGuard (install_risk_guard)")


def halt(kernel: Any, reason: str) -> None:
    """Stop all trading: no order leaves the node (cancels still do)."""
    find_guard(kernel).set_mode(GuardMode.HALTED, f"operator HALT: {reason}")
    kernel.risk_engine.set_trading_state(TradingState.HALTED)


def reduce_only(kernel: Any, reason: str) -> None:
    """Close-only: orders that reduce exposure only; nothing opens, not even from flat."""
    find_guard(kernel).set_mode(GuardMode.REDUCE_ONLY, f"operator REDUCE_ONLY: {reason}")
    kernel.risk_engine.set_trading_state(TradingState.REDUCING)


def resume(kernel: Any, reason: str) -> None:
    """Back to normal trading (also clears a tripped circuit breaker)."""
    guard = find_guard(kernel)
    guard.flatten_in_progress = False
    guard.set_mode(GuardMode.ACTIVE, f"operator RESUME: {reason}")
    kernel.risk_engine.set_trading_state(TradingState.ACTIVE)


def flatten(kernel: Any, reason: str) -> int:
    """
    Cancel every open order and close every open position reduce-only at market.

    Each position is closed by the strategy that owns it (so the cache stays consistent); works
    in every mode, HALT included (see module notes). Returns how many positions it closes.
    """
    guard = find_guard(kernel)
    cache = kernel.cache
    strategies = {s.id: s for s in kernel.trader.strategies()}
    halted = guard.mode == GuardMode.HALTED
    guard.flatten_in_progress = True
    if halted:
        kernel.risk_engine.set_trading_state(TradingState.REDUCING)
    guard.log.warning(f"FLATTEN requested: {reason}")
    closing = 0
    for position in cache.positions_open():
        owner = strategies.get(position.strategy_id)
        if owner is None:
            guard.log.error(
                f"FLATTEN: {position.id} belongs to {position.strategy_id}, which is not "
                "running in this node; close it at the venue"
            )
            continue
        owner.cancel_all_orders(position.instrument_id)
        owner.close_position(position, tags=[FLATTEN_TAG])
        closing += 1
    for order in cache.orders_open():
        owner = strategies.get(order.strategy_id)
        if owner is not None:
            owner.cancel_order(order)
    if closing == 0:
        _flatten_done(kernel, guard, halted)
    else:
        guard.on_flat(lambda: _flatten_done(kernel, guard, halted))
    return closing


def _flatten_done(kernel: Any, guard: RiskGuard, halted: bool) -> None:
    guard.flatten_in_progress = False
    if halted and guard.mode == GuardMode.HALTED:
        kernel.risk_engine.set_trading_state(TradingState.HALTED)
    guard.log.warning("FLATTEN done: no open position")
