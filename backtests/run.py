"""``jarvis backtest``: a ``BacktestNode`` over a catalog with the live node file's components.

One source of truth: the node config file (``config/<node>.toml``) is read by the same loader as
``jarvis node`` (``config.loading``, every nested config validated by its own class), and its
actors, strategies, execution algorithms and controller go into the ``BacktestEngineConfig``
unchanged. What a backtest cannot share with a live node is replaced, and said:

* clients: the simulated ``HYPERLIQUID`` exchange stands in for the data and execution clients
  (leverage per coin is taken from the execution client's config);
* shared-memory hot stores (``hot_store_name``) are switched off, so a backtest never writes into
  a live node's store;
* fees: each instrument's maker/taker rate, through NautilusTrader's ``MakerTakerFeeModel``:
  the recorded ``userFees`` rates when the recording has them (a data client with a fee
  account records them), else Hyperliquid's base tier -- what the live instruments carried;
* fills and latency: ``FILL_MODEL_NOTE`` and the latency below, printed with every run and kept
  in ``run.json``;
* funding: ``backtests.funding.FundingModule`` on the venue (NautilusTrader books none);
* the data engine buffers deltas until ``F_LAST`` (``buffer_deltas``), so components receive the
  same ``OrderBookDeltas`` batches as live.

The run ends with a run directory (``backtests.journal``) that ``backtests.reports`` turns into
the reports and the tearsheet -- the same as for a live run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import pandas as pd
from nautilus_trader.backtest.config import BacktestDataConfig
from nautilus_trader.backtest.config import BacktestEngineConfig
from nautilus_trader.backtest.config import BacktestRunConfig
from nautilus_trader.backtest.config import BacktestVenueConfig
from nautilus_trader.backtest.config import ImportableFillModelConfig
from nautilus_trader.backtest.config import ImportableLatencyModelConfig
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.common.actor import Actor
from nautilus_trader.common.config import ImportableActorConfig
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import DataEngineConfig
from nautilus_trader.config import ImportableControllerConfig
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from backtests.catalog import catalog_is_complete
from config.loading import LoadedNodeConfig
from strategies.risk_guard import RiskGuardConfig
from strategies.risk_guard import install_risk_guard

__all__ = [
    "FILL_MODEL_NOTE",
    "BacktestOutcome",
    "BacktestProgress",
    "BacktestProgressConfig",
    "BacktestSettings",
    "build_run_config",
    "run_backtest",
    "run_recording_in_engine",
]

VENUE: Final[str] = "HYPERLIQUID"
FILL_MODEL_NOTE: Final[str] = (
    "FillModel(prob_fill_on_limit=1.0, prob_slippage=0.0) on an L2_MBP book rebuilt from the "
    "recorded deltas: market and marketable orders walk the recorded book level by level (no "
    "impact on later data); a resting limit order fills once the recorded book or a recorded "
    "trade reaches its price, with no queue position (optimistic versus live, where it waits "
    "behind the queue). Orders never move the recorded market."
)
# Catalog folder name -> (class path, custom data needing the client id).
_DATA_TYPES: Final[dict[str, tuple[str, bool]]] = {
    "order_book_deltas": ("nautilus_trader.model.data:OrderBookDelta", False),
    "quote_tick": ("nautilus_trader.model.data:QuoteTick", False),
    "trade_tick": ("nautilus_trader.model.data:TradeTick", False),
    "bar": ("nautilus_trader.model.data:Bar", False),
    "mark_price_update": ("nautilus_trader.model.data:MarkPriceUpdate", False),
    "index_price_update": ("nautilus_trader.model.data:IndexPriceUpdate", False),
    "funding_rate_update": ("nautilus_trader.model.data:FundingRateUpdate", False),
    "custom_open_interest_update": ("adapters.hyperliquid.data_types:OpenInterestUpdate", True),
    "custom_hyperliquid_trade": ("adapters.hyperliquid.data_types:HyperliquidTrade", True),
}


_PER_INSTRUMENT: Final[frozenset[str]] = frozenset(
    {"order_book_deltas", "index_price_update", "funding_rate_update"}
)


@dataclass(frozen=True)
class BacktestSettings:
    """
    What a backtest adds to the node file.

    Parameters
    ----------
    catalog : str
        A catalog written by ``jarvis catalog``.
    run_dir : str
        The run directory the journal writes (reports are built from it).
    start, end : str | None
        ISO times (UTC) or None for the whole catalog.
    starting_usdc : float
        The simulated account's starting balance.
    latency_ms : float
        One-way order latency of the simulated venue (NautilusTrader's default is 1 s).
    progress : bool
        Print a progress bar to stderr.
    log_level : str
        NautilusTrader log level for the run.
    """

    catalog: str
    run_dir: str
    start: str | None = None
    end: str | None = None
    starting_usdc: float = 100_000.0
    latency_ms: float = 50.0
    progress: bool = True
    log_level: str = "ERROR"

    def __post_init__(self) -> None:
        if not self.starting_usdc > 0:
            raise ValueError(f"starting_usdc: must be > 0, was {self.starting_usdc}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms: must be >= 0, was {self.latency_ms}")

    @property
    def latency_note(self) -> str:
        """The latency model, in words."""
        return (
            f"LatencyModel(base_latency={self.latency_ms:g} ms): every order command reaches the "
            "simulated venue this long after it is sent; no extra insert/update/cancel latency"
        )


@dataclass(frozen=True)
class BacktestOutcome:
    """A finished backtest: its run directory and how long it took."""

    run_dir: Path
    events: int
    wall_secs: float
    config: BacktestRunConfig


class BacktestProgressConfig(ActorConfig, frozen=True):
    """Configuration of ``BacktestProgress`` (simulated start and end, in ns)."""

    start_ns: int
    end_ns: int
    interval_secs: float = 60.0
    min_wall_secs: float = 0.5


class BacktestProgress(Actor):
    """A progress bar on stderr, driven by a timer on the backtest clock.

    Why an actor: ``BacktestNode`` has no progress callback; a timer on the simulated clock is
    the one thing that advances with the run. It redraws at most every ``min_wall_secs``.
    """

    def __init__(self, config: BacktestProgressConfig) -> None:
        super().__init__(config)
        self._progress_config = config
        self._last_draw = 0.0

    def on_start(self) -> None:
        """Start the timer."""
        interval = pd.Timedelta(seconds=self._progress_config.interval_secs)
        self.clock.set_timer("backtest-progress", interval, callback=self._on_tick)

    def on_stop(self) -> None:
        """Draw 100 % and end the line."""
        self._draw(1.0)
        sys.stderr.write("\n")
        sys.stderr.flush()

    def _on_tick(self, event: TimeEvent) -> None:
        cfg = self._progress_config
        span = max(1, cfg.end_ns - cfg.start_ns)
        now = time.monotonic()
        if now - self._last_draw >= cfg.min_wall_secs:
            self._last_draw = now
            self._draw(min(1.0, max(0.0, (event.ts_event - cfg.start_ns) / span)))

    @staticmethod
    def _draw(fraction: float) -> None:
        filled = int(fraction * 40)
        sys.stderr.write(f"\rbacktest [{'#' * filled}{'.' * (40 - filled)}] {fraction:6.1%}")
        sys.stderr.flush()


def _strip_hot_store(config: Mapping[str, Any]) -> dict[str, Any]:
    cleaned = dict(config)
    if cleaned.get("hot_store_name") is not None:
        cleaned["hot_store_name"] = None
    return cleaned


def _leverages(loaded: LoadedNodeConfig, instrument_ids: list[str]) -> dict[str, float]:
    """Leverage per instrument from the execution client's ``leverage`` table (by coin)."""
    leverages: dict[str, float] = {}
    for entry in loaded.node.exec_clients.values():
        config = getattr(entry, "config", None)
        table = config.get("leverage") if isinstance(config, Mapping) else None
        if not isinstance(table, Mapping):
            continue
        for instrument_id in instrument_ids:
            coin = instrument_id.split("-", 1)[0]
            if coin in table:
                leverages[instrument_id] = float(table[coin])
    return leverages


def catalog_span_ns(catalog: ParquetDataCatalog) -> tuple[int, int]:
    """First and last ``ts_init`` of the catalog's quotes (or deltas)."""
    for cls_name in ("quote_tick", "order_book_deltas"):
        intervals: list[tuple[int, int]] = []
        for instrument in catalog.instruments():
            intervals += catalog.get_intervals(_cls(cls_name), str(instrument.id))
        if intervals:
            return min(i[0] for i in intervals), max(i[1] for i in intervals)
    return 0, 0


def _cls(name: str) -> type:
    from nautilus_trader.config import resolve_path

    return resolve_path(_DATA_TYPES[name][0])


def build_run_config(loaded: LoadedNodeConfig, settings: BacktestSettings) -> BacktestRunConfig:
    """The ``BacktestRunConfig`` for this node file on this catalog (see module notes)."""
    if not catalog_is_complete(settings.catalog):
        raise ValueError(
            f"{settings.catalog}: not a complete catalog (no valid completion marker); "
            "run `jarvis catalog` first"
        )
    catalog = ParquetDataCatalog(settings.catalog)
    present = set(catalog.list_data_types())
    instrument_ids = sorted(str(i.id) for i in catalog.instruments())
    check_named_instruments_have_data(loaded, catalog, settings.catalog)
    data: list[BacktestDataConfig] = []
    for name, (path, custom) in _DATA_TYPES.items():
        if name not in present:
            continue
        if name in _PER_INSTRUMENT:
            # Per instrument: NautilusTrader checks an L2 venue has book data per named
            # instrument, and index prices and funding rates come back labelled with the
            # instrument of the first file of a multi-instrument query (schema metadata; see
            # backtests.catalog._decode_index_prices): ETH funding would be booked as BTC's.
            data += [
                BacktestDataConfig(
                    catalog_path=settings.catalog,
                    data_cls=path,
                    instrument_id=InstrumentId.from_str(instrument_id),
                )
                for instrument_id in instrument_ids
            ]
            continue
        data.append(
            BacktestDataConfig(
                catalog_path=settings.catalog, data_cls=path, client_id=VENUE if custom else None
            ),
        )
    node = loaded.node
    start_ns, end_ns = catalog_span_ns(catalog)
    if settings.start is not None:
        start_ns = pd.Timestamp(settings.start, tz="UTC").value
    if settings.end is not None:
        end_ns = pd.Timestamp(settings.end, tz="UTC").value
    notes = {
        "fill_model": FILL_MODEL_NOTE,
        "latency_model": settings.latency_note,
        "fees": (
            "MakerTakerFeeModel with each instrument's maker/taker rate: the recorded userFees "
            "rates when the recording has them, else Hyperliquid's base tier, as live"
        ),
        "funding": "backtests.funding.FundingModule: hourly, size * oracle price * rate",
        "config": loaded.source,
        "catalog": settings.catalog,
    }
    actors = [
        ImportableActorConfig(
            actor_path=a.actor_path, config_path=a.config_path, config=_strip_hot_store(a.config)
        )
        for a in node.actors
    ]
    actors.append(
        ImportableActorConfig(
            actor_path="backtests.journal:RunJournal",
            config_path="backtests.journal:RunJournalConfig",
            config={"directory": settings.run_dir, "kind": "backtest", "notes": notes},
        ),
    )
    actors.append(
        ImportableActorConfig(
            actor_path="backtests.decisions:DecisionLog",
            config_path="backtests.decisions:DecisionLogConfig",
            config={"directory": settings.run_dir},
        ),
    )
    if settings.progress:
        actors.append(
            ImportableActorConfig(
                actor_path="backtests.run:BacktestProgress",
                config_path="backtests.run:BacktestProgressConfig",
                config={"start_ns": start_ns, "end_ns": end_ns},
            ),
        )
    controller: ImportableControllerConfig | None = node.controller
    engine = BacktestEngineConfig(
        trader_id=node.trader_id,
        logging=LoggingConfig(log_level=settings.log_level),
        data_engine=DataEngineConfig(buffer_deltas=True),
        actors=actors,
        strategies=[
            ImportableStrategyConfig(
                strategy_path=s.strategy_path, config_path=s.config_path, config=s.config
            )
            for s in node.strategies
        ],
        exec_algorithms=list(node.exec_algorithms),
        controller=controller,
    )
    venue = BacktestVenueConfig(
        name=VENUE,
        oms_type="NETTING",
        account_type="MARGIN",
        starting_balances=[f"{settings.starting_usdc} USDC"],
        book_type="L2_MBP",
        leverages=_leverages(loaded, instrument_ids),
        modules=[
            ImportableActorConfig(
                actor_path="backtests.funding:FundingModule",
                config_path="backtests.funding:FundingModuleConfig",
                config={},
            ),
        ],
        fill_model=ImportableFillModelConfig(
            fill_model_path="nautilus_trader.backtest.models:FillModel",
            config_path="nautilus_trader.backtest.config:FillModelConfig",
            config={"prob_fill_on_limit": 1.0, "prob_slippage": 0.0, "random_seed": 42},
        ),
        latency_model=ImportableLatencyModelConfig(
            latency_model_path="nautilus_trader.backtest.models:LatencyModel",
            config_path="nautilus_trader.backtest.config:LatencyModelConfig",
            config={"base_latency_nanos": int(settings.latency_ms * 1_000_000)},
        ),
    )
    return BacktestRunConfig(
        engine=engine,
        venues=[venue],
        data=data,
        start=settings.start,
        end=settings.end,
        dispose_on_completion=True,
        raise_exception=True,
    )


def install_backtest_risk_guard(engine: Any) -> None:
    """Every order of a backtest passes the node-wide risk guard, as on a live trading node
    (``jarvis.node.wire_risk_guard``): the node file's ``RiskGuard`` actor when it has one,
    else one with the default limits. Must run after the venue is added, before the run."""
    install_risk_guard(engine.kernel, RiskGuardConfig())


def named_instruments(loaded: LoadedNodeConfig) -> list[tuple[str, str]]:
    """(where, instrument id) for every instrument the node file's actors, strategies,
    execution algorithms and controller (its ``instrument_ids`` and managed strategies) name."""
    found: list[tuple[str, str]] = []

    def walk(value: Any, where: str, key: str = "") -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{where}.{k}", str(k))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]", key)
        elif key in ("instrument_id", "instrument_ids") and isinstance(value, str | InstrumentId):
            found.append((where, str(value)))

    node = loaded.node
    for kind in ("actors", "strategies", "exec_algorithms"):
        for index, item in enumerate(getattr(node, kind)):
            walk(getattr(item, "config", {}) or {}, f"node.{kind}[{index}].config")
    if node.controller is not None:
        walk(node.controller.config or {}, "node.controller.config")
    return found


def check_named_instruments_have_data(
    loaded: LoadedNodeConfig, catalog: ParquetDataCatalog, catalog_path: str
) -> None:
    """Refuse (``ValueError`` naming the field and the catalog) an instrument the node file
    names that has no instrument or no book/quote data in the catalog: such a component would
    wait for data that never comes and the backtest would report nothing, as if it were fine."""
    with_data: set[str] = set()
    present = set(catalog.list_data_types())
    for instrument in catalog.instruments():
        instrument_id = str(instrument.id)
        for cls_name in ("order_book_deltas", "quote_tick"):
            if cls_name in present and catalog.get_intervals(_cls(cls_name), instrument_id):
                with_data.add(instrument_id)
                break
    for where, instrument_id in named_instruments(loaded):
        if instrument_id.endswith(f".{VENUE}") and instrument_id not in with_data:
            raise ValueError(
                f"{loaded.source}: [{where}] names {instrument_id}, which has no data in the "
                f"catalog {catalog_path} (instruments with data: {sorted(with_data) or 'none'}); "
                "record it, or remove it from the config for this backtest"
            )


def run_backtest(loaded: LoadedNodeConfig, settings: BacktestSettings) -> BacktestOutcome:
    """Run the backtest; the journal has written ``settings.run_dir`` when this returns."""
    config = build_run_config(loaded, settings)
    started = time.perf_counter()
    node = BacktestNode(configs=[config])
    node.build()
    for engine in node.get_engines():
        install_backtest_risk_guard(engine)
    results = node.run()
    wall = time.perf_counter() - started
    events = int(results[0].iterations) if results else 0
    return BacktestOutcome(
        run_dir=Path(settings.run_dir), events=events, wall_secs=wall, config=config
    )


def run_recording_in_engine(
    loaded: LoadedNodeConfig, recording: str | Path, settings: BacktestSettings
) -> Path:
    """The parity reference: the same components and venue as ``run_backtest``, fed the
    recording's objects straight from the live frame handler in live emission order
    (``backtests.recording.add_to_engine``), no catalog and no ``BacktestNode``.

    ``settings.catalog`` must be a catalog of the same recording (for the instruments and the
    span); the journal writes ``settings.run_dir``.
    """
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.models import FillModel
    from nautilus_trader.backtest.models import LatencyModel
    from nautilus_trader.model.currencies import USDC
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import BookType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.objects import Money

    from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
    from adapters.hyperliquid.recorder import iter_records
    from adapters.hyperliquid.replay import instruments_from_records
    from backtests.catalog import all_outputs
    from backtests.catalog import with_recorded_fees
    from backtests.funding import FundingModule
    from backtests.recording import add_to_engine
    from backtests.recording import load_recording

    config = build_run_config(loaded, settings)
    assert config.engine is not None
    records = list(iter_records(recording))
    instruments = with_recorded_fees(instruments_from_records(records), records)
    recorded = load_recording(
        recording, instruments=instruments, outputs=all_outputs(records, instruments)
    )
    engine = BacktestEngine(config.engine)
    try:
        engine.add_venue(
            HYPERLIQUID_VENUE,
            OmsType.NETTING,
            AccountType.MARGIN,
            [Money(settings.starting_usdc, USDC)],
            book_type=BookType.L2_MBP,
            leverages={
                InstrumentId.from_str(k): Decimal(str(v))
                for k, v in (config.venues[0].leverages or {}).items()
            },
            modules=[FundingModule()],
            fill_model=FillModel(prob_fill_on_limit=1.0, prob_slippage=0.0, random_seed=42),
            latency_model=LatencyModel(base_latency_nanos=int(settings.latency_ms * 1_000_000)),
        )
        add_to_engine(engine, recorded, add_venue=False)
        install_backtest_risk_guard(engine)
        engine.run(
            start=None if settings.start is None else pd.Timestamp(settings.start, tz="UTC"),
            end=None if settings.end is None else pd.Timestamp(settings.end, tz="UTC"),
        )
    finally:
        engine.dispose()
    return Path(settings.run_dir)
