"""`jarvis node --check-config FILE`: validates without starting anything; exit 0 or 2, with a
message naming the file, table and field, never a traceback (run in-process: an exception would
fail the test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loading import CONFIG_DIR
from jarvis.cli import main
from simulator.app import SimConfig
from simulator.app import SimThread

SIM_TOML = CONFIG_DIR / "sim.toml"
DRIVER = """
[[node.strategies]]
strategy_path = "jarvis.testkit:Driver"
config_path = "jarvis.testkit:DriverConfig"
[node.strategies.config]
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    with SimThread(SimConfig(seed=6, coins=("BTC", "ETH", "SOL"))) as thread:
        yield thread


def _check(path: Path | str, url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["node", "--check-config", str(path), "--http-url", url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


def test_a_valid_config_checks_out_with_exit_0(
    sim: SimThread, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = _check(SIM_TOML, sim.base_url, capsys)

    assert code == 0
    assert f"config {SIM_TOML} is valid" in output


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        pytest.param(
            lambda t: (
                t + DRIVER + 'strategy_id = "D-1"\ninstrument_id = "BTC-USD-PERP.HYPERLIQUID"\n'
            ),
            "[node.strategies[0].config] strategy_id: ",
            id="strategy_id in a strategy's config table",
        ),
        pytest.param(
            lambda t: t.replace(
                'coins = ["BTC", "ETH", "SOL"]', 'coins = ["BTC", "ETH", "SOL", "NOPE"]', 1
            ),
            "[node.data_clients.HYPERLIQUID.config] coins: ['NOPE'] not listed by the venue",
            id="a coin the venue does not list",
        ),
        pytest.param(
            lambda t: t.replace('"SOL-USD-PERP.HYPERLIQUID"', '"DOGE-USD-PERP.HYPERLIQUID"', 1),
            "[node.actors[3].config] instrument_id: DOGE-USD-PERP.HYPERLIQUID is not among",
            id="an actor for an instrument not loaded",
        ),
        pytest.param(
            lambda t: t + DRIVER + 'instrument_id = "XRP-USD-PERP.HYPERLIQUID"\n',
            "[node.strategies[0].config] instrument_id: XRP-USD-PERP.HYPERLIQUID",
            id="a strategy for an instrument not loaded",
        ),
        pytest.param(
            lambda t: t.replace("interval_secs = ", "interval_sec = ", 1),
            "interval_sec",
            id="a misspelt field",
        ),
    ],
)
def test_each_bad_config_exits_2_naming_file_table_and_field(
    sim: SimThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: object,
    expected: str,
) -> None:
    path = _file(tmp_path, edit(SIM_TOML.read_text()))  # type: ignore[operator]

    code, output = _check(path, sim.base_url, capsys)

    assert code == 2
    assert f"jarvis node: {path}: " in output
    assert expected in output
    assert "Traceback" not in output


def test_an_unreachable_venue_is_said_but_a_valid_file_still_checks_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = _check(SIM_TOML, "http://127.0.0.1:9", capsys)

    assert code == 0
    assert "venue not reachable, coins and instruments not checked" in output


def test_check_config_and_config_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["node", "--config", str(SIM_TOML), "--check-config", str(SIM_TOML)])

    assert code == 2
    assert "not both" in capsys.readouterr().err
