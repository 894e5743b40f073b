"""backtests.run: the live node file's components over a catalog of a corpus recording.

config/sim_backtest.toml: BTC market state, the regime controller, a DCA gated on SIDEWAYS
(3 buys of $20, 5 s apart). What must happen is read off the scenario (quiet is SIDEWAYS, trend
EXPANSION) and the fee rule (taker fee * filled notional), not off a previous run.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from backtests.catalog import MARKER_NAME
from backtests.catalog import build_catalog
from backtests.regime import regime_timeline
from backtests.reports import load_run
from backtests.run import BacktestSettings
from backtests.run import run_backtest
from config.loading import CONFIG_DIR
from config.loading import load_node_config

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "recordings"
EXAMPLE = CONFIG_DIR / "sim_backtest.toml"


def _backtest(tmp_path: Path, scenario: str) -> Path:
    catalog = tmp_path / "cat"
    build_catalog(CORPUS / scenario, catalog)
    settings = BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "run"), progress=False)
    return run_backtest(load_node_config(EXAMPLE), settings).run_dir


def test_quiet_enables_the_sideways_dca_which_buys_three_times(tmp_path: Path) -> None:
    report = load_run(_backtest(tmp_path, "quiet"))
    assert [r["regime"] for r in report.regime_timeline][:1] == ["SIDEWAYS"]
    assert list(report.orders["side"]) == ["BUY", "BUY", "BUY"]
    assert set(report.orders["strategy_id"]) == {"DCA-DCA1"}
    assert set(report.orders["status"]) == {"FILLED"}
    instrument = ParquetDataCatalog(str(tmp_path / "cat")).instruments(
        instrument_ids=["BTC-USD-PERP.HYPERLIQUID"]
    )[0]
    for _, fill in report.fills.iterrows():
        notional = Decimal(str(fill["last_qty"])) * Decimal(str(fill["last_px"]))
        expected = (notional * instrument.taker_fee).quantize(Decimal("0.00000001"))
        assert Decimal(fill["commission"].split(" ")[0]) == expected


def test_trend_never_enables_the_sideways_dca(tmp_path: Path) -> None:
    report = load_run(_backtest(tmp_path, "trend"))
    assert "EXPANSION" in [r["regime"] for r in report.regime_timeline]
    assert report.orders.empty


def test_the_run_states_its_fill_and_latency_models(tmp_path: Path) -> None:
    report = load_run(_backtest(tmp_path, "quiet"))
    notes = report.run["notes"]
    assert "FillModel(prob_fill_on_limit=1.0, prob_slippage=0.0)" in notes["fill_model"]
    assert "LatencyModel(base_latency=50 ms)" in notes["latency_model"]


def test_regime_changes_from_the_catalog_equal_those_from_the_recording(tmp_path: Path) -> None:
    # The same builder and controller settings as the example file, run by `jarvis regime`
    # straight from the recording (emission order, no catalog).
    report = load_run(_backtest(tmp_path, "trend"))
    direct = regime_timeline(
        CORPUS / "trend",
        builder={"windows_secs": [1.0, 5.0, 20.0, 40.0]},
        controller={"enter_confirm_secs": 5.0, "exit_confirm_secs": 3.0},
        instrument_ids=[InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")],
    )
    from_recording = [
        (c.ts_init, str(c.instrument_id), c.previous, c.regime) for c in direct.changes
    ]
    from_catalog = [
        (r["ts_ns"], r["instrument_id"], r["previous"], r["regime"]) for r in report.regime_timeline
    ]
    assert from_catalog
    assert from_catalog == from_recording


def test_an_incomplete_catalog_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "cat"
    build_catalog(CORPUS / "quiet", catalog)
    (catalog / MARKER_NAME).unlink()
    settings = BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "run"), progress=False)
    with pytest.raises(ValueError, match="not a complete catalog"):
        run_backtest(load_node_config(EXAMPLE), settings)
