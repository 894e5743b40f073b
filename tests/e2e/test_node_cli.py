"""`jarvis demo`, `jarvis record` and `jarvis node` as a user runs them: real subprocesses, the
real simulator, a real TradingNode built from config/sim.toml."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import sys
from pathlib import Path

from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import iter_records
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.specs import DEFAULT_COINS

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_TOML = REPO_ROOT / "config" / "sim.toml"
COINS = ("BTC", "ETH", "SOL")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARKET_LINE = re.compile(
    r"MarketDataLogger: (?P<symbol>\S+)-USD-PERP\.HYPERLIQUID "
    r"bid=(?P<bid>\S+) ask=(?P<ask>\S+) spread_bps=(?P<spread>\S+) "
    r"book=(?P<bids>\d+)x(?P<asks>\d+) book_msgs=(?P<book_msgs>\d+) quotes=(?P<quotes>\d+) "
    r"trades=(?P<trades>\d+) volume=(?P<volume>\S+) last=(?P<last>\S+) mark=(?P<mark>\S+) "
    r"index=(?P<index>\S+) funding=(?P<funding>\S+) oi=(?P<oi>\S+)"
)


def _jarvis(*args: str, timeout_secs: float = 120.0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "jarvis.cli", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_secs,
    )
    result.stdout = ANSI.sub("", result.stdout)
    result.stderr = ANSI.sub("", result.stderr)
    return result


def _number(text: str) -> float:
    return math.nan if text == "-" else float(text)


def test_demo_shows_sane_market_data_per_instrument_and_exits_zero() -> None:
    result = _jarvis("demo", "--config", "config/sim.toml", "--duration-secs", "8")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = [m.groupdict() for m in MARKET_LINE.finditer(result.stdout)]
    for coin in COINS:
        mine = [line for line in lines if line["symbol"] == coin]
        assert mine, f"no market line for {coin}"
        # The first line may predate some streams; the last one has seen them all.
        last = mine[-1]
        bid, ask = _number(last["bid"]), _number(last["ask"])
        mid = (bid + ask) / 2
        initial_px = DEFAULT_COINS[coin].initial_px
        assert 0 < bid < ask
        assert abs(mid / initial_px - 1) < 0.2
        assert 0 < _number(last["spread"]) < 100
        assert int(last["bids"]) > 0
        assert int(last["asks"]) > 0
        assert abs(_number(last["mark"]) / mid - 1) < 0.01
        assert abs(_number(last["index"]) / mid - 1) < 0.01
        assert abs(_number(last["funding"])) < 0.01
        assert _number(last["oi"]) > 0
        assert sum(int(line["book_msgs"]) for line in mine) > 0
        assert sum(int(line["quotes"]) for line in mine) > 0
        assert sum(int(line["trades"]) for line in mine) > 0
    assert "jarvis demo: done" in result.stdout
    assert "[ERROR]" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


STATUS_ROW = re.compile(
    r"^  (?P<coin>BTC|ETH|SOL)\s+(?P<regime>SIDEWAYS|EXPANSION|DISABLED)\s+mid\s+(?P<mid>[\d,.]+|-)"
    r"\s+Geometry-(?P=coin) (?P<state>DISABLED|SCANNING|ARMED|ENTERED|EXITED|COOLDOWN)",
    re.MULTILINE,
)


def test_demo_shows_regime_strategy_state_positions_and_pnl_per_instrument() -> None:
    result = _jarvis("demo", "--duration-secs", "14")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "throwaway simulator account 0x" in result.stdout
    rows = [m.groupdict() for m in STATUS_ROW.finditer(result.stdout)]
    for coin in COINS:
        mine = [row for row in rows if row["coin"] == coin]
        assert mine, f"no status row for {coin}"
        mid = float(mine[-1]["mid"].replace(",", ""))
        assert abs(mid / DEFAULT_COINS[coin].initial_px - 1) < 0.2
    assert re.search(r"== \d\d:\d\d:\d\d UTC  trading ACTIVE  guard ACTIVE ==", result.stdout)
    assert re.search(
        r"positions: flat \| open orders 0 \| realized 0.00 .*equity 100,000.00", result.stdout
    )
    # Not the raw NautilusTrader log: no INFO lines on the terminal.
    assert "[INFO]" not in result.stdout
    assert "[ERROR]" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_record_writes_frames_of_several_stream_kinds_that_read_back(tmp_path: Path) -> None:
    out = tmp_path / "recording"
    with SimThread(SimConfig(seed=11)) as sim:
        result = _jarvis(
            "record",
            "--config",
            str(SIM_TOML),
            "--http-url",
            sim.base_url,
            "--out",
            str(out),
            "--duration-secs",
            "5",
        )

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    records = list(iter_records(out))
    seqs = [r.seq for r in records]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == len(seqs)
    ws_frames = [r for r in records if r.kind == FrameKind.WS_IN]
    kinds = {r.stream.split(":")[0] for r in ws_frames}
    assert {"l2Book", "trades", "bbo", "activeAssetCtx"} <= kinds
    market = [r for r in ws_frames if r.stream.startswith(("l2Book:", "trades:", "bbo:"))]
    for record in market:
        assert json.loads(record.payload)["channel"] == record.stream.split(":")[0]
    coins = {r.stream.split(":")[1] for r in ws_frames if r.stream.startswith("l2Book:")}
    assert coins == set(COINS)
    assert any(r.kind == FrameKind.REST for r in records)
    assert f"jarvis record: recording in {out}" in result.stdout


def test_node_with_a_missing_config_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"

    result = _jarvis("node", "--config", str(missing), timeout_secs=60)

    assert result.returncode == 2
    assert f"jarvis node: {missing}: config file not found" in result.stderr
    assert "NAUTILUS TRADER" not in result.stdout


def test_node_with_an_invalid_config_names_the_field_and_starts_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SIM_TOML.read_text().replace("coins = [", "coinz = [", 1))

    result = _jarvis("node", "--config", str(bad), timeout_secs=60)

    assert result.returncode == 2
    assert "coinz" in result.stderr
    assert "node.data_clients.HYPERLIQUID" in result.stderr
    assert "NAUTILUS TRADER" not in result.stdout


def test_node_that_cannot_reach_its_venue_exits_non_zero_instead_of_idling(
    tmp_path: Path,
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    text = SIM_TOML.read_text()
    text = text.replace("timeout_connection = 15.0", "timeout_connection = 2.0", 1)
    text = text.replace("timeout_portfolio = 5.0", "timeout_portfolio = 1.0", 1)
    config = tmp_path / "unreachable.toml"
    config.write_text(text)

    result = _jarvis(
        "node", "--config", str(config), "--http-url", f"http://127.0.0.1:{port}", timeout_secs=60
    )

    assert result.returncode == 3
    assert "the node did not start within 4 s" in result.stderr
