"""Record the small backtest corpus in ``tests/resources/recordings/`` (rerun at will).

For each scenario the local simulator is started (fixed seed) and a data-only node from
``config/sim.toml`` records every raw frame: the same recorder, the same node, the same
subscriptions as ``jarvis record``. The corpus is the plain ``quiet``, ``trend`` and ``cascade``
scenarios (a minute-ish each, BTC, ETH and SOL) and ``schedule``: one regime schedule over venue
time (``SCHEDULE``, BTC and ETH), long enough for ``config/sim_backtest_schedule.toml`` to see
SIDEWAYS, EXPANSION and the cascade, and for Geometry, Kinematics and Cascade to act.

    .venv/bin/python scripts/record_corpus.py                # quiet, trend, cascade: 20 s each
    .venv/bin/python scripts/record_corpus.py --scenario trend --duration-secs 60
    .venv/bin/python scripts/record_corpus.py --scenario schedule   # ~6.5 min, the schedule

For the schedule the market state builders of the recording node run without their publish and
refresh timers: the recording needs only their subscriptions, and in NautilusTrader 1.231 a live
node's timer callbacks may run on another thread than the event loop, which can interleave with a
builder's data handlers ("query out of order"). Documented, not chased: nothing recorded depends
on the builders.

Timing is wall-clock, so two runs never give identical bytes; tests built on the corpus read
expected values off the recording itself, never off a constant tied to one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "resources" / "recordings"
SCENARIOS = ("quiet", "trend", "cascade", "schedule")
DEFAULT_SCENARIOS = ("quiet", "trend", "cascade")
SCHEDULE = "quiet:90,trend:120,cascade:60,quiet:120"
"""The recorded regime schedule (seconds of venue time per phase; the last phase goes on)."""
SCHEDULE_COINS = ("BTC", "ETH")
SCHEDULE_SECS = 90 + 120 + 60 + 120


def _schedule_node(raw: dict[str, Any]) -> None:
    """Only BTC and ETH, builders without timers (see module notes)."""
    node = raw["node"]
    node["data_clients"]["HYPERLIQUID"]["config"]["coins"] = list(SCHEDULE_COINS)
    wanted = {f"{coin}-USD-PERP.HYPERLIQUID" for coin in SCHEDULE_COINS}
    actors = []
    for actor in node.get("actors", []):
        config = actor.get("config", {})
        if actor["actor_path"].startswith("actors.state_builder:"):
            if config.get("instrument_id") not in wanted:
                continue
            config["publish_interval_ms"] = 0
            config["refresh_interval_ms"] = 0
        actors.append(actor)
    node["actors"] = actors


def record(scenario: str, seed: int, duration_secs: float | None, out: Path) -> Path:
    """One scenario into ``out/<scenario>`` (replaced); returns that folder."""
    from config.loading import parse_node_config
    from config.loading import read_config_file
    from jarvis.node import NodeOverrides
    from jarvis.node import apply_overrides
    from jarvis.node import run_node
    from simulator.app import SimConfig
    from simulator.app import SimThread

    target = out / scenario
    if target.exists():
        shutil.rmtree(target)
    is_schedule = scenario == "schedule"
    sim_config = (
        SimConfig(port=0, scenario=SCHEDULE, seed=seed, coins=SCHEDULE_COINS)
        if is_schedule
        else SimConfig(port=0, scenario=scenario, seed=seed)
    )
    if duration_secs is None:
        duration_secs = SCHEDULE_SECS + 5.0 if is_schedule else 20.0
    sim = SimThread(sim_config).start()
    try:
        path = ROOT / "config" / "sim.toml"
        raw = read_config_file(path)
        apply_overrides(
            raw,
            NodeOverrides(http_url=sim.base_url, record_directory=str(target), data_only=True),
        )
        if is_schedule:
            _schedule_node(raw)
        result = run_node(parse_node_config(raw, source=str(path)), duration_secs)
    finally:
        sim.stop()
    if result.start_failure is not None:
        raise RuntimeError(f"{scenario}: {result.start_failure}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument(
        "--duration-secs",
        type=float,
        default=None,
        help=f"default: 20 s, or the whole schedule ({SCHEDULE_SECS} s + 5 s) for 'schedule'",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    for scenario in args.scenario or DEFAULT_SCENARIOS:
        folder = record(scenario, args.seed, args.duration_secs, args.out)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        print(f"{scenario}: {folder} ({size / 1e6:.2f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
