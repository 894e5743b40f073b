"""
Benchmark of backtests; prints ONE JSON object as its last line.

1. ``catalog_mb_per_sec``: ``jarvis catalog`` conversion speed over the corpus
   (tests/resources/recordings: quiet, trend, cascade), in recording megabytes as stored
   (zstd) per second; ``catalog_frames_per_sec`` in WebSocket frames.
2. ``raw_events_per_sec``: NautilusTrader's ``BacktestEngine`` with no actors and no strategies
   over the corpus catalogs' data (every type the catalog holds), timing ``engine.run`` only.
3. ``full_events_per_sec``: the same engine, venue and data with what ``jarvis backtest`` adds
   for ``config/sim_backtest.toml`` extended to the three coins: a ``MarketStateBuilder``
   per coin, the regime controller, a gated DCA per coin, the funding module, the run journal
   and ``buffer_deltas``. ``full_vs_raw`` = full / raw (target >= 0.5).
4. ``start_stop_ms_raw`` / ``start_stop_ms_full``: CPU ms of each run over the first
   ``PREFIX_EVENTS`` events alone (start-up and stop: kernel, actors and strategies starting, the
   journal writing its reports), fixed whatever the data's length; ``full_vs_raw_cpu_per_event``
   is the CPU ratio with that fixed part taken out of both sides (medians), the rate a day of
   data would see. Informative: the target applies to ``full_vs_raw``.
5. ``profile_top``: where the full run's time goes (cProfile, by own time, top entries), and
   ``state_builder_share``: the share of the profiled run spent inside ``actors/``.

Each run is repeated ``REPEATS`` times, raw and full alternating; the wall-clock rates are the
best run's (a 2-core shared machine). ``full_vs_raw_cpu`` is the median over the alternating
pairs of the ratio of CPU times (``time.process_time``): other processes on the machine slow
both runs' wall clock unevenly but hardly their CPU time, so it is the steadier figure.
Run: ``.venv/bin/python benchmarks/bench_backtest.py`` (about ten seconds).

Measured 2026-12-06 on the shared 2-core machine, while another job ran there (1-minute load
average 1.5-2.2), seven runs alternating with the code before it, medians:
full_vs_raw 0.382 (was 0.350), full_vs_raw_cpu 0.379 (was 0.356), raw ~192,000 events/s,
full ~73,000 (was ~69,000); cProfile's state_builder_share 0.59 (was 0.64). Where a full run's
wall time goes now (py-spy): ~52 % NautilusTrader itself (the raw engine's work, plus the order
books it keeps and the deltas it buffers for the builders, plus the bus delivering to them),
~36 % the builders (book batches about half of that: band depth reads every delta of a batch
through NautilusTrader's objects; then the publish timer's window reads and snapshot, then
trades), ~6 % the run journal writing at stop (pandas reports), ~5 % controller, decision
log and funding. Builders that only subscribe and count their inputs give a CPU ratio of ~0.66,
so the builders' Python work alone keeps the run below 0.5.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from nautilus_trader.backtest.engine import BacktestEngine  # noqa: E402
from nautilus_trader.backtest.engine import BacktestEngineConfig  # noqa: E402
from nautilus_trader.config import LoggingConfig  # noqa: E402
from nautilus_trader.config import resolve_path  # noqa: E402
from nautilus_trader.model.currencies import USDC  # noqa: E402
from nautilus_trader.model.enums import AccountType  # noqa: E402
from nautilus_trader.model.enums import BookType  # noqa: E402
from nautilus_trader.model.enums import OmsType  # noqa: E402
from nautilus_trader.model.identifiers import ClientId  # noqa: E402
from nautilus_trader.model.objects import Money  # noqa: E402
from nautilus_trader.persistence.catalog import ParquetDataCatalog  # noqa: E402

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE  # noqa: E402
from backtests.catalog import build_catalog  # noqa: E402
from backtests.funding import FundingModule  # noqa: E402
from backtests.run import _DATA_TYPES  # noqa: E402
from backtests.run import BacktestSettings  # noqa: E402
from backtests.run import build_run_config  # noqa: E402
from config.loading import parse_node_config  # noqa: E402
from config.loading import read_config_file  # noqa: E402

CORPUS = REPO_ROOT / "tests" / "resources" / "recordings"
SCENARIOS = ("quiet", "trend", "cascade")
COINS = ("BTC", "ETH", "SOL")
REPEATS = 5
PREFIX_EVENTS = 20


def _node_file() -> dict[str, Any]:
    """config/sim_backtest.toml with a builder and a gated DCA for every coin."""
    raw = read_config_file(REPO_ROOT / "config" / "sim_backtest.toml")
    builder = raw["node"]["actors"][0]
    managed = raw["node"]["controller"]["config"]["strategies"][0]
    actors, strategies = [], []
    for index, coin in enumerate(COINS):
        instrument_id = f"{coin}-USD-PERP.HYPERLIQUID"
        actors.append(
            {
                **builder,
                "config": {
                    **builder["config"],
                    "component_id": f"MarketStateBuilder-{coin}",
                    "instrument_id": instrument_id,
                },
            }
        )
        strategy = managed["strategy"]
        strategies.append(
            {
                "strategy": {
                    **strategy,
                    "config": {
                        **strategy["config"],
                        "order_id_tag": f"DCA{index}",
                        "instrument_id": instrument_id,
                    },
                }
            }
        )
    raw["node"]["actors"] = actors
    raw["node"]["controller"]["config"]["instrument_ids"] = [
        f"{c}-USD-PERP.HYPERLIQUID" for c in COINS
    ]
    raw["node"]["controller"]["config"]["strategies"] = strategies
    return raw


def _load(catalog: Path) -> tuple[list[Any], list[Any]]:
    cat = ParquetDataCatalog(str(catalog))
    data: list[Any] = []
    instruments = cat.instruments()
    for name, (path, _custom) in _DATA_TYPES.items():
        cls = resolve_path(path)
        if name == "index_price_update":
            for instrument in instruments:
                data += cat.query(cls, identifiers=[str(instrument.id)])
        elif name in cat.list_data_types():
            data += cat.query(cls)
    return instruments, data


def _engine(config: BacktestEngineConfig, instruments: list[Any], data: list[Any], full: bool):
    engine = BacktestEngine(config)
    engine.add_venue(
        HYPERLIQUID_VENUE,
        OmsType.NETTING,
        AccountType.MARGIN,
        [Money(100_000, USDC)],
        book_type=BookType.L2_MBP,
        modules=[FundingModule()] if full else [],
    )
    for instrument in instruments:
        engine.add_instrument(instrument)
    engine.add_data(list(data), client_id=ClientId("HYPERLIQUID"), validate=False, sort=True)
    return engine


def _time_run(engine: BacktestEngine) -> tuple[float, float]:
    """Wall-clock and CPU seconds of ``engine.run``."""
    started = time.perf_counter()
    cpu_started = time.process_time()
    engine.run()
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench_backtest_"))
    # 1. Catalog conversion.
    convert_secs = 0.0
    convert_bytes = 0
    for scenario in SCENARIOS:
        result = build_catalog(CORPUS / scenario, tmp / scenario)
        convert_secs += result.seconds
        convert_bytes += result.input_bytes
    instruments: list[Any] = []
    data: list[Any] = []
    for scenario in SCENARIOS:
        found, loaded = _load(tmp / scenario)
        instruments = instruments or found
        data += loaded
    events = len(data)

    # 2./3. Raw engine versus the full run.
    raw_config = BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR"))
    loaded_node = parse_node_config(_node_file(), source="bench")
    run_config = build_run_config(
        loaded_node,
        BacktestSettings(catalog=str(tmp / "quiet"), run_dir=str(tmp / "run"), progress=False),
    )
    full_config = run_config.engine
    assert full_config is not None
    raw_secs: list[float] = []
    full_secs: list[float] = []
    raw_cpus: list[float] = []
    full_cpus: list[float] = []
    cpu_ratios: list[float] = []
    for _ in range(REPEATS):
        engine = _engine(raw_config, instruments, data, full=False)
        raw_wall, raw_cpu = _time_run(engine)
        engine.dispose()
        engine = _engine(full_config, instruments, data, full=True)
        full_wall, full_cpu = _time_run(engine)
        orders = engine.cache.orders_total_count()
        engine.dispose()
        raw_secs.append(raw_wall)
        full_secs.append(full_wall)
        raw_cpus.append(raw_cpu)
        full_cpus.append(full_cpu)
        cpu_ratios.append(raw_cpu / full_cpu)

    # Start and stop (kernel, actors and strategies starting, the journal writing its reports)
    # cost the same on a minute of data as on a day: the run over the first few events alone
    # gives them, and the per-event ratio leaves them out of both sides.
    prefix = sorted(data, key=lambda d: d.ts_init)[:PREFIX_EVENTS]
    raw_fixed: list[float] = []
    full_fixed: list[float] = []
    for _ in range(REPEATS):
        engine = _engine(raw_config, instruments, prefix, full=False)
        raw_fixed.append(_time_run(engine)[1])
        engine.dispose()
        engine = _engine(full_config, instruments, prefix, full=True)
        full_fixed.append(_time_run(engine)[1])
        engine.dispose()
    raw_fixed_s = statistics.median(raw_fixed)
    full_fixed_s = statistics.median(full_fixed)

    # 4. Profile of one full run.
    engine = _engine(full_config, instruments, data, full=True)
    profiler = cProfile.Profile()
    profiler.enable()
    engine.run()
    profiler.disable()
    engine.dispose()
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    actors_own = sum(
        v[2]
        for k, v in stats.stats.items()  # type: ignore[attr-defined]
        if f"{os.sep}actors{os.sep}" in k[0]
    )
    top = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][2],
        reverse=True,
    )[:8]
    profile_top = [
        {
            "function": f"{Path(k[0]).name}:{k[1]}:{k[2]}",
            "own_share": round(v[2] / total, 3),
            "calls": v[1],
        }
        for k, v in top
    ]
    raw_rate = events / min(raw_secs)
    full_rate = events / min(full_secs)
    print(
        json.dumps(
            {
                "bench": "backtest",
                "events": events,
                "catalog_mb_per_sec": round(convert_bytes / 1e6 / convert_secs, 3),
                "catalog_input_mb": round(convert_bytes / 1e6, 3),
                "raw_events_per_sec": round(raw_rate),
                "full_events_per_sec": round(full_rate),
                "full_vs_raw": round(full_rate / raw_rate, 3),
                "full_vs_raw_cpu": round(statistics.median(cpu_ratios), 3),
                "target_full_vs_raw": 0.5,
                "start_stop_ms_raw": round(raw_fixed_s * 1000, 1),
                "start_stop_ms_full": round(full_fixed_s * 1000, 1),
                "full_vs_raw_cpu_per_event": round(
                    (statistics.median(raw_cpus) - raw_fixed_s)
                    / (statistics.median(full_cpus) - full_fixed_s),
                    3,
                ),
                "orders_in_full_run": orders,
                "state_builder_share": round(actors_own / total, 3),
                "profile_top": profile_top,
                "loadavg_1m_at_end": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
