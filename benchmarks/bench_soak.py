"""Soak: RSS growth of a trading node and the simulator over a long run, in MB/hour.

Runs `jarvis sim --scenario cascade --speed 10` and `jarvis node --config
config/sim_trading.toml --http-url <sim>` as separate processes (jarvis.soak), samples both
processes' RSS every `--sample-secs` after `--warmup-secs`, and reports the least-squares growth
rate of each (robust to garbage-collector steps). Bounded caches fill during the warm-up; what
still grows after it is a leak. Prints one JSON object as its last line.

    .venv/bin/python benchmarks/bench_soak.py --minutes 30
    .venv/bin/python benchmarks/bench_soak.py --minutes 8 --speed 10 --tracemalloc /tmp/soak

With `--tracemalloc DIR` both processes trace allocations from the end of the warm-up and dump a
snapshot at the start and at the end of the measured window (compare them with
`tracemalloc.Snapshot.load(...).compare_to(...)`); RSS figures are then inflated by tracing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from jarvis.soak import SoakConfig
from jarvis.soak import SoakRun
from jarvis.soak import slope_bytes_per_sec

REPO = Path(__file__).resolve().parents[1]

MB = 1_000_000.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="measured time after warm-up")
    parser.add_argument("--warmup-secs", type=float, default=180.0)
    parser.add_argument("--sample-secs", type=float, default=10.0)
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--scenario", default="cascade")
    parser.add_argument("--config", default=str(REPO / "config" / "sim_trading.toml"))
    parser.add_argument("--tracemalloc", help="folder for tracemalloc snapshots")
    args = parser.parse_args()
    if not (args.minutes > 0 and args.warmup_secs >= 0 and args.sample_secs > 0):
        parser.error("--minutes and --sample-secs must be > 0, --warmup-secs >= 0")
    tracing = Path(args.tracemalloc) if args.tracemalloc else None
    if tracing is not None:
        tracing.mkdir(parents=True, exist_ok=True)
    config = SoakConfig(
        scenario=args.scenario,
        speed=args.speed,
        node_config=Path(args.config),
        tracemalloc_dir=tracing,
    )
    with SoakRun(config) as run:
        time.sleep(args.warmup_secs)
        if tracing is not None:
            run.dump_tracemalloc()  # starts tracing
            time.sleep(args.sample_secs)
            run.dump_tracemalloc()  # first snapshot
        samples = [run.sample()]
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(args.sample_secs)
            samples.append(run.sample())
        if tracing is not None:
            run.dump_tracemalloc()  # last snapshot
            time.sleep(5)
    node = slope_bytes_per_sec([(s.t_secs, s.node_bytes) for s in samples]) * 3600 / MB
    sim = slope_bytes_per_sec([(s.t_secs, s.sim_bytes) for s in samples]) * 3600 / MB
    result = {
        "bench": "soak",
        "scenario": args.scenario,
        "speed": args.speed,
        "config": Path(args.config).name,
        "warmup_secs": args.warmup_secs,
        "measured_secs": round(samples[-1].t_secs - samples[0].t_secs, 1),
        "samples": len(samples),
        "node_rss_mb_start": round(samples[0].node_bytes / MB, 1),
        "node_rss_mb_end": round(samples[-1].node_bytes / MB, 1),
        "sim_rss_mb_start": round(samples[0].sim_bytes / MB, 1),
        "sim_rss_mb_end": round(samples[-1].sim_bytes / MB, 1),
        "node_mb_per_hour": round(node, 1),
        "sim_mb_per_hour": round(sim, 1),
        "tracemalloc": tracing is not None,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
