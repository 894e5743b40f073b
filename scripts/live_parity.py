"""Live vs backtest parity on one recording (issue 14): prints one JSON line.

``jarvis.parity.run_live_parity`` on ``config/sim_backtest_schedule.toml``: a live node trades on
the simulator's regime schedule (recorder on, run directory), then ``jarvis backtest`` runs its
recording with the same file, and the two decision logs are compared as sequences (see
``jarvis.parity`` for what may differ and why).

    .venv/bin/python scripts/live_parity.py                       # the whole schedule, ~7 min
    .venv/bin/python scripts/live_parity.py --schedule quiet:60,trend:90 --duration-secs 150
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "config" / "sim_backtest_schedule.toml"
SCHEDULE = "quiet:90,trend:120,cascade:60,quiet:120"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIG)
    parser.add_argument("--schedule", default=SCHEDULE)
    parser.add_argument("--coins", default="BTC,ETH")
    parser.add_argument("--duration-secs", type=float, default=395.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args(argv)

    from jarvis.parity import run_live_parity

    out = args.out or Path(tempfile.mkdtemp(prefix="jarvis-parity-"))
    run = run_live_parity(
        args.config,
        out,
        scenario=args.schedule,
        coins=tuple(args.coins.split(",")),
        duration_secs=args.duration_secs,
        seed=args.seed,
    )
    print(json.dumps({"out": str(out), "schedule": args.schedule, **run.comparison}), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
