"""`jarvis demo`, `jarvis record` and `jarvis node` as a user runs them: real subprocesses, the
real simulator, a real TradingNode built from config/sim.toml."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.recorder import last_recorded_seq
from adapters.hyperliquid.signing import HyperliquidSigner
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.specs import DEFAULT_COINS

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_TOML = REPO_ROOT / "config" / "sim.toml"
SIM_TRADING_TOML = REPO_ROOT / "config" / "sim_trading.toml"
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


def _free_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on (yet)
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_node_whose_venue_never_appears_exits_non_zero_with_a_clear_message() -> None:
    port = _free_port()

    result = _jarvis(
        "node",
        "--config",
        str(SIM_TOML),
        "--http-url",
        f"http://127.0.0.1:{port}",
        "--duration-secs",
        "6",
        timeout_secs=90,
    )

    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    assert "jarvis node: the node never connected: HYPERLIQUID (data)" in result.stderr
    assert "TradingNode: RUNNING" not in result.stdout
    # It kept trying, one line per attempt with the cause, and no traceback wall.
    attempts = re.findall(r"venue unreachable \(attempt (\d+): info:meta: ", result.stdout)
    assert len(attempts) >= 3
    assert [int(a) for a in attempts] == list(range(1, len(attempts) + 1))
    assert "info:meta failed" not in result.stdout  # no in-request retry lines on top
    assert "Traceback" not in result.stdout + result.stderr
    assert "Error on '_connect'" not in result.stdout


def test_node_whose_venue_refuses_it_for_good_stops_instead_of_waiting() -> None:
    """A 404 (a wrong URL) cannot be cured by retrying: no --duration-secs, and still it ends."""
    with SimThread(SimConfig(seed=17)) as sim:
        result = _jarvis(
            "node",
            "--config",
            str(SIM_TOML),
            "--http-url",
            f"{sim.base_url}/not-the-api",
            timeout_secs=90,
        )

    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    assert "a client failed to connect: HYPERLIQUID (data): HyperliquidHttpError" in result.stderr
    assert "HTTP 404" in result.stderr
    assert "TradingNode: RUNNING" not in result.stdout


def test_node_stopped_by_its_supervisor_before_connecting_exits_non_zero(tmp_path: Path) -> None:
    port = _free_port()
    out = tmp_path / "node.log"
    with out.open("wb") as sink:
        node = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jarvis.cli",
                "node",
                "--config",
                str(SIM_TOML),
                "--http-url",
                f"http://127.0.0.1:{port}",
            ],
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_text(out, "venue unreachable (attempt 2:", 60, node)
            node.send_signal(signal.SIGTERM)  # as systemd or a container runtime stops it
            node.wait(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    text = ANSI.sub("", out.read_text())
    assert node.returncode == 3, text[-3000:]
    assert "jarvis node: the node never connected: HYPERLIQUID (data)" in text
    assert "TradingNode: RUNNING" not in text


def test_trading_node_started_before_its_venue_connects_when_the_venue_appears(
    tmp_path: Path,
) -> None:
    """The venue appears 25 s after the node started: the node connects, then runs."""
    port = _free_port()
    key = "0x" + "3c" * 32
    out = tmp_path / "node.log"
    with out.open("wb") as sink:
        node = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jarvis.cli",
                "node",
                "--config",
                str(SIM_TRADING_TOML),
                "--http-url",
                f"http://127.0.0.1:{port}",
            ],
            cwd=REPO_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HYPERLIQUID_SIM_PRIVATE_KEY": key},
        )
        try:
            _wait_for_text(out, "Loading instruments from", 60, node)
            started = time.monotonic()
            _wait_for_text(out, "Not connected after", 60, node)
            _wait_until(lambda: time.monotonic() - started >= 25.0)  # the venue is late
            with SimThread(SimConfig(port=port, seed=5)) as sim:
                sim.fund(HyperliquidSigner(key, is_mainnet=False).address, 10_000.0)
                _wait_for_text(out, "TradingNode: RUNNING", 90, node)
                _wait_for_text(out, "MarketDataLogger: BTC-USD-PERP.HYPERLIQUID bid=", 60, node)
                node.send_signal(signal.SIGINT)
                node.wait(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
                node.wait()
    text = ANSI.sub("", out.read_text())
    assert node.returncode == 0, text[-3000:]
    for client in ("DataClient-HYPERLIQUID", "ExecClient-HYPERLIQUID"):
        assert re.search(rf"{client}: Loading instruments from \S+: venue unreachable", text)
        assert re.search(rf"{client}: Loading instruments from \S+: venue reached after", text)
    assert "Not connected after" in text  # the node said it was waiting
    assert text.index("venue reached after") < text.index("TradingNode: RUNNING")
    assert "Traceback" not in text


def _wait_until(predicate: Callable[[], bool]) -> None:
    while not predicate():
        time.sleep(0.2)


def _wait_for_text(
    path: Path, text: str, timeout_secs: float, proc: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + timeout_secs
    while text not in ANSI.sub("", path.read_text(errors="replace")):
        if proc.poll() is not None:
            raise AssertionError(f"the node exited ({proc.returncode}) before {text!r}")
        if time.monotonic() > deadline:
            tail = path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"no {text!r} within {timeout_secs} s:\n{tail}")
        time.sleep(0.2)


def test_recording_again_after_a_crash_continues_the_sequence_numbers(tmp_path: Path) -> None:
    out = tmp_path / "recording"
    config = tmp_path / "sim_recorder_status_every_second.toml"
    config.write_text(
        SIM_TOML.read_text()
        + f"""
[node.data_clients.HYPERLIQUID.config.recorder]
directory = "{out}"
status_log_interval_secs = 1.0
"""
    )
    log = tmp_path / "first.log"
    with SimThread(SimConfig(seed=13)) as sim:
        args = ["record", "--config", str(config), "--http-url", sim.base_url, "--out", str(out)]
        with log.open("wb") as sink:
            first = subprocess.Popen(
                [sys.executable, "-m", "jarvis.cli", *args],
                cwd=REPO_ROOT,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
            try:
                # The durable count is visible while it runs, then the process is killed.
                _wait_for_text(log, "Recorder: ", 90, first)
                deadline = time.monotonic() + 60
                while last_recorded_seq(out) < 200:
                    assert time.monotonic() < deadline, "fewer than 200 frames recorded"
                    time.sleep(0.2)
            finally:
                first.kill()
                first.wait()
        crashed_at = last_recorded_seq(out)
        second = _jarvis(*args, "--duration-secs", "5")

    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert f"(sequence numbers from {crashed_at + 1})" in second.stdout
    seqs = [record.seq for record in iter_records(out)]
    assert len(seqs) == len(set(seqs))  # no number twice in the folder
    assert seqs == sorted(seqs)  # and in recording order, as replay reads them
    assert crashed_at + 1 in seqs
    assert max(seqs) > crashed_at + 100
    durable = [
        int(n) for n in re.findall(r"Recorder: (\d+) frames durable", ANSI.sub("", log.read_text()))
    ]
    assert durable and durable[-1] > 0
    assert durable == sorted(durable)
