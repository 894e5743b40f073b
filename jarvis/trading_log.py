"""
A compact status block every few seconds: regime per instrument, each strategy's state, positions
and PnL — what a trader watching ``jarvis demo`` wants, instead of the raw NautilusTrader log.

It only listens: ``RegimeChange``, ``StrategyState`` and ``RiskGuardChange`` from the bus, the
mid from ``MarketState``, positions, orders and the account from the cache and the portfolio. It
prints to standard output (``to_stdout``) or logs one line per row. User templates (DirectBuy,
TWAP ...) publish no ``StrategyState``; they are shown with NautilusTrader's own component state
(``ComponentStateChanged`` on ``events.system.*``) until they stop, next to the coin of their
orders (a strategy's lifecycle event carries no instrument), or on a line of their own before
their first order.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.common.messages import ComponentStateChanged
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import PositiveFloat
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import Venue

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.market_state import MarketState
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyState
from strategies.risk_guard import RISK_GUARD_CHANGE_DATA_TYPE
from strategies.risk_guard import RiskGuardChange

__all__ = ["TradingStatusLogger", "TradingStatusLoggerConfig", "format_status"]

_TIMER = "trading-status"
_GONE = frozenset({"STOPPED", "DISPOSED"})  # component states not shown


class TradingStatusLoggerConfig(ActorConfig, frozen=True):
    """
    Configuration of the ``TradingStatusLogger``.

    Parameters
    ----------
    venue : str
        Venue whose account (equity) is shown.
    interval_secs : float
        Period of the status block.
    to_stdout : bool
        Print the block to standard output (the demo); else log it line by line.
    """

    venue: str = "HYPERLIQUID"
    interval_secs: PositiveFloat = 5.0
    to_stdout: bool = True


@dataclass
class _Row:
    regime: str = "DISABLED"
    regime_reason: str = ""
    mid: float = math.nan


def _num(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def _coin(instrument_id: InstrumentId) -> str:
    return instrument_id.symbol.value.split("-")[0]


def format_status(
    now_ns: int,
    trading_state: str,
    guard_mode: str,
    rows: dict[InstrumentId, _Row],
    strategies: dict[str, StrategyState],
    positions: list[tuple[str, str, float, float]],
    open_orders: int,
    realized: float,
    unrealized: float,
    equity: float,
    templates: dict[str, tuple[InstrumentId | None, str]] | None = None,
) -> list[str]:
    """The block's lines (pure: tested on its own). ``templates``: strategy id -> (the
    instrument of its orders, None before any; component state) of strategies that publish no
    ``StrategyState``."""
    others = {sid: shown for sid, shown in (templates or {}).items() if sid not in strategies}
    stamp = dt.datetime.fromtimestamp(now_ns / 1e9, tz=dt.UTC).strftime("%H:%M:%S")
    lines = [f"== {stamp} UTC  trading {trading_state}  guard {guard_mode} =="]
    for instrument_id in sorted(rows, key=str):
        row = rows[instrument_id]
        mine = [s for s in strategies.values() if s.instrument_id == instrument_id]
        parts = []
        for report in sorted(mine, key=lambda s: s.strategy_id):
            levels = ""
            if not math.isnan(report.stop_price):
                levels = f" stop {_num(report.stop_price)} tgt {_num(report.target_price)}"
            parts.append(f"{report.strategy_id} {report.state}{levels}")
        parts.extend(
            f"{sid} {state}" for sid, (on, state) in sorted(others.items()) if on == instrument_id
        )
        lines.append(
            f"  {_coin(instrument_id):<5} {row.regime:<9} mid {_num(row.mid):>12}  "
            + ("; ".join(parts) if parts else "(no strategy)")
        )
    waiting = [f"{sid} {state}" for sid, (on, state) in sorted(others.items()) if on is None]
    if waiting:
        lines.append("  no order yet: " + "; ".join(waiting))
    if positions:
        held = ", ".join(
            f"{coin} {qty} @ {_num(avg)} uPnL {_num(upnl)}" for coin, qty, avg, upnl in positions
        )
    else:
        held = "flat"
    lines.append(
        f"  positions: {held} | open orders {open_orders} | realized {_num(realized)} "
        f"unrealized {_num(unrealized)} | equity {_num(equity)}"
    )
    return lines


class TradingStatusLogger(Actor):
    """Prints the status block on a timer (see module notes)."""

    def __init__(self, config: TradingStatusLoggerConfig | None = None) -> None:
        config = config or TradingStatusLoggerConfig()
        super().__init__(config)
        self._cfg = config
        self._venue = Venue(config.venue)
        self._rows: dict[InstrumentId, _Row] = {}
        self._strategies: dict[str, StrategyState] = {}
        self._components: dict[str, str] = {}  # strategy id -> component state, until stopped
        self._guard_mode = "ACTIVE"
        self._trading_state = "ACTIVE"
        self.blocks = 0

    def on_start(self) -> None:
        """Listen to the bus and start the timer."""
        bus = self.msgbus
        bus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        bus.subscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        bus.subscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_strategy)
        bus.subscribe(custom_data_topic(RISK_GUARD_CHANGE_DATA_TYPE), self._on_guard)
        bus.subscribe("events.risk*", self._on_risk)
        bus.subscribe("events.system.*", self._on_component)
        self.clock.set_timer(
            _TIMER, timedelta(seconds=self._cfg.interval_secs), callback=self._on_timer
        )

    def on_stop(self) -> None:
        """Mirror ``on_start``."""
        bus = self.msgbus
        bus.unsubscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        bus.unsubscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        bus.unsubscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_strategy)
        bus.unsubscribe(custom_data_topic(RISK_GUARD_CHANGE_DATA_TYPE), self._on_guard)
        bus.unsubscribe("events.risk*", self._on_risk)
        bus.unsubscribe("events.system.*", self._on_component)
        if _TIMER in self.clock.timer_names:
            self.clock.cancel_timer(_TIMER)

    def _row(self, instrument_id: InstrumentId) -> _Row:
        row = self._rows.get(instrument_id)
        if row is None:
            row = self._rows[instrument_id] = _Row()
        return row

    def _on_state(self, state: MarketState) -> None:
        self._row(state.instrument_id).mid = state.mid

    def _on_regime(self, change: RegimeChange) -> None:
        row = self._row(change.instrument_id)
        row.regime = change.regime
        row.regime_reason = change.reason

    def _on_strategy(self, report: StrategyState) -> None:
        self._strategies[report.strategy_id] = report
        self._row(report.instrument_id)

    def _on_component(self, event: Any) -> None:
        """A strategy's lifecycle: kept while it runs (or faulted), forgotten once stopped."""
        if isinstance(event, ComponentStateChanged) and isinstance(event.component_id, StrategyId):
            state = event.state.name
            if state in _GONE:
                self._components.pop(event.component_id.value, None)
            else:
                self._components[event.component_id.value] = state

    def _templates(self) -> dict[str, tuple[InstrumentId | None, str]]:
        shown: dict[str, tuple[InstrumentId | None, str]] = {}
        for strategy_id, state in self._components.items():
            if strategy_id in self._strategies:
                continue
            orders = self.cache.orders(strategy_id=StrategyId(strategy_id))
            instrument_id = orders[0].instrument_id if orders else None
            if instrument_id is not None:
                self._row(instrument_id)
            shown[strategy_id] = (instrument_id, state)
        return shown

    def _on_guard(self, change: RiskGuardChange) -> None:
        self._guard_mode = change.mode

    def _on_risk(self, event: Any) -> None:
        state = getattr(event, "state", None)
        if state is not None:
            self._trading_state = TradingState(state).name

    def _on_timer(self, event: TimeEvent) -> None:
        for line in self.status_lines():
            if self._cfg.to_stdout:
                print(line, flush=True)
            else:
                self.log.info(line)
        self.blocks += 1

    def status_lines(self) -> list[str]:
        """The current block."""
        cache = self.cache
        portfolio = self.portfolio
        positions: list[tuple[str, str, float, float]] = []
        unrealized = 0.0
        realized = 0.0
        for position in cache.positions_open():
            upnl = portfolio.unrealized_pnl(position.instrument_id)
            value = float(upnl) if upnl is not None else math.nan
            unrealized += 0.0 if math.isnan(value) else value
            positions.append(
                (
                    _coin(position.instrument_id),
                    f"{float(position.signed_qty):+g}",
                    float(position.avg_px_open),
                    value,
                )
            )
        for position in cache.positions():
            if position.realized_pnl is not None:
                realized += float(position.realized_pnl)
        account: Any = portfolio.account(self._venue)
        equity = math.nan
        if account is not None:
            balances = account.balances_total()
            if balances:
                equity = float(next(iter(balances.values())))
        return format_status(
            self.clock.timestamp_ns(),
            self._trading_state,
            self._guard_mode,
            self._rows,
            self._strategies,
            positions,
            len(cache.orders_open()),
            realized,
            unrealized,
            equity,
            self._templates(),
        )
