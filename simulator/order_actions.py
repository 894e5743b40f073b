"""The /exchange order actions: order, cancel, cancelByCloid, modify, batchModify, scheduleCancel.

A modify cancels the old order and places the new one under a NEW oid; without the "a" flag a
crossing Gtc replacement is treated as post-only, as the venue documents.
"""

from __future__ import annotations

from typing import Any

from adapters.hyperliquid.numbers import is_valid_cloid
from simulator import errors
from simulator.accounts import SimAccount
from simulator.builders import parse_builder
from simulator.lifecycle import cancel_order
from simulator.orders import SimOrder
from simulator.placement import parse_wire
from simulator.placement import place
from simulator.placement import place_normal_tpsl
from simulator.placement import place_wire
from simulator.state import DAY_MS
from simulator.state import VenueState
from simulator.state import hash_hex

SCHEDULE_CANCEL_MIN_DELAY_MS = 5_000
SCHEDULE_CANCEL_MAX_PER_DAY = 10


def err(text: str) -> dict[str, Any]:
    """The venue's whole-action error response."""
    return {"status": "err", "response": text}


def ok_default() -> dict[str, Any]:
    return {"status": "ok", "response": {"type": "default"}}


def act_order(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    wires = action.get("orders")
    grouping = action.get("grouping", "na")
    if (
        not isinstance(wires, list)
        or not wires
        or grouping not in ("na", "normalTpsl", "positionTpsl")
    ):
        return err(errors.DESERIALIZE)
    builder = parse_builder(account, action.get("builder"))
    if isinstance(builder, str):
        return err(builder)
    action_hash = hash_hex("action", signer, nonce)
    statuses: list[Any] = []
    state.action_builder = builder
    try:
        if grouping == "normalTpsl":
            statuses = place_normal_tpsl(state, account, wires, action_hash)
        else:
            for wire in wires:
                statuses.append(place_wire(state, account, wire, grouping, action_hash)[0])
    finally:
        state.action_builder = None
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}


def act_cancel(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    cancels = action.get("cancels")
    if not isinstance(cancels, list) or not cancels:
        return err(errors.DESERIALIZE)
    by_cloid = action["type"] == "cancelByCloid"
    statuses: list[Any] = []
    for item in cancels:
        if not isinstance(item, dict):
            return err(errors.DESERIALIZE)
        asset = item.get("asset") if by_cloid else item.get("a")
        order: SimOrder | None = None
        if by_cloid:
            cloid = item.get("cloid")
            if not is_valid_cloid(cloid):
                return err(errors.DESERIALIZE)
            oid = account.cloids.get(cloid)
            order = state.orders_by_oid.get(oid) if oid is not None else None
        else:
            oid = item.get("o")
            order = state.orders_by_oid.get(oid) if isinstance(oid, int) else None
        if (
            order is None
            or order.user != account.address
            or order.asset != asset
            or order.status != "open"
        ):
            statuses.append({"error": errors.with_asset(errors.MISSING_ORDER, asset)})
            continue
        cancel_order(state, order, "canceled")
        statuses.append("success")
    return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}


def modify_one(
    state: VenueState, account: SimAccount, oid: Any, wire: Any, action_hash: str
) -> tuple[Any, SimOrder | None]:
    """Cancel the order named by oid or cloid and place `wire` in its place."""
    order: SimOrder | None = None
    if isinstance(oid, int) and not isinstance(oid, bool):
        order = state.orders_by_oid.get(oid)
    elif is_valid_cloid(oid):
        found = account.cloids.get(oid)
        order = state.orders_by_oid.get(found) if found is not None else None
    else:
        return {"error": errors.DESERIALIZE}, None
    if order is None or order.user != account.address or order.status != "open":
        return {"error": errors.CANNOT_MODIFY}, None
    parsed = parse_wire(state, wire)
    if isinstance(parsed, str):
        return {"error": parsed}, None
    market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger = parsed
    if market.asset != order.asset:
        return {"error": errors.CANNOT_MODIFY}, None
    cancel_order(state, order, "canceled")
    if tif == "Gtc":
        tif = "Alo"  # without "a":true a Gtc replacement may not cross
    status, new = place(
        state,
        account,
        market,
        is_buy=is_buy,
        px_units=px_units,
        sz_units=sz_units,
        tif=tif,
        reduce_only=reduce_only,
        cloid=cloid,
        trigger=trigger,
        grouping="positionTpsl" if order.is_position_tpsl else "na",
        action_hash=action_hash,
    )
    if new is not None and tif == "Alo" and wire["t"].get("limit", {}).get("tif") == "Gtc":
        new.tif = "Gtc"
    return status, new


def act_modify(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    action_hash = hash_hex("action", signer, nonce)
    status, _ = modify_one(state, account, action.get("oid"), action.get("order"), action_hash)
    if isinstance(status, dict) and "error" in status:
        return {
            "status": "ok",
            "response": {"type": "order", "data": {"statuses": [status]}},
        }
    return ok_default()


def act_batch_modify(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    modifies = action.get("modifies")
    if not isinstance(modifies, list) or not modifies:
        return err(errors.DESERIALIZE)
    action_hash = hash_hex("action", signer, nonce)
    statuses = []
    for item in modifies:
        if not isinstance(item, dict):
            return err(errors.DESERIALIZE)
        status, _ = modify_one(state, account, item.get("oid"), item.get("order"), action_hash)
        statuses.append(status)
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}


def act_schedule_cancel(
    state: VenueState,
    account: SimAccount,
    action: dict[str, Any],
    signer: str,
    now_ms: int,
    nonce: int,
) -> dict[str, Any]:
    when = action.get("time")
    if account.cum_vlm < state.schedule_cancel_min_volume_usd:
        return err(errors.SCHEDULE_CANCEL_VOLUME)
    if when is None:
        account.schedule_cancel_ms = None
        state.scheduled.pop(account.address, None)
        return ok_default()
    if not isinstance(when, int) or isinstance(when, bool):
        return err(errors.DESERIALIZE)
    if when < now_ms + SCHEDULE_CANCEL_MIN_DELAY_MS:
        return err(errors.SCHEDULE_CANCEL_TOO_EARLY)
    day = now_ms // DAY_MS
    if account.schedule_cancel_day == day and (
        account.schedule_cancel_count >= SCHEDULE_CANCEL_MAX_PER_DAY
    ):
        return err(errors.SCHEDULE_CANCEL_TOO_MANY)
    account.schedule_cancel_ms = when
    state.scheduled[account.address] = when
    return ok_default()
