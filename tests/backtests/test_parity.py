"""Parity: a recording run through the catalog and ``BacktestNode`` (``jarvis backtest``) makes
the same regime changes, strategy state transitions and orders as the same recording fed in
live emission order, straight from the live frame handler, into an engine with the same
components (``run_recording_in_engine``). Compared by digest (backtests.reports.run_digest).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.catalog import build_catalog
from backtests.reports import load_run
from backtests.reports import run_digest
from backtests.run import BacktestSettings
from backtests.run import run_backtest
from backtests.run import run_recording_in_engine
from config.loading import CONFIG_DIR
from config.loading import load_node_config

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "recordings"
EXAMPLE = CONFIG_DIR / "sim_backtest.toml"


@pytest.mark.parametrize("scenario", ["quiet", "trend", "cascade"])
def test_catalog_backtest_matches_the_live_emission_order(scenario: str, tmp_path: Path) -> None:
    catalog = tmp_path / "cat"
    build_catalog(CORPUS / scenario, catalog)
    loaded = load_node_config(EXAMPLE)
    via_catalog = run_backtest(
        loaded, BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "a"), progress=False)
    ).run_dir
    direct = run_recording_in_engine(
        loaded,
        CORPUS / scenario,
        BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "b"), progress=False),
    )
    a = load_run(via_catalog)
    b = load_run(direct)
    if scenario != "cascade":  # a minute of cascade leaves BTC unclassified
        assert a.regime_timeline, "the scenario must produce at least one regime change"
    assert run_digest(a) == run_digest(b)
    if scenario == "quiet":
        assert len(a.orders) == 3  # the DCA ran: the order digest compares real orders
