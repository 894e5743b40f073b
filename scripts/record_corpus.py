"""Record the small backtest corpus in ``tests/resources/recordings/`` (rerun at will).

For each scenario the local simulator is started (fixed seed) and a data-only node from
``config/sim.toml`` records every raw frame for ``--duration-secs``: the same recorder, the same
node, the same subscriptions as ``jarvis record``. The simulator has no regime schedules yet, so
the corpus is ``quiet``, ``trend`` and ``cascade``.

    .venv/bin/python scripts/record_corpus.py                # all scenarios, 20 s each
    .venv/bin/python scripts/record_corpus.py --scenario trend --duration-secs 60

Timing is wall-clock, so two runs never give identical bytes; tests built on the corpus read
expected values off the recording itself, never off a constant tied to one run.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "resources" / "recordings"
SCENARIOS = ("quiet", "trend", "cascade")


def record(scenario: str, seed: int, duration_secs: float, out: Path) -> Path:
    """One scenario into ``out/<scenario>`` (replaced); returns that folder."""
    from jarvis.node import NodeOverrides
    from jarvis.node import load_for_run
    from jarvis.node import run_node
    from simulator.app import SimConfig
    from simulator.app import SimThread

    target = out / scenario
    if target.exists():
        shutil.rmtree(target)
    sim = SimThread(SimConfig(port=0, scenario=scenario, seed=seed)).start()
    try:
        loaded = load_for_run(
            ROOT / "config" / "sim.toml",
            NodeOverrides(http_url=sim.base_url, record_directory=str(target), data_only=True),
        )
        result = run_node(loaded, duration_secs)
    finally:
        sim.stop()
    if result.start_failure is not None:
        raise RuntimeError(f"{scenario}: {result.start_failure}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=SCENARIOS, action="append")
    parser.add_argument("--duration-secs", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    for scenario in args.scenario or SCENARIOS:
        folder = record(scenario, args.seed, args.duration_secs, args.out)
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        print(f"{scenario}: {folder} ({size / 1e6:.2f} MB)", flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
