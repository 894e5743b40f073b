"""Config files load into a TradingNodeConfig through the config classes' own parsing, fail
loudly (naming the field) on typos and bad values, and never hold secrets."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from nautilus_trader.config import ImportableConfig
from nautilus_trader.config import TradingNodeConfig

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from config.loading import ConfigError
from config.loading import load_node_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
SIM_TOML = CONFIG_DIR / "sim.toml"
CONFIG_FILES = sorted(CONFIG_DIR.glob("*.toml"))
FAKE_PRIVATE_KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe512961708279f1d7b1b3b9b5a1c2d3"[:64]
ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def _variant(tmp_path: Path, old: str, new: str, source: Path = SIM_TOML) -> Path:
    """A copy of a shipped config with exactly one occurrence of ``old`` replaced."""
    text = source.read_text()
    assert text.count(old) == 1, f"{old!r} must occur once in {source.name}"
    path = tmp_path / source.name
    path.write_text(text.replace(old, new))
    return path


def _hyperliquid_config(path: Path) -> HyperliquidDataClientConfig:
    loaded = load_node_config(path, environ={})
    entry = loaded.node.data_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    config = entry.create()
    assert isinstance(config, HyperliquidDataClientConfig)
    return config


def test_config_folder_ships_sim_paper_testnet_and_mainnet() -> None:
    assert {p.stem for p in CONFIG_FILES} >= {"sim", "paper", "testnet", "mainnet"}


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_every_config_file_loads_into_a_trading_node_config(path: Path) -> None:
    loaded = load_node_config(path, environ={})

    assert isinstance(loaded.node, TradingNodeConfig)
    assert loaded.jarvis.environment == path.stem.partition("_")[0]  # sim_trading: sim
    assert _hyperliquid_config(path).http_url.startswith(("http://", "https://"))
    # Stopping must not take NautilusTrader's default 10 s (PERF_NOTES.md).
    assert loaded.node.timeout_post_stop < 10.0
    assert loaded.node.timeout_disconnection < 10.0


def test_every_shipped_config_runs_the_same_safety_health_limits() -> None:
    healths = {path.name: _hyperliquid_config(path).health for path in CONFIG_FILES}

    assert set(healths.values()) == {HyperliquidFeedHealthConfig()}, healths
    assert healths["sim_trading.toml"].stale_l2book_secs == 5.0


def test_a_loosened_limit_loads_only_when_listed_in_loosen(tmp_path: Path) -> None:
    old = "[node.data_clients.HYPERLIQUID.config.instrument_provider]"
    new = (
        "[node.data_clients.HYPERLIQUID.config.health]\n"
        'stale_l2book_secs = 60.0\nstale_bbo_secs = 10.0\nloosen = ["stale_l2book_secs"]\n'
        "[node.data_clients.HYPERLIQUID.config.instrument_provider]"
    )

    health = _hyperliquid_config(_variant(tmp_path, old, new)).health

    assert health.stale_l2book_secs == 60.0
    assert health.stale_bbo_secs == 10.0  # tightening needs no override
    assert health.loosened_limits() == [("stale_l2book_secs", "60 s (default 5 s)")]


def test_sim_config_points_at_the_local_simulator_with_market_state_actors() -> None:
    loaded = load_node_config(SIM_TOML, environ={})
    config = _hyperliquid_config(SIM_TOML)

    assert config.http_url == "http://127.0.0.1:3001"
    assert config.resolved_ws_url == "ws://127.0.0.1:3001/ws"
    assert config.coins == ("BTC", "ETH", "SOL")
    actor_paths = [a.actor_path for a in loaded.node.actors]
    assert actor_paths.count("actors.state_builder:MarketStateBuilder") == 3
    assert "jarvis.market_log:MarketDataLogger" in actor_paths
    builder_ids = {
        a.config["instrument_id"]
        for a in loaded.node.actors
        if a.actor_path.endswith(":MarketStateBuilder")
    }
    assert builder_ids == {f"{c}-USD-PERP.HYPERLIQUID" for c in ("BTC", "ETH", "SOL")}


def test_testnet_and_mainnet_point_at_their_venues() -> None:
    assert _hyperliquid_config(CONFIG_DIR / "testnet.toml").http_url == (
        "https://api.hyperliquid-testnet.xyz"
    )
    assert _hyperliquid_config(CONFIG_DIR / "mainnet.toml").http_url == (
        "https://api.hyperliquid.xyz"
    )


# Typos and bad values fail loudly, naming the field and where it is.


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # A typo in the data client's own config.
        ('http_url = "http', 'htp_url = "http', ["htp_url", "node.data_clients.HYPERLIQUID"]),
        # A bad value caught by the data client config's own validation.
        ("ws_ping_interval_secs = 20.0", "ws_ping_interval_secs = 75.0", ["ws_ping_interval_secs"]),
        # A typo in NautilusTrader's node config.
        ("timeout_post_stop = 0.5", "timeout_post_stp = 0.5", ["timeout_post_stp", "[node]"]),
        # A bad value in NautilusTrader's node config.
        ("timeout_post_stop = 0.5", "timeout_post_stop = -1.0", ["timeout_post_stop"]),
        # A typo in an actor's config (decoded lazily by NautilusTrader, eagerly here).
        ("interval_secs = 2.0", "interval_sec = 2.0", ["interval_sec", "node.actors[0].config"]),
        # A bad value in an actor's config.
        (
            'instrument_id = "BTC-USD-PERP.HYPERLIQUID"',
            'instrument_id = "BTCUSD"',
            ["instrument_id", "node.actors[1].config"],
        ),
        # A health threshold below zero, nested two tables deep.
        (
            "[node.data_clients.HYPERLIQUID.config.instrument_provider]",
            "[node.data_clients.HYPERLIQUID.config.health]\nstale_l2book_secs = -5.0\n"
            "[node.data_clients.HYPERLIQUID.config.instrument_provider]",
            ["stale_l2book_secs", "node.data_clients.HYPERLIQUID.config"],
        ),
        # A safety limit loosened without saying so.
        (
            "[node.data_clients.HYPERLIQUID.config.instrument_provider]",
            "[node.data_clients.HYPERLIQUID.config.health]\nstale_l2book_secs = 60.0\n"
            "[node.data_clients.HYPERLIQUID.config.instrument_provider]",
            ["stale_l2book_secs", "looser than the safety default", "loosen"],
        ),
        # A class that does not exist.
        (
            '"jarvis.market_log:MarketDataLogger"',
            '"jarvis.market_log:MarketDataLoger"',
            ["node.actors[0]", "actor_path", "MarketDataLoger"],
        ),
        # A factory module that does not exist.
        ("adapters.hyperliquid.factories:", "adapters.hyperliquid.factorys:", ["factory.path"]),
        # The Jarvis table.
        ('environment = "sim"', 'environment = "prod"', ["environment", "jarvis"]),
        # A trader id NautilusTrader's Rust core would abort the process on.
        ('trader_id = "JARVIS-001"', 'trader_id = "JARVIS"', ["trader_id"]),
        # A wrong type.
        ("timeout_connection = 15.0", 'timeout_connection = "soon"', ["timeout_connection"]),
    ],
)
def test_typo_or_bad_value_fails_at_load_naming_the_field(
    tmp_path: Path, old: str, new: str, expected: list[str]
) -> None:
    path = _variant(tmp_path, old, new)

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={})

    message = str(excinfo.value)
    assert str(path) in message
    for fragment in expected:
        assert fragment in message


def test_unknown_top_level_table_is_refused(tmp_path: Path) -> None:
    path = _variant(tmp_path, "[jarvis]\n", "[jarvs]\n")

    with pytest.raises(ConfigError, match="jarvs"):
        load_node_config(path, environ={})


def test_missing_file_and_broken_toml_fail_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_node_config(tmp_path / "absent.toml")

    broken = _variant(tmp_path, "[node.logging]", "[node.logging")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_node_config(broken, environ={})


# Secrets only from the environment.


def test_config_with_a_private_key_field_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = _variant(
        tmp_path,
        "product_types = [",
        f'private_key = "{FAKE_PRIVATE_KEY}"\nproduct_types = [',
    )

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={})

    message = str(excinfo.value)
    assert "private_key" in message
    assert "environment" in message
    assert FAKE_PRIVATE_KEY[2:] not in message


def test_a_private_key_under_any_field_name_is_refused(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, "product_types = [", f'fee_user = "{FAKE_PRIVATE_KEY}"\nproduct_types = ['
    )

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={})

    assert "fee_user" in str(excinfo.value)
    assert FAKE_PRIVATE_KEY[2:] not in str(excinfo.value)


def test_values_may_come_from_the_environment(tmp_path: Path) -> None:
    address = "0x" + "ab" * 20
    path = _variant(
        tmp_path, "product_types = [", 'fee_user = "${JARVIS_TEST_ADDRESS}"\nproduct_types = ['
    )

    loaded = load_node_config(path, environ={"JARVIS_TEST_ADDRESS": address})

    entry = loaded.node.data_clients["HYPERLIQUID"]
    assert isinstance(entry, ImportableConfig)
    assert entry.create().fee_user == address
    with pytest.raises(ConfigError, match="JARVIS_TEST_ADDRESS is not set"):
        load_node_config(path, environ={})


def test_a_private_key_from_the_environment_is_not_substituted(tmp_path: Path) -> None:
    path = _variant(
        tmp_path, "product_types = [", 'fee_user = "${JARVIS_TEST_KEY}"\nproduct_types = ['
    )

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={"JARVIS_TEST_KEY": FAKE_PRIVATE_KEY})

    assert "private key" in str(excinfo.value)
    assert FAKE_PRIVATE_KEY[2:] not in str(excinfo.value)


def test_a_secret_env_entry_must_be_a_variable_name_not_a_value(tmp_path: Path) -> None:
    source = CONFIG_DIR / "testnet.toml"
    path = _variant(
        tmp_path,
        'private_key = "HYPERLIQUID_TESTNET_PRIVATE_KEY"',
        'private_key = "my secret words"',
        source=source,
    )

    with pytest.raises(ConfigError, match="environment variable NAME"):
        load_node_config(path, environ={})


@pytest.mark.parametrize("name", ["testnet.toml", "mainnet.toml"])
def test_live_venue_configs_reference_environment_variable_names_only(name: str) -> None:
    path = CONFIG_DIR / name
    raw = tomllib.loads(path.read_text())

    loaded = load_node_config(path, environ={})  # needs no secret to load

    secrets_env = loaded.jarvis.secrets_env
    assert "private_key" in secrets_env
    assert all(ENV_NAME.fullmatch(variable) for variable in secrets_env.values())
    hex_runs = re.findall(r"[0-9a-fA-F]{40,}", path.read_text())
    assert hex_runs == []
    assert "private_key" not in raw["node"]["data_clients"]["HYPERLIQUID"]["config"]
    variable = secrets_env["private_key"]
    assert loaded.jarvis.secret("private_key", environ={variable: "from-env"}) == "from-env"
    with pytest.raises(ConfigError, match=variable):
        loaded.jarvis.secret("private_key", environ={})


_DRIVER = """
[[node.strategies]]
strategy_path = "jarvis.testkit:Driver"
config_path = "jarvis.testkit:DriverConfig"
[node.strategies.config]
"""


def _with_tail(tmp_path: Path, tail: str, source: Path = SIM_TOML) -> Path:
    path = tmp_path / source.name
    path.write_text(source.read_text() + tail)
    return path


def test_a_strategy_id_inside_a_strategy_config_table_is_named_not_a_raw_type_error(
    tmp_path: Path,
) -> None:
    path = _with_tail(
        tmp_path,
        _DRIVER + 'strategy_id = "DRIVER-001"\ninstrument_id = "BTC-USD-PERP.HYPERLIQUID"\n',
    )

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={})

    message = str(excinfo.value)
    assert message.startswith(f"{path}: [node.strategies[0].config] strategy_id: ")
    assert "order_id_tag" in message
    assert "Traceback" not in message


def test_the_same_strategy_without_a_strategy_id_loads(tmp_path: Path) -> None:
    path = _with_tail(tmp_path, _DRIVER + 'instrument_id = "BTC-USD-PERP.HYPERLIQUID"\n')

    loaded = load_node_config(path, environ={})

    assert len(loaded.node.strategies) == 1


def test_an_actor_for_an_instrument_the_data_client_does_not_load_is_refused(
    tmp_path: Path,
) -> None:
    path = _variant(
        tmp_path,
        'instrument_id = "SOL-USD-PERP.HYPERLIQUID"',
        'instrument_id = "DOGE-USD-PERP.HYPERLIQUID"',
    )

    with pytest.raises(ConfigError) as excinfo:
        load_node_config(path, environ={})

    message = str(excinfo.value)
    assert message.startswith(f"{path}: [node.actors[3].config] instrument_id: ")
    assert "DOGE-USD-PERP.HYPERLIQUID" in message
    assert "[node.data_clients.HYPERLIQUID.config] coins = ['BTC', 'ETH', 'SOL']" in message


def test_a_strategy_for_an_instrument_the_data_client_does_not_load_is_refused(
    tmp_path: Path,
) -> None:
    path = _with_tail(tmp_path, _DRIVER + 'instrument_id = "DOGE-USD-PERP.HYPERLIQUID"\n')

    with pytest.raises(ConfigError, match=r"\[node.strategies\[0\].config\] instrument_id: "):
        load_node_config(path, environ={})
