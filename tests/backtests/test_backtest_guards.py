"""What a backtest must do as the live node does, or refuse: funding per instrument, the
node-wide risk guard on every order, and no instrument in the config without data.

Corpus: ``trend`` (BTC, ETH and SOL, one minute), ``schedule`` (BTC and ETH only).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.model.data import FundingRateUpdate

from backtests.catalog import build_catalog
from backtests.decisions import load_decision_digest
from backtests.recording import load_recording
from backtests.reports import load_run
from backtests.run import BacktestSettings
from backtests.run import build_run_config
from backtests.run import run_backtest
from config.loading import CONFIG_DIR
from config.loading import load_node_config
from config.loading import parse_node_config
from config.loading import read_config_file

CORPUS = Path(__file__).resolve().parents[1] / "resources" / "recordings"


@pytest.fixture(scope="module")
def trend_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    catalog = tmp_path_factory.mktemp("guards") / "trend"
    build_catalog(CORPUS / "trend", catalog)
    return catalog


def test_funding_rates_reach_the_backtest_labelled_with_their_own_instrument(
    trend_catalog: Path, tmp_path: Path
) -> None:
    """Was: one query for all instruments labelled every rate with the first file's instrument
    (schema metadata), so ETH's and SOL's funding was booked on BTC."""
    config = build_run_config(
        load_node_config(CONFIG_DIR / "sim_backtest.toml"),
        BacktestSettings(catalog=str(trend_catalog), run_dir=str(tmp_path), progress=False),
    )
    loaded: list[FundingRateUpdate] = []
    for data_config in config.data:
        if data_config.data_type is FundingRateUpdate:
            loaded += BacktestNode.load_data_config(data_config).data
    recorded = [
        d for d in load_recording(CORPUS / "trend").data if isinstance(d, FundingRateUpdate)
    ]

    def by_instrument(updates: list[FundingRateUpdate]) -> Counter[tuple[str, str, int]]:
        return Counter((str(u.instrument_id), str(u.rate), u.ts_event) for u in updates)

    assert len({str(u.instrument_id) for u in recorded}) == 3
    assert by_instrument(loaded) == by_instrument(recorded)


def _with_guard(min_order_notional_usd: float) -> dict[str, object]:
    raw = read_config_file(CONFIG_DIR / "sim_backtest.toml")
    raw["node"].setdefault("actors", []).append(
        {
            "actor_path": "strategies.risk_guard:RiskGuard",
            "config_path": "strategies.risk_guard:RiskGuardConfig",
            "config": {"min_order_notional_usd": min_order_notional_usd},
        }
    )
    return raw


def test_a_backtest_puts_the_node_files_risk_guard_in_front_of_every_order(
    tmp_path: Path,
) -> None:
    """The DCA buys $20 on quiet every 5 s until three have filled; a guard with a $25 minimum
    refuses every attempt, as it would live (the guard's own reason on each denial), and nothing
    fills."""
    catalog = tmp_path / "cat"
    build_catalog(CORPUS / "quiet", catalog)
    loaded = parse_node_config(_with_guard(25.0), source="sim_backtest.toml + guard")
    run_dir = run_backtest(
        loaded,
        BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "run"), progress=False),
    ).run_dir
    report = load_run(run_dir)
    statuses = list(report.orders["status"])
    assert len(statuses) >= 3 and set(statuses) == {"DENIED"}, statuses
    assert report.fills.empty
    events = [json.loads(line) for line in (run_dir / "decisions.jsonl").read_text().splitlines()]
    denials = [e for e in events if e.get("event") == "OrderDenied"]
    assert len(denials) == len(statuses)
    assert all("min_order_notional_usd" in d["reason"] for d in denials), denials
    assert load_decision_digest(run_dir)["counts"]["Order"] == len(statuses)


def test_a_backtest_refuses_an_instrument_the_config_names_without_data(tmp_path: Path) -> None:
    """The schedule recording has BTC and ETH; the demo schedule config also trades SOL."""
    catalog = tmp_path / "cat"
    build_catalog(CORPUS / "schedule", catalog)
    loaded = load_node_config(CONFIG_DIR / "sim_demo_schedule.toml")
    settings = BacktestSettings(catalog=str(catalog), run_dir=str(tmp_path / "run"), progress=False)
    with pytest.raises(ValueError) as raised:
        run_backtest(loaded, settings)
    message = str(raised.value)
    assert "SOL-USD-PERP.HYPERLIQUID" in message
    assert "node.actors[" in message  # the first place naming SOL: its market state builder
    assert "has no data in the catalog" in message
    assert "BTC-USD-PERP.HYPERLIQUID" in message  # what the catalog does have
    assert not (tmp_path / "run").exists()
