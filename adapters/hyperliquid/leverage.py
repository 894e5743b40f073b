"""Leverage and margin mode on the venue (``updateLeverage``): the config's per-coin setting at
start, and the setting one order asks for (``SubmitOrder.params``) just before it is sent.

Why a module of its own: both paths sign an action through the execution client, and keeping
them here keeps the client module to the order flow.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

from nautilus_trader.common.component import Logger
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.instruments import Instrument

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidRateLimitError
from adapters.hyperliquid.order_builder import HyperliquidOrderBuilder
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.exchange import UpdateLeverageAction

__all__ = ["set_configured_leverage", "set_order_leverage"]

Post = Callable[[Any], Awaitable[ExchangeResponse]]


async def set_configured_leverage(
    config: HyperliquidExecClientConfig,
    instruments: dict[str, Instrument],
    builder: HyperliquidOrderBuilder,
    post: Post,
    log: Logger,
) -> None:
    """Set ``config.leverage`` per coin (isolated for ``config.isolated_coins``); fail loudly
    (the node does not start) when the venue refuses."""
    isolated = set(config.isolated_coins)
    for coin, leverage in sorted((config.leverage or {}).items()):
        instrument = instruments.get(coin)
        if instrument is None:
            raise ValueError(f"leverage: {coin!r} is not a loaded instrument")
        spec = builder.spec(instrument.id)
        assert spec is not None
        action = UpdateLeverageAction(
            asset=spec.asset, isCross=coin not in isolated, leverage=leverage
        )
        response = await post(action)
        mode = "isolated" if coin in isolated else "cross"
        if isinstance(response, ExchangeErr):
            raise RuntimeError(
                f"cannot set {coin} leverage {leverage}x {mode}: {response.response}"
            )
        log.info(f"{coin} leverage set to {leverage}x {mode}")


async def set_order_leverage(
    command: SubmitOrder, builder: HyperliquidOrderBuilder, post: Post, log: Logger
) -> str | None:
    """Set the leverage an order asks for (``params={"leverage": 5, "margin_mode":
    "isolated"}``) before it is sent; returns why the order must be denied, ``None`` if set.

    Why per order: a user template (DirectBuy) may ask for a leverage other than the config's
    per-coin setting for its one order.
    """
    order = command.order
    leverage = command.params["leverage"]
    isolated = command.params.get("margin_mode") == "isolated"
    spec = builder.spec(order.instrument_id)
    if spec is None or isinstance(leverage, bool) or not isinstance(leverage, int):
        return f"cannot set leverage {leverage!r} for {order.instrument_id}"
    mode = "isolated" if isolated else "cross"
    action = UpdateLeverageAction(asset=spec.asset, isCross=not isolated, leverage=leverage)
    try:
        response = await post(action)
    except (ExchangeTransportError, HyperliquidRateLimitError, HyperliquidHttpError) as exc:
        return f"leverage {leverage}x {mode} not set: {exc}"
    if isinstance(response, ExchangeErr):
        return f"leverage {leverage}x {mode} refused: {response.response}"
    log.info(f"{order.instrument_id} leverage set to {leverage}x {mode} for an order")
    return None
