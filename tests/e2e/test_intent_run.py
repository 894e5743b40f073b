"""End to end: ``jarvis intent --config FILE --run`` starts the plan's strategy through the
node's controller (the regime controller, or NautilusTrader's own), on the shipped
``config/sim_trading.toml`` pointed at a test simulator; a node run leaves its instruments for
``jarvis intent``."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.hyperliquid.signing import address_from_private_key
from config.loading import CONFIG_DIR
from jarvis.cli import main
from jarvis.intent_cli import EXIT_REFUSED
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import venue_info
from jarvis.testkit import venue_position
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "4f" * 32
ADDRESS = address_from_private_key(KEY).lower()
NT_CONTROLLER = """
[node.controller]
controller_path = "nautilus_trader.trading.controller:Controller"
config_path = "nautilus_trader.live.config:ControllerConfig"
[node.controller.config]
"""
REGIME_CONTROLLER = """
[node.controller]
controller_path = "controllers.regime:RegimeController"
config_path = "controllers.regime:RegimeControllerConfig"
[node.controller.config]
"""


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HYPERLIQUID_SIM_PRIVATE_KEY", KEY)
    monkeypatch.setenv("JARVIS_STATE_DIR", str(tmp_path / "state"))
    with fresh_rate_limiter():
        yield


def node_file(tmp_path: Path, base_url: str, *, controller: str = "") -> Path:
    text = (CONFIG_DIR / "sim_trading.toml").read_text().replace("http://127.0.0.1:3001", base_url)
    text = text.replace('coins = ["BTC", "ETH", "SOL"]', 'coins = ["ETH"]')
    text = text.replace("leverage = { BTC = 10, ETH = 5, SOL = 3 }", "leverage = { ETH = 5 }")
    text = text.replace('isolated_coins = ["SOL"]', "isolated_coins = []")
    text = text.replace('log_level = "INFO"', 'log_level = "ERROR"')
    text += controller
    path = tmp_path / "node.toml"
    path.write_text(text)
    tomllib.loads(text)  # still a valid file
    return path


@pytest.mark.parametrize(
    ("controller", "name"),
    [(REGIME_CONTROLLER, "RegimeController"), (NT_CONTROLLER, "Controller")],
    ids=["regime", "nautilus"],
)
def test_run_starts_the_strategy_through_the_controller_and_it_trades(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], controller: str, name: str
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=31)) as sim:
        fund_test_account(sim, ADDRESS, 100_000)  # sim_trading.toml arms the dead-man switch
        cfg = node_file(tmp_path, sim.base_url, controller=controller)
        code = main(["intent", "--config", str(cfg), "--run", "--duration-secs", "25",
                     "buy 0.01 ETH"])  # fmt: skip
        position = venue_position(sim, ADDRESS, "ETH")
        fills = venue_info(sim, {"type": "userFills", "user": ADDRESS})
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Plan: DirectBuy on ETH-USD-PERP.HYPERLIQUID" in out
    assert f"through {name}\n" in out
    assert position == Decimal("0.01")
    assert len({f["oid"] for f in fills}) == 1
    history = (tmp_path / "state" / "intent_history.json").read_text()
    assert '"ETH"' in history  # the next intent on ETH is no longer a first


def test_run_on_a_node_without_a_controller_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=32)) as sim:
        cfg = node_file(tmp_path, sim.base_url)
        code = main(["intent", "--config", str(cfg), "--run", "buy 0.01 ETH"])
    assert code == EXIT_REFUSED
    assert "has no controller: --run adds strategies through it" in capsys.readouterr().err


def test_a_node_run_leaves_its_instruments_for_jarvis_intent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from jarvis.node import NodeOverrides
    from jarvis.node import load_for_run
    from jarvis.node import run_node

    with SimThread(SimConfig(coins=("BTC", "ETH", "SOL"), seed=33)) as sim:
        url = sim.base_url
        loaded = load_for_run(CONFIG_DIR / "sim.toml", NodeOverrides(http_url=url))
        result = run_node(loaded, duration_secs=8.0)
    assert result.start_failure is None
    capsys.readouterr()
    code = main(["intent", "DCA $500 into ETH over 10 hours every 30m"])
    out = capsys.readouterr().out
    assert code == 0
    assert "prices from: cached by the last node run (" in out
    assert "sim.toml), " in out
