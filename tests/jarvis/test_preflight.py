"""The config-versus-venue check run before a node is built (``jarvis.preflight``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loading import CONFIG_DIR
from config.loading import ConfigError
from jarvis.node import NodeOverrides
from jarvis.node import load_for_run
from jarvis.preflight import check_against_venue
from simulator.app import SimConfig
from simulator.app import SimThread

SIM_TOML = CONFIG_DIR / "sim.toml"
COINS_LINE = 'coins = ["BTC", "ETH", "SOL"]'


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(SimConfig(seed=5, coins=("BTC", "ETH", "SOL"))) as thread:
        yield thread


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SIM_TOML.read_text()
    assert text.count(old) >= 1
    path = tmp_path / "sim.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def test_the_shipped_sim_config_matches_the_simulators_listing(sim: SimThread) -> None:
    loaded = load_for_run(SIM_TOML, NodeOverrides(http_url=sim.base_url))

    check = check_against_venue(loaded)

    assert check.checked == [sim.base_url]
    assert check.unreachable == []


def test_a_coin_the_venue_does_not_list_is_an_error_naming_table_and_field(
    sim: SimThread, tmp_path: Path
) -> None:
    path = _variant(tmp_path, COINS_LINE, 'coins = ["BTC", "ETH", "SOL", "NOPE"]')
    loaded = load_for_run(path, NodeOverrides(http_url=sim.base_url))

    with pytest.raises(ConfigError) as excinfo:
        check_against_venue(loaded)

    assert str(excinfo.value) == (
        f"{path}: [node.data_clients.HYPERLIQUID.config] coins: ['NOPE'] not listed by the "
        f"venue at {sim.base_url}"
    )


def test_an_actor_for_an_instrument_the_venue_does_not_list_is_an_error(
    sim: SimThread, tmp_path: Path
) -> None:
    # All coins (no `coins`): only the venue can tell that DOGE does not exist.
    text = SIM_TOML.read_text().replace(COINS_LINE + "\n", "", 1)
    text = text.replace('"SOL-USD-PERP.HYPERLIQUID"', '"DOGE-USD-PERP.HYPERLIQUID"', 1)
    path = tmp_path / "sim.toml"
    path.write_text(text)
    loaded = load_for_run(path, NodeOverrides(http_url=sim.base_url))

    with pytest.raises(ConfigError) as excinfo:
        check_against_venue(loaded)

    assert str(excinfo.value) == (
        f"{path}: [node.actors[3].config] instrument_id: DOGE-USD-PERP.HYPERLIQUID is not "
        "listed by the venue"
    )


def test_an_unreachable_venue_is_reported_not_raised() -> None:
    loaded = load_for_run(SIM_TOML, NodeOverrides(http_url="http://127.0.0.1:9"))

    check = check_against_venue(loaded)

    assert check.checked == []
    assert len(check.unreachable) == 1
    assert check.unreachable[0].startswith("http://127.0.0.1:9 ")
