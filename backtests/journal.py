"""The run journal: what a finished run leaves in its run directory for ``backtests.reports``.

Why a directory the node writes, not its Redis-backed cache: the cache keeps orders, positions
and accounts, but not what a trader reviews beside them -- the regime timeline, each strategy's
state transitions, funding booked, the price they happened at, the analyzer's returns -- and it
belongs to a trader id that the next run reuses (and may flush). A run directory is one
self-contained folder per run that can be copied, archived and reported on with no Redis and no
node, and a backtest writes exactly the same folder, so one reports module serves both.

The journal is an actor added to the node (live: ``jarvis node --run-dir``; backtest: always). It
listens on the bus (nothing it does subscribes to market data, so it changes no data
subscriptions and nothing a strategy sees), samples each instrument's price from the cache on a
timer, and on stop writes:

    run.json            kind, trader id, first/last time, notes (fill and latency model ...)
    orders.csv fills.csv positions.csv account.csv    NautilusTrader's ReportProvider
    stats.json          PortfolioAnalyzer statistics (pnls, returns, general)
    returns.csv         the analyzer's returns series
    regime.jsonl states.jsonl gates.jsonl funding.jsonl prices.csv
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from nautilus_trader.analysis import PortfolioAnalyzer
from nautilus_trader.analysis import ReportProvider
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue

from backtests.funding import FUNDING_TOPIC
from backtests.funding import FundingPayment
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyGate
from controllers.protocol import StrategyState

__all__ = ["RunJournal", "RunJournalConfig"]

_TIMER = "run-journal-prices"


class RunJournalConfig(ActorConfig, frozen=True):
    """
    Configuration of ``RunJournal``.

    Parameters
    ----------
    directory : str
        The run directory (created at start; its files are replaced at stop).
    kind : str
        ``"backtest"`` or ``"live"`` (written to ``run.json``).
    venue : str
        The venue whose account is reported.
    price_sample_secs : float
        How often each instrument's price is sampled from the cache (for the charts).
    notes : dict[str, str]
        Free text written to ``run.json`` (e.g. the fill and latency models).
    """

    directory: str
    kind: str = "live"
    venue: str = "HYPERLIQUID"
    price_sample_secs: float = 1.0
    notes: dict[str, str] = {}

    def __post_init__(self) -> None:
        if not self.directory:
            raise ValueError("directory: must not be empty")
        if self.kind not in ("backtest", "live"):
            raise ValueError(f"kind: must be 'backtest' or 'live', was {self.kind!r}")
        if not self.price_sample_secs > 0:
            raise ValueError(f"price_sample_secs: must be > 0, was {self.price_sample_secs}")


class RunJournal(Actor):
    """Collects a run's timeline off the bus and writes the run directory at stop."""

    def __init__(self, config: RunJournalConfig) -> None:
        super().__init__(config)
        self.journal_config = config
        self.regime: list[dict[str, Any]] = []
        self.states: list[dict[str, Any]] = []
        self.gates: list[dict[str, Any]] = []
        self.funding: list[dict[str, Any]] = []
        self.prices: list[tuple[int, str, float]] = []
        self._last_price: dict[InstrumentId, float] = {}
        self._first_ns = 0

    def on_start(self) -> None:
        """Listen for regime changes, strategy states, gates and funding; start sampling."""
        Path(self.journal_config.directory).mkdir(parents=True, exist_ok=True)
        self._first_ns = self.clock.timestamp_ns()
        self.msgbus.subscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        self.msgbus.subscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_state)
        self.msgbus.subscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        self.msgbus.subscribe(FUNDING_TOPIC, self._on_funding)
        interval = pd.Timedelta(seconds=self.journal_config.price_sample_secs)
        self.clock.set_timer(_TIMER, interval, callback=self._on_sample)

    def on_stop(self) -> None:
        """Write the run directory (every file replaced)."""
        if _TIMER in self.clock.timer_names:
            self.clock.cancel_timer(_TIMER)
        self._sample(self.clock.timestamp_ns())
        self.write(Path(self.journal_config.directory))

    # Bus handlers ------------------------------------------------------------------------------

    def _on_regime(self, change: RegimeChange) -> None:
        self.regime.append(
            {
                "ts_ns": change.ts_init,
                "instrument_id": str(change.instrument_id),
                "previous": change.previous,
                "regime": change.regime,
                "reason": change.reason,
                "inputs": change.inputs,
            },
        )

    def _on_state(self, state: StrategyState) -> None:
        self.states.append(
            {
                "ts_ns": state.ts_init,
                "strategy_id": state.strategy_id,
                "instrument_id": str(state.instrument_id),
                "previous": state.previous,
                "state": state.state,
                "reason": state.reason,
                "flat": state.flat,
            },
        )

    def _on_gate(self, gate: StrategyGate) -> None:
        self.gates.append(
            {
                "ts_ns": gate.ts_init,
                "strategy_id": gate.strategy_id,
                "instrument_id": str(gate.instrument_id),
                "enabled": gate.enabled,
                "action": gate.action,
                "reason": gate.reason,
            },
        )

    def _on_funding(self, payment: FundingPayment) -> None:
        self.funding.append(payment.to_dict())

    def _on_sample(self, event: TimeEvent) -> None:
        self._sample(event.ts_event)

    def _sample(self, ts_ns: int) -> None:
        venue = Venue(self.journal_config.venue)
        for instrument in self.cache.instruments(venue=venue):
            price = _cached_price(self.cache, instrument.id)
            if price is None or self._last_price.get(instrument.id) == price:
                continue
            self._last_price[instrument.id] = price
            self.prices.append((ts_ns, str(instrument.id), price))

    # Output ------------------------------------------------------------------------------------

    def write(self, directory: Path) -> None:
        """Write every journal file into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        venue = Venue(self.journal_config.venue)
        orders = self.cache.orders()
        positions = list(self.cache.positions()) + list(self.cache.position_snapshots())
        account = self.cache.account_for_venue(venue)
        ReportProvider.generate_orders_report(orders).to_csv(_new_file(directory / "orders.csv"))
        ReportProvider.generate_fills_report(orders).to_csv(_new_file(directory / "fills.csv"))
        ReportProvider.generate_positions_report(list(self.cache.positions())).to_csv(
            _new_file(directory / "positions.csv"),
        )
        stats: dict[str, Any] = {"pnls": {}, "returns": {}, "general": {}}
        returns = pd.Series(dtype=float)
        if account is not None:
            ReportProvider.generate_account_report(account).to_csv(
                _new_file(directory / "account.csv")
            )
            analyzer = PortfolioAnalyzer()
            analyzer.calculate_statistics(account, positions)
            stats = {
                "pnls": _clean(analyzer.get_performance_stats_pnls()),
                "returns": _clean(analyzer.get_performance_stats_returns()),
                "general": _clean(analyzer.get_performance_stats_general()),
            }
            returns = analyzer.returns()
        else:
            _new_file(directory / "account.csv").write_text("")
        _new_file(directory / "stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True))
        returns.rename("returns").to_csv(
            _new_file(directory / "returns.csv"), index_label="timestamp"
        )
        _write_jsonl(directory / "regime.jsonl", self.regime)
        _write_jsonl(directory / "states.jsonl", self.states)
        _write_jsonl(directory / "gates.jsonl", self.gates)
        _write_jsonl(directory / "funding.jsonl", self.funding)
        with _new_file(directory / "prices.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["ts_ns", "instrument_id", "price"])
            writer.writerows(self.prices)
        run = {
            "kind": self.journal_config.kind,
            "trader_id": str(self.trader_id),
            "first_ns": self._first_ns,
            "last_ns": self.clock.timestamp_ns(),
            "venue": self.journal_config.venue,
            "starting_balances": (
                [str(m) for m in account.starting_balances().values()] if account else []
            ),
            "strategies": sorted({str(o.strategy_id) for o in orders}),
            "notes": dict(self.journal_config.notes),
        }
        _new_file(directory / "run.json").write_text(json.dumps(run, indent=1, sort_keys=True))


def _cached_price(cache: Any, instrument_id: InstrumentId) -> float | None:
    quote = cache.quote_tick(instrument_id)
    if quote is not None:
        return (quote.bid_price.as_double() + quote.ask_price.as_double()) / 2
    mark = cache.mark_price(instrument_id)
    if mark is not None:
        return float(mark.value)
    return None


def _clean(stats: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe statistics (NaN and infinities as None)."""
    cleaned: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, dict):
            cleaned[str(key)] = _clean(value)
        elif isinstance(value, float) and not math.isfinite(value):
            cleaned[key] = None
        elif isinstance(value, int | float | str | bool) or value is None:
            cleaned[key] = value
        else:
            cleaned[key] = str(value)
    return cleaned


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with _new_file(path).open("w") as handle:
        for row in rows:
            handle.write(json.dumps(row, sort_keys=True) + "\n")


def _new_file(path: Path) -> Path:
    """
    ``path`` with any older file there removed, so writing it creates a new file.

    Why: ext4 (``auto_da_alloc``) flushes a file that was truncated and rewritten when it is
    closed, which made rewriting a run directory (a backtest repeated into the same one) cost
    about 1 ms per file; a new file is written back lazily like any other. The contents are
    the same either way.
    """
    path.unlink(missing_ok=True)
    return path
