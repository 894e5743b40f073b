"""The test kit's pure helpers: log scanning, waiting, and config tuning on the shipped file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import pytest
from nautilus_trader.config import ImportableConfig

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from config.loading import CONFIG_DIR
from jarvis.node import load_for_run
from jarvis.testkit import file_logging
from jarvis.testkit import keep_actors_of
from jarvis.testkit import replace_node
from jarvis.testkit import tune_data_client
from jarvis.testkit import unexpected_log_lines
from jarvis.testkit import wait_for

SIM_TOML = CONFIG_DIR / "sim.toml"

LOG = """\
2026-01-01T00:00:00.000000000Z [INFO] JARVIS-001.Node: started
2026-01-01T00:00:00.000000001Z [WARN] JARVIS-001.DataClient-HYPERLIQUID: Feed l2Book:BTC: STALE (x)
2026-01-01T00:00:00.000000002Z [WARN] JARVIS-001.DataClient-HYPERLIQUID: something odd
2026-01-01T00:00:00.000000003Z [ERROR] JARVIS-001.DataClient-HYPERLIQUID: Feed l2Book:BTC: STALE
"""


def test_unexpected_log_lines_are_errors_and_warnings_outside_the_allow_list() -> None:
    lines = LOG.splitlines()

    unexpected = unexpected_log_lines(LOG, [r"Feed \S+: STALE"])

    assert unexpected == [lines[2], lines[3]]  # the odd warning, and an error allowed as a WARN


def test_wait_for_names_what_it_waited_for_on_timeout() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0.05 s waiting for the moon"):
        asyncio.run(wait_for(lambda: False, 0.05, "the moon"))


def test_wait_for_returns_once_the_predicate_holds() -> None:
    calls: list[int] = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    asyncio.run(wait_for(third_time, 5, "three calls", poll_secs=0.001))

    assert len(calls) == 3


def test_tuned_data_client_keeps_the_files_paths_and_other_fields(tmp_path: Path) -> None:
    loaded = load_for_run(SIM_TOML)

    def tune(client: HyperliquidDataClientConfig) -> HyperliquidDataClientConfig:
        health = msgspec.structs.replace(client.health, stale_l2book_secs=1.5)
        return msgspec.structs.replace(client, coins=("BTC",), health=health)

    tuned = replace_node(
        tune_data_client(loaded, "HYPERLIQUID", tune), logging=file_logging(tmp_path)
    )
    entry = tuned.node.data_clients["HYPERLIQUID"]
    original = loaded.node.data_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig) and isinstance(original, ImportableConfig)
    config = entry.create()

    assert (entry.path, entry.factory) == (original.path, original.factory)
    assert config.coins == ("BTC",)
    assert config.health.stale_l2book_secs == 1.5
    assert config.health.stale_bbo_secs == 30.0  # the file's
    assert config.ws_ping_interval_secs == 20.0  # the file's
    assert tuned.node.logging is not None
    assert tuned.node.logging.log_directory == str(tmp_path)
    assert tuned.node.timeout_connection == 15.0  # the file's


def test_keep_actors_of_drops_only_actors_of_other_coins() -> None:
    loaded = load_for_run(SIM_TOML)

    kept = keep_actors_of(loaded, ["BTC"])

    assert len(loaded.node.actors) == 4
    assert [a.config["component_id"] for a in kept.node.actors] == [
        "MarketDataLogger",
        "MarketStateBuilder-BTC",
    ]


def test_rulebook_sim_config_has_the_strategies_and_overrides_asked_for(tmp_path: Path) -> None:
    from jarvis.testkit import rulebook_sim_config

    loaded = rulebook_sim_config(
        "http://127.0.0.1:1",
        tmp_path,
        geometry={"max_hold_secs": 7.0},
        cascade={"max_hold_secs": 4.0},
        windows_secs=(1.0, 5.0, 15.0, 30.0),
        controller={"handover_timeout_secs": 4.0},
        regime_thresholds={"expansion_min_abs_depth_asymmetry_mean_15m": 0.0},
        risk_guard={"max_consecutive_rejections": 0},
    )
    assert loaded.node.controller is not None
    controller = loaded.node.controller.config
    managed = [(s["side"], s["strategy"]["strategy_path"]) for s in controller["strategies"]]
    assert managed == [
        ("SIDEWAYS", "strategies.geometry:Geometry"),
        ("EXPANSION", "strategies.cascade:Cascade"),
    ]
    assert controller["strategies"][0]["strategy"]["config"]["max_hold_secs"] == 7.0
    assert controller["strategies"][1]["strategy"]["config"]["max_hold_secs"] == 4.0
    assert controller["handover_timeout_secs"] == 4.0
    assert controller["thresholds"]["expansion_min_abs_depth_asymmetry_mean_15m"] == 0.0
    actors = {a.actor_path: a.config for a in loaded.node.actors}
    assert actors["strategies.risk_guard:RiskGuard"]["max_consecutive_rejections"] == 0
    builder = actors["actors.state_builder:MarketStateBuilder"]
    assert builder["windows_secs"] == [1.0, 5.0, 15.0, 30.0]
    assert builder["instrument_id"] == "BTC-USD-PERP.HYPERLIQUID"
