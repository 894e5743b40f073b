"""The adjustments `jarvis demo` and `jarvis record` make to a config file before parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nautilus_trader.config import ImportableConfig

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.factories import HyperliquidLiveExecClientFactory
from config.loading import ConfigError
from config.loading import read_config_file
from jarvis.node import NodeOverrides
from jarvis.node import apply_overrides
from jarvis.node import check_client_environment
from jarvis.node import describe
from jarvis.node import load_for_run
from jarvis.node import recording_directories
from jarvis.node import register_exec_client_factories

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_TOML = REPO_ROOT / "config" / "sim.toml"
TESTNET_TOML = REPO_ROOT / "config" / "testnet.toml"


def _client(path: Path, overrides: NodeOverrides) -> HyperliquidDataClientConfig:
    entry = load_for_run(path, overrides, environ={}).node.data_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    config = entry.create()
    assert isinstance(config, HyperliquidDataClientConfig)
    return config


def test_http_url_override_also_moves_the_websocket_url() -> None:
    config = _client(TESTNET_TOML, NodeOverrides(http_url="http://127.0.0.1:45678"))

    assert config.http_url == "http://127.0.0.1:45678"
    assert config.resolved_ws_url == "ws://127.0.0.1:45678/ws"


def test_record_directory_override_switches_recording_on() -> None:
    assert _client(SIM_TOML, NodeOverrides()).recorder is None

    loaded = load_for_run(SIM_TOML, NodeOverrides(record_directory="/tmp/jarvis-rec"), environ={})

    assert recording_directories(loaded) == ["/tmp/jarvis-rec"]
    assert "recording raw frames into /tmp/jarvis-rec" in describe(loaded)


def test_record_directory_override_keeps_the_files_other_recorder_settings() -> None:
    config = _client(TESTNET_TOML, NodeOverrides(record_directory="elsewhere"))

    assert config.recorder is not None
    assert config.recorder.directory == "elsewhere"


def test_data_only_drops_everything_that_trades() -> None:
    raw = read_config_file(SIM_TOML, environ={})
    raw["node"]["exec_clients"] = {"X": {"path": "a:b"}}
    raw["node"]["strategies"] = [{"strategy_path": "a:b", "config_path": "c:d", "config": {}}]

    apply_overrides(raw, NodeOverrides(data_only=True))

    assert "exec_clients" not in raw["node"]
    assert "strategies" not in raw["node"]
    assert len(raw["node"]["actors"]) == 4


def test_an_override_of_a_config_without_a_hyperliquid_client_is_refused() -> None:
    raw = read_config_file(SIM_TOML, environ={})
    raw["node"]["data_clients"] = {}

    with pytest.raises(ConfigError, match="no Hyperliquid data client"):
        apply_overrides(raw, NodeOverrides(http_url="http://127.0.0.1:1"))


def test_describe_says_where_the_node_connects() -> None:
    loaded = load_for_run(SIM_TOML, environ={})

    text = describe(loaded)

    assert "environment=sim" in text
    assert "http://127.0.0.1:3001 (ws ws://127.0.0.1:3001/ws)" in text


SIM_TRADING_TOML = REPO_ROOT / "config" / "sim_trading.toml"
PAPER_TOML = REPO_ROOT / "config" / "paper.toml"
MAINNET_TOML = REPO_ROOT / "config" / "mainnet.toml"


class _FactoryRecorder:
    """Stands in for TradingNode.add_exec_client_factory: records what would be registered."""

    def __init__(self) -> None:
        self.factories: dict[str, type] = {}

    def add_exec_client_factory(self, name: str, factory: type) -> None:
        assert name not in self.factories  # TradingNode raises KeyError on a second add
        self.factories[name] = factory


def test_exec_factory_named_by_path_is_registered_as_its_class() -> None:
    loaded = load_for_run(SIM_TRADING_TOML, environ={})
    node = _FactoryRecorder()

    register_exec_client_factories(node, loaded.node)  # type: ignore[arg-type]

    assert node.factories == {"HYPERLIQUID": HyperliquidLiveExecClientFactory}


def test_paper_factory_is_left_to_the_builder_so_it_still_gets_the_portfolio() -> None:
    loaded = load_for_run(PAPER_TOML, environ={})
    node = _FactoryRecorder()

    register_exec_client_factories(node, loaded.node)  # type: ignore[arg-type]

    assert node.factories == {}
    entry = loaded.node.exec_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig) and entry.factory is not None
    assert entry.factory.create().__name__ == "SandboxLiveExecClientFactory"


def test_missing_key_variable_is_a_config_error_naming_it() -> None:
    loaded = load_for_run(SIM_TRADING_TOML, environ={})

    with pytest.raises(ConfigError, match="HYPERLIQUID_SIM_PRIVATE_KEY") as raised:
        check_client_environment(loaded, environ={})

    assert "exec_clients.HYPERLIQUID.private_key_env" in str(raised.value)
    check_client_environment(loaded, environ={"HYPERLIQUID_SIM_PRIVATE_KEY": "set"})


@pytest.mark.parametrize("path", [TESTNET_TOML, MAINNET_TOML], ids=lambda p: p.name)
def test_live_venue_exec_client_reads_key_and_account_from_the_named_variables(
    path: Path,
) -> None:
    loaded = load_for_run(path, environ={})
    entry = loaded.node.exec_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    config = entry.create()
    assert isinstance(config, HyperliquidExecClientConfig)
    env = path.stem.upper()

    with pytest.raises(ConfigError) as raised:
        check_client_environment(loaded, environ={})

    assert config.private_key_env == f"HYPERLIQUID_{env}_PRIVATE_KEY"
    assert config.account_address_env == f"HYPERLIQUID_{env}_ACCOUNT_ADDRESS"
    assert config.account_address is None
    assert loaded.jarvis.secrets_env["private_key"] == config.private_key_env
    assert config.private_key_env in str(raised.value)
    assert config.account_address_env in str(raised.value)
    assert config.leverage is not None and config.leverage["BTC"] >= 1


def test_data_only_run_of_a_trading_config_needs_no_key() -> None:
    loaded = load_for_run(TESTNET_TOML, NodeOverrides(data_only=True), environ={})

    check_client_environment(loaded, environ={})

    assert loaded.node.exec_clients == {}


def test_http_url_override_moves_the_execution_client_too() -> None:
    loaded = load_for_run(SIM_TRADING_TOML, NodeOverrides(http_url="http://127.0.0.1:45679"))
    entry = loaded.node.exec_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    config = entry.create()

    assert isinstance(config, HyperliquidExecClientConfig)
    assert config.http_url == "http://127.0.0.1:45679"
    assert config.resolved_ws_url == "ws://127.0.0.1:45679/ws"
    assert config.leverage == {"BTC": 10, "ETH": 5, "SOL": 3}
    assert config.isolated_coins == ("SOL",)


STRATEGIES_TOML = REPO_ROOT / "config" / "sim_strategies.toml"


def test_dry_run_swaps_the_live_exec_client_for_paper_and_turns_the_guard_dry() -> None:
    from adapters.hyperliquid.paper import HyperliquidPaperExecClientConfig
    from strategies.risk_guard import RiskGuardConfig

    loaded = load_for_run(STRATEGIES_TOML, NodeOverrides(dry_run=True), environ={})
    entry = loaded.node.exec_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    assert isinstance(entry.create(), HyperliquidPaperExecClientConfig)
    guards = [a for a in loaded.node.actors if a.actor_path == "strategies.risk_guard:RiskGuard"]
    assert len(guards) == 1
    config = RiskGuardConfig.parse(json.dumps(guards[0].config))
    assert config.dry_run is True
    assert config.max_order_notional_usd == 25_000.0  # the file's caps are kept


def test_dry_run_adds_a_dry_guard_to_a_config_without_one() -> None:
    loaded = load_for_run(
        REPO_ROOT / "config" / "sim_trading.toml", NodeOverrides(dry_run=True), environ={}
    )
    guards = [a for a in loaded.node.actors if a.actor_path == "strategies.risk_guard:RiskGuard"]
    assert [g.config for g in guards] == [{"dry_run": True}]
