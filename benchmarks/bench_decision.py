"""
Benchmark of the decision path; prints ONE JSON object as its last line.

Parts (each a function returning its figures; ``main`` merges them):

1. ``controller_*`` (regime engineer): the ``RegimeController``'s cost per ``MarketState``.
   A BacktestEngine kernel is built with the controller configured exactly as in a node
   (``BacktestEngineConfig.controller``), started, and fed 50,000 prebuilt states for two
   instruments by ``msgbus.publish`` on the topic the state builder publishes on -- the same
   dispatch a live node does. The inputs cycle through SIDEWAYS, EXPANSION, warming-up and
   ambiguous stretches with short confirmation times, so the sample includes regime changes,
   gate publications and their log lines, not only the no-change fast path.
   ``controller_us_p50/p99`` time one publish (dispatch + classification + any decision);
   ``controller_direct_us_p50`` times ``on_market_state`` called directly (no bus).
2. ``geometry_*`` (strategies engineer): MarketState published -> Geometry's signed entry order
   bytes. Add it as ``bench_geometry_entry()`` returning its figures, and merge it in ``main``
   (see the marked place).

Targets: controller p50 <= 20 us; decision to signed order p99 <= 1 ms.

Run: ``.venv/bin/python benchmarks/bench_decision.py`` (about 10 s).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from nautilus_trader.backtest.engine import BacktestEngine  # noqa: E402
from nautilus_trader.backtest.engine import BacktestEngineConfig  # noqa: E402
from nautilus_trader.config import ImportableControllerConfig  # noqa: E402
from nautilus_trader.config import LoggingConfig  # noqa: E402
from nautilus_trader.model.identifiers import InstrumentId  # noqa: E402

from actors.market_state import MARKET_STATE_DATA_TYPE  # noqa: E402
from actors.market_state import MarketState  # noqa: E402
from common.nautilus import custom_data_topic  # noqa: E402

N_STATES = 50_000
WARMUP_STATES = 2_000
STEP_NS = 100_000_000  # one state per instrument every 100 ms of state time
T0 = 1_700_000_000_000_000_000
INSTRUMENTS = (
    InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID"),
    InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID"),
)
SIDEWAYS = {
    "oi_change_pct_15m": 0.2,
    "oi_change_pct_1h": 0.5,
    "funding": 0.00001,
    "funding_drift_15m": 0.0,
    "depth_asymmetry_mean_15m": 0.05,
}
EXPANSION = {
    "oi_change_pct_15m": 1.8,
    "oi_change_pct_1h": 2.5,
    "funding": 0.00008,
    "funding_drift_15m": 0.00001,
    "depth_asymmetry_mean_15m": -0.4,
}
WARMING = {**SIDEWAYS, "oi_change_pct_15m": float("nan")}
AMBIGUOUS = {**SIDEWAYS, "funding": 0.00004}  # neither row holds
PHASES = (SIDEWAYS, EXPANSION, WARMING, SIDEWAYS, AMBIGUOUS)
PHASE_STATES = 400  # per instrument: 40 s of state time per phase


def _states() -> list[MarketState]:
    ctor: Any = MarketState
    states = []
    for k in range(N_STATES):
        instrument_id = INSTRUMENTS[k % len(INSTRUMENTS)]
        step = k // len(INSTRUMENTS)
        fields = PHASES[(step // PHASE_STATES) % len(PHASES)]
        ts = T0 + step * STEP_NS
        states.append(
            ctor(
                ts_event=ts,
                ts_init=ts,
                instrument_id=instrument_id,
                input_ts_ns=ts,
                local_seq=k,
                mid=50_000.0,
                **fields,
            ),
        )
    return states


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q))


def bench_controller() -> dict[str, Any]:
    """The controller's cost per MarketState, through the bus and called directly."""
    engine = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(log_level="ERROR", bypass_logging=True),
            controller=ImportableControllerConfig(
                controller_path="controllers.regime:RegimeController",
                config_path="controllers.regime:RegimeControllerConfig",
                config={
                    "instrument_ids": [str(i) for i in INSTRUMENTS],
                    "enter_confirm_secs": 5.0,
                    "exit_confirm_secs": 2.0,
                },
            ),
        ),
    )
    try:
        ctl: Any = engine.kernel._controller
        ctl.clock.set_time(T0)
        ctl.start()
        msgbus = engine.kernel.msgbus
        topic = custom_data_topic(MARKET_STATE_DATA_TYPE)
        states = _states()
        timer = time.perf_counter_ns
        spent = np.empty(len(states), dtype=np.int64)
        for i, state in enumerate(states):
            start = timer()
            msgbus.publish(topic, state)
            spent[i] = timer() - start
        decisions = len(ctl.decisions)
        # Direct calls on a fresh controller state: the same stream again, shifted in time.
        ctl.stop()
        ctl.reset()
        direct = np.empty(len(states), dtype=np.int64)
        on_state = ctl.on_market_state
        for i, state in enumerate(states):
            start = timer()
            on_state(state)
            direct[i] = timer() - start
        bus_us = spent[WARMUP_STATES:] / 1_000.0
        direct_us = direct[WARMUP_STATES:] / 1_000.0
        return {
            "controller_states": len(states),
            "controller_regime_changes": decisions,
            "controller_us_p50": round(_pct(bus_us, 50), 2),
            "controller_us_p99": round(_pct(bus_us, 99), 2),
            "controller_us_max": round(float(bus_us.max()), 1),
            "controller_direct_us_p50": round(_pct(direct_us, 50), 2),
            "controller_direct_us_p99": round(_pct(direct_us, 99), 2),
        }
    finally:
        engine.dispose()


def main() -> None:
    """Run every part and print the one-line JSON result."""
    result: dict[str, Any] = {
        "bench": "decision",
        "cpu_count": os.cpu_count(),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }
    result.update(bench_controller())
    targets = [result["controller_us_p50"] <= 20.0]
    # -- strategies engineer: MarketState -> Geometry's signed entry order -----------------
    # result.update(bench_geometry_entry())
    # targets.append(result["geometry_entry_us_p99"] <= 1_000.0)
    result["targets_met"] = all(targets)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
