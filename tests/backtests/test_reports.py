"""backtests.reports on a scripted run with known trades (tests/backtests/scripted.py).

Every expected figure is worked out by hand below from the script (prices, sizes, the 0.045 %
taker fee and the funding rates), never read off the code under test.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from backtests.reports import REGIME_SECTION_ID
from backtests.reports import build_report
from backtests.reports import load_run
from backtests.reports import max_drawdown
from tests.backtests.scripted import run_scripted

FEE = Decimal("0.00045")
# A: buys 2 @ 100.5, sells 2 @ 103.0; funding -0.02004 (01:00) and +0.0404 (02:00).
A_FEES = 2 * Decimal("100.5") * FEE + 2 * Decimal("103.0") * FEE  # 0.18315
A_FUNDING = Decimal("-0.02004") + Decimal("0.0404")
A_PNL = (Decimal("103.0") - Decimal("100.5")) * 2 - A_FEES + A_FUNDING  # 4.83721
# B: sells 1 @ 100.0, buys 1 @ 102.5 at 01:30; funding +0.01002 (01:00).
B_FEES = Decimal("100.0") * FEE + Decimal("102.5") * FEE  # 0.091125
B_FUNDING = Decimal("0.01002")
B_PNL = (Decimal("100.0") - Decimal("102.5")) - B_FEES + B_FUNDING  # -2.581105


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("scripted")
    run_scripted(directory)
    return directory


def test_pnl_per_strategy_is_trades_minus_fees_plus_funding(run_dir: Path) -> None:
    report = load_run(run_dir)
    assert report.pnl_by_strategy == {"SCRIPT-000": A_PNL, "SCRIPT-001": B_PNL}


def test_fees_and_funding_totals(run_dir: Path) -> None:
    report = load_run(run_dir)
    assert report.fees_total == A_FEES + B_FEES
    assert report.funding_total == A_FUNDING + B_FUNDING


def test_pnl_per_regime_follows_the_regime_at_each_close(run_dir: Path) -> None:
    # B closed at 01:30 (SIDEWAYS since 00:59), A at 02:30 (EXPANSION since 02:10).
    report = load_run(run_dir)
    assert report.pnl_by_regime == {"EXPANSION": A_PNL, "SIDEWAYS": B_PNL}


def test_reports_hold_every_order_fill_and_position(run_dir: Path) -> None:
    report = load_run(run_dir)
    assert len(report.orders) == 4
    assert sorted(report.fills["last_px"].astype(str)) == ["100.0", "100.5", "102.5", "103.0"]
    assert len(report.positions) == 2
    final_total = Decimal(str(report.account["total"].iloc[-1]))
    assert final_total == 10_000 + A_PNL + B_PNL


def test_max_drawdown_runs_from_the_starting_balance(run_dir: Path) -> None:
    # Lowest balance: at 01:30 after B's loss, 10000 - entry fees (0.09045 + 0.045) + funding
    # (-0.02004 + 0.01002) - B's exit (2.5 loss + 0.046125 fee) = 9997.308405.
    report = load_run(run_dir)
    assert report.max_drawdown == Decimal("10000") - Decimal("9997.308405")
    assert report.max_drawdown_pct == pytest.approx(2.691595 / 10_000)


def test_max_drawdown_of_a_series() -> None:
    amount, pct = max_drawdown(pd.Series([100, 120, 90, 110, 80, 130]))
    assert amount == Decimal(40)
    assert pct == pytest.approx(40 / 120)


def test_regime_timeline_and_state_transitions_are_in_the_report(run_dir: Path) -> None:
    report = load_run(run_dir)
    assert [(r["previous"], r["regime"]) for r in report.regime_timeline] == [
        ("UNCLASSIFIED", "SIDEWAYS"),
        ("SIDEWAYS", "EXPANSION"),
    ]
    moves = [(s["strategy_id"], s["state"]) for s in report.state_transitions]
    assert moves == [
        ("SCRIPT-000", "ENTERED"),
        ("SCRIPT-001", "ENTERED"),
        ("SCRIPT-001", "EXITED"),
        ("SCRIPT-000", "EXITED"),
    ]


def test_tearsheet_is_written_with_the_regime_timeline(run_dir: Path, tmp_path: Path) -> None:
    _, tearsheet = build_report(run_dir, tmp_path / "report")
    html = tearsheet.read_text()
    assert tearsheet.stat().st_size > 10_000
    assert f'id="{REGIME_SECTION_ID}"' in html
    assert "SIDEWAYS" in html
    assert "EXPANSION" in html
    assert "SCRIPT-000: SCANNING to ENTERED" in html
    summary = (tmp_path / "report" / "summary.txt").read_text()
    assert f"funding {A_FUNDING + B_FUNDING}" in summary


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not a run directory \(no run.json"):
        load_run(tmp_path)
