"""config/paper.toml: live mainnet market data, a paper account with Hyperliquid's rules, and no
way for an order to reach the venue; bad paper settings fail at start-up naming the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from nautilus_trader.config import ImportableConfig

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.paper import HyperliquidPaperExecClientConfig
from adapters.hyperliquid.paper import HyperliquidPaperExecClientFactory
from config.loading import ConfigError
from config.loading import load_node_config
from jarvis.node import NodeOverrides
from jarvis.node import load_for_run

PAPER_TOML = Path(__file__).resolve().parents[2] / "config" / "paper.toml"


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = PAPER_TOML.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in paper.toml"
    path = tmp_path / "paper.toml"
    path.write_text(text.replace(old, new))
    return path


def _created(entry: object) -> object:
    assert isinstance(entry, ImportableConfig)
    return entry.create()


def test_paper_config_reads_mainnet_public_data() -> None:
    loaded = load_node_config(PAPER_TOML, environ={})
    data = _created(loaded.node.data_clients["HYPERLIQUID"])

    assert loaded.jarvis.environment == "paper"
    assert isinstance(data, HyperliquidDataClientConfig)
    assert data.http_url == "https://api.hyperliquid.xyz"
    assert data.resolved_ws_url == "wss://api.hyperliquid.xyz/ws"
    assert loaded.jarvis.secrets_env == {}  # no key: nothing here can sign


def test_paper_config_trades_on_the_hyperliquid_paper_account() -> None:
    loaded = load_node_config(PAPER_TOML, environ={})
    (name,) = loaded.node.exec_clients
    entry = loaded.node.exec_clients[name]
    config = _created(entry)

    assert name == "HYPERLIQUID"  # orders for HYPERLIQUID instruments route here
    assert isinstance(config, HyperliquidPaperExecClientConfig)
    assert isinstance(entry, ImportableConfig) and entry.factory is not None
    assert isinstance(entry.factory.create(), HyperliquidPaperExecClientFactory)
    assert config.starting_balance_usdc == Decimal(10_000)
    assert config.default_leverage == 20
    assert config.leverages == {"BTC": 10, "ETH": 10}
    assert loaded.node.exec_engine.reconciliation is False  # a fresh paper account every run


def test_header_says_how_to_run_it() -> None:
    header = PAPER_TOML.read_text().split("[jarvis]")[0]

    assert "jarvis node --config config/paper.toml" in header


def test_pointing_paper_at_the_simulator_keeps_the_paper_account() -> None:
    loaded = load_for_run(PAPER_TOML, NodeOverrides(http_url="http://127.0.0.1:45678"), {})
    data = _created(loaded.node.data_clients["HYPERLIQUID"])

    assert isinstance(data, HyperliquidDataClientConfig)
    assert data.resolved_ws_url == "ws://127.0.0.1:45678/ws"
    assert isinstance(
        _created(loaded.node.exec_clients["HYPERLIQUID"]), HyperliquidPaperExecClientConfig
    )


def test_recording_from_the_paper_config_drops_the_paper_account() -> None:
    loaded = load_for_run(PAPER_TOML, NodeOverrides(data_only=True), {})

    assert loaded.node.exec_clients == {}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("default_leverage = 20", "default_leverage = 0", "whole number >= 1"),
        ("leverages = { BTC = 10,", "leverages = { BTC = 2.5,", "leverages"),
        ("starting_balance_usdc = 10000", "starting_balance_usdc = -5", "must be positive"),
        ("starting_balance_usdc = 10000", "starting_balance = 10000", "starting_balance"),
    ],
)
def test_bad_paper_settings_fail_at_load_naming_the_table(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _variant(tmp_path, old, new)

    with pytest.raises(ConfigError, match=r"node\.exec_clients\.HYPERLIQUID\.config") as info:
        load_node_config(path, environ={})
    assert message in str(info.value)
