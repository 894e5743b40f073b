"""Soak: after a warm-up, neither the trading node nor the simulator keeps growing.

Both run as users run them (`jarvis sim --scenario cascade --speed 20`, `jarvis node --config
config/sim_trading.toml`), as separate processes, for about two minutes. Bounded caches (the
NautilusTrader cache's tick capacity, the simulator's order and fill histories, rolling windows)
fill during the warm-up; after it, RSS may move by garbage-collector and allocator noise only.

Budgets, from measurement on this machine (this test's own settings, before and after the fix,
run side by side): with the leaks, over the measured 75 s the node grew 7.3 MB and the simulator
35.3 MB; without them, the node grew 1.2 MB and the simulator 0.06 MB. The budgets sit between:
a leak of the old size fails, allocator and garbage-collector noise does not.
"""

from __future__ import annotations

import time

from jarvis.soak import RssSample
from jarvis.soak import SoakConfig
from jarvis.soak import SoakRun

SPEED = 20.0
WARMUP_SECS = 45.0
MEASURED_SECS = 75.0
SAMPLE_SECS = 5.0
MB = 1_000_000
NODE_BUDGET_BYTES = 4 * MB
SIM_BUDGET_BYTES = 10 * MB


def test_rss_of_node_and_simulator_stays_within_budget_after_warm_up() -> None:
    with SoakRun(SoakConfig(scenario="cascade", speed=SPEED)) as run:
        deadline = time.monotonic() + WARMUP_SECS
        while time.monotonic() < deadline:  # the warm-up; the processes are checked alive
            run.sample()
            time.sleep(1.0)
        samples: list[RssSample] = [run.sample()]
        end = time.monotonic() + MEASURED_SECS
        while time.monotonic() < end:
            time.sleep(SAMPLE_SECS)
            samples.append(run.sample())
        log = run.node_log()

    # The run did real work: the node traded market data all along.
    assert log.count("MarketDataLogger: BTC-USD-PERP.HYPERLIQUID bid=") >= 5, log[-3000:]
    node_growth = max(s.node_bytes for s in samples) - samples[0].node_bytes
    sim_growth = max(s.sim_bytes for s in samples) - samples[0].sim_bytes
    report = [(round(s.t_secs), s.node_bytes // 1000, s.sim_bytes // 1000) for s in samples]
    assert node_growth <= NODE_BUDGET_BYTES, f"node grew {node_growth / MB:.1f} MB: {report}"
    assert sim_growth <= SIM_BUDGET_BYTES, f"simulator grew {sim_growth / MB:.1f} MB: {report}"
