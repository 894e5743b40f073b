"""The adjustments `jarvis demo` and `jarvis record` make to a config file before parsing."""

from __future__ import annotations

from pathlib import Path

import pytest
from nautilus_trader.config import ImportableConfig

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from config.loading import ConfigError
from config.loading import read_config_file
from jarvis.node import NodeOverrides
from jarvis.node import apply_overrides
from jarvis.node import describe
from jarvis.node import load_for_run
from jarvis.node import recording_directories

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
