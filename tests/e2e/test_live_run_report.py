"""`jarvis node --run-dir` then `jarvis report --run`: a live node's run directory gives the same
reports as a backtest's. Real subprocesses, the real simulator, config/sim.toml."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from backtests.reports import REGIME_SECTION_ID
from simulator.app import SimConfig
from simulator.app import SimThread

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_TOML = REPO_ROOT / "config" / "sim.toml"


def _jarvis(*args: str, timeout_secs: float = 180.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jarvis.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_secs,
    )


def test_a_live_run_directory_reports_like_a_backtest(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with SimThread(SimConfig(port=0, scenario="quiet", seed=7)) as sim:
        node = _jarvis(
            "node",
            "--config",
            str(SIM_TOML),
            "--http-url",
            sim.base_url,
            "--duration-secs",
            "6",
            "--run-dir",
            str(run_dir),
        )
    assert node.returncode == 0, node.stdout[-2000:] + node.stderr[-2000:]
    run = json.loads((run_dir / "run.json").read_text())
    assert run["kind"] == "live"
    assert run["trader_id"] == "JARVIS-001"
    with (run_dir / "prices.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    # The simulator lists BTC, ETH and SOL; the journal sampled each from the live cache.
    assert {r["instrument_id"] for r in rows} == {
        "BTC-USD-PERP.HYPERLIQUID",
        "ETH-USD-PERP.HYPERLIQUID",
        "SOL-USD-PERP.HYPERLIQUID",
    }
    assert all(float(r["price"]) > 0 for r in rows)
    # The decision log runs live too: a data-only node decides nothing, but every market data
    # item it saw went through the input audit.
    decisions = json.loads((run_dir / "decisions.json").read_text())
    assert decisions["counts"] == {}
    assert decisions["input_audit"]["inputs_seen"] > 0
    assert decisions["input_audit"]["violations"] == 0
    assert (run_dir / "decisions.jsonl").read_text() == ""

    report = _jarvis("report", "--run", str(run_dir))
    assert report.returncode == 0, report.stderr[-2000:]
    summary = json.loads(report.stdout[: report.stdout.rindex("}") + 1])
    assert summary["kind"] == "live"
    assert summary["orders"] == 0  # a data-only node file
    tearsheet = run_dir / "report" / "tearsheet.html"
    assert tearsheet.stat().st_size > 10_000
    assert f'id="{REGIME_SECTION_ID}"' in tearsheet.read_text()


def test_report_on_a_folder_without_a_run_says_so(tmp_path: Path) -> None:
    result = _jarvis("report", "--run", str(tmp_path))
    assert result.returncode == 2
    assert "not a run directory" in result.stderr
