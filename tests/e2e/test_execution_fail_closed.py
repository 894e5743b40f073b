"""End-to-end: a trading node on the simulator fails closed when its orders are unprotected or
its account view is blind (issue 17, items 1 and 2).

Each test runs its own node against its own simulator and injects the fault through the
simulator's admin endpoint (what ``jarvis sim-fault`` posts); the node's trading state is
polled on its loop (its changes are timed from the risk engine's events), and the time from
the fault to REDUCING is recorded in ``FAULT_TIMINGS`` and printed (``pytest -s``) for the
report. Truth about the switch comes from the simulator's engine (its schedule), never from
the client.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.messages import TradingStateChanged
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.account_freshness import ACCOUNT_CONDITION
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.dead_man import DEAD_MAN_CONDITION
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import hyperliquid_data_client
from jarvis.testkit import hyperliquid_exec_client
from jarvis.testkit import post_signed_action
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import sim_node_config
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.state import SCHEDULE_CANCEL_MIN_VOLUME_USD

KEY = "0x" + "8d" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_FAIL_CLOSED"
ADDRESS = address_from_private_key(KEY)
RISK_EVENTS_TOPIC = "events.risk"  # where the risk engine publishes TradingStateChanged
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
WINDOW_SECS = 6.0
REFRESH_SECS = 1.0
FAULT_TIMINGS: dict[str, float] = {}
TRADED_ENOUGH_USD = SCHEDULE_CANCEL_MIN_VOLUME_USD  # the venue's volume gate on scheduleCancel


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The signing key in the environment, as in production; a fresh process rate limiter."""
    monkeypatch.setenv(KEY_ENV, KEY)
    with fresh_rate_limiter():
        yield


def build_node(base_url: str, log_dir: Path, name: str, **exec_overrides: Any) -> TradingNode:
    """A node with the data and execution clients (no strategy: nothing needs a stream, so
    only the execution client's conditions move the trading state)."""
    values: dict[str, Any] = {
        "http_url": base_url,
        "coins": ("BTC",),
        "private_key_env": KEY_ENV,
        "account_refresh_interval_secs": 0.5,
        "account_max_age_secs": 3.0,
        "dead_man_switch_secs": WINDOW_SECS,
        "dead_man_refresh_secs": REFRESH_SECS,
        "http_timeout_secs": 1.0,
    }
    values.update(exec_overrides)
    config = sim_node_config(
        data_client_config(
            base_url,
            ("BTC",),
            health=HyperliquidFeedHealthConfig(
                gate_recovery_secs=0.5,
                loosen=("gate_recovery_secs",),  # quick test recovery
            ),
        ),
        exec_client=HyperliquidExecClientConfig(**values),
        logging=file_logging(log_dir, name, level_file="INFO"),
    )
    return build_sim_node(config)


def state_of(node: TradingNode) -> TradingState:
    return node.kernel.risk_engine.trading_state


async def time_to(node: TradingNode, state: TradingState, since: float, deadline: float) -> float:
    """Seconds from ``since`` (monotonic) until the node's trading state is ``state``."""
    await wait_for(lambda: state_of(node) == state, deadline, f"trading state {state.name}")
    return time.monotonic() - since


class StateWatch:
    """Every change of the node's trading state, with its monotonic time: the risk engine's
    ``TradingStateChanged`` events on ``events.risk``, received as they are published (a poll
    could miss a short state, or lose the last change to the scenario's own poll under load)."""

    def __init__(self, node: TradingNode) -> None:
        self.msgbus = node.kernel.msgbus
        self.changes: list[tuple[float, TradingState]] = []
        self.msgbus.subscribe(RISK_EVENTS_TOPIC, self._on_event)

    def _on_event(self, event: Any) -> None:
        if isinstance(event, TradingStateChanged):
            self.changes.append((time.monotonic(), event.state))

    def close(self) -> None:
        self.msgbus.unsubscribe(RISK_EVENTS_TOPIC, self._on_event)

    def first(self, state: TradingState, after: float) -> float | None:
        return next((t for t, s in self.changes if s == state and t >= after), None)


def record(name: str, seconds: float) -> None:
    FAULT_TIMINGS[name] = round(seconds, 2)
    print(f"fault-to-state {name}: {seconds:.2f} s")


def venue_schedule(sim: SimThread) -> tuple[int | None, int]:
    """The venue's scheduleCancel time for the account and the venue's time now."""
    server = sim.server
    assert server is not None
    venue = server.venue
    return sim.call(lambda: (venue.engine.scheduled.get(ADDRESS), venue.clock.now_ms()))


def armed_at_venue(sim: SimThread) -> bool:
    when, now = venue_schedule(sim)
    return when is not None and when > now


def test_venue_clock_ahead_of_local_time_still_arms_the_switch(tmp_path: Path) -> None:
    ahead_ms = 10 * 60_000  # far beyond the window: a local-clock schedule is refused
    start = time.time_ns() // 1_000_000 + ahead_ms
    with SimThread(SimConfig(coins=("BTC",), seed=3, start_ms=start)) as sim:
        sim.fund(ADDRESS, 100_000, volume_usd=TRADED_ENOUGH_USD)
        node = build_node(sim.base_url, tmp_path, "clock_ahead")
        seen: dict[str, Any] = {}

        async def scenario() -> None:
            client = hyperliquid_exec_client(node)
            await wait_for(lambda: armed_at_venue(sim), 10, "the switch armed at the venue")
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 10, "ACTIVE")
            seen["offset_ms"] = client.venue_clock.offset_ms
            seen["schedule"] = venue_schedule(sim)
            # The venue clock jumps again while running, past the switch time (it fires).
            watch = StateWatch(node)
            refused_before = client.dead_man.refusals
            jumped = time.monotonic()
            await sim_admin_async(sim.base_url, "fault/jump-clock", {"ms": 60_000})
            await wait_for(
                lambda: client.venue_clock.offset_ms > ahead_ms + 58_000 and armed_at_venue(sim),
                15,
                "the switch armed again at the jumped venue time",
            )
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 10, "ACTIVE again")
            watch.close()
            seen["rearmed_secs"] = time.monotonic() - jumped
            seen["refused"] = client.dead_man.refusals - refused_before
            seen["reducing_after"] = watch.first(TradingState.REDUCING, jumped)
            seen["jumped"] = jumped
            seen["after_jump"] = venue_schedule(sim)
            seen["offset_after_ms"] = client.venue_clock.offset_ms

        run_node(node, scenario)

    when, now = seen["schedule"]
    assert seen["offset_ms"] > ahead_ms - 2_000
    assert now < when <= now + WINDOW_SECS * 1000 + 1_000
    when, now = seen["after_jump"]
    assert now < when
    assert seen["offset_after_ms"] > ahead_ms + 60_000 - 2_000
    record("jump-clock -> armed again", seen["rearmed_secs"])
    if seen["refused"]:  # a schedule computed before the new offset was sampled: refused
        assert seen["reducing_after"] is not None, "a refusal must mean REDUCING"
        record("jump-clock refusal -> REDUCING", seen["reducing_after"] - seen["jumped"])


def test_exchange_failing_longer_than_half_the_window_means_reducing(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("BTC",), seed=4)) as sim:
        sim.fund(ADDRESS, 100_000, volume_usd=TRADED_ENOUGH_USD)
        node = build_node(sim.base_url, tmp_path, "exchange_500")
        seen: dict[str, Any] = {}

        async def scenario() -> None:
            client = hyperliquid_exec_client(node)
            provider = client.instrument_provider
            seen["shared_provider"] = provider is hyperliquid_data_client(node).instrument_provider
            seen["instrument_loads"] = provider.loads
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 15, "ACTIVE")
            start = time.monotonic()
            await sim_admin_async(
                sim.base_url,
                "fault/http-error",
                {"status": 500, "path": "exchange", "count": 10_000},
            )
            seen["to_reducing"] = await time_to(node, TradingState.REDUCING, start, 20)
            gate = client.health_gate
            assert gate is not None
            seen["reason"] = gate.conditions.get(DEAD_MAN_CONDITION)
            seen["failures"] = client.dead_man.failures
            cleared = time.monotonic()
            await sim_admin_async(sim.base_url, "fault/clear")
            seen["to_active"] = await time_to(node, TradingState.ACTIVE, cleared, 20)
            seen["armed"] = armed_at_venue(sim)

        run_node(node, scenario)

    record("exchange 500s -> REDUCING", seen["to_reducing"])
    record("exchange cleared -> ACTIVE", seen["to_active"])
    # Overdue = refresh (1 s) + half the window (3 s) after the last success.
    assert 2.0 < seen["to_reducing"] < REFRESH_SECS + WINDOW_SECS / 2 + 3.0
    assert seen["reason"] is not None and "overdue" in seen["reason"]
    assert seen["failures"] >= 2
    assert seen["armed"]
    assert seen["shared_provider"] and seen["instrument_loads"] == 1  # one load per node


def test_info_slower_than_the_timeout_means_reducing_until_fresh(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("BTC",), seed=5)) as sim:
        sim.fund(ADDRESS, 100_000)
        node = build_node(
            sim.base_url,
            tmp_path,
            "info_delay",
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
        )
        seen: dict[str, Any] = {}

        async def scenario() -> None:
            client = hyperliquid_exec_client(node)
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 15, "ACTIVE")
            start = time.monotonic()
            await sim_admin_async(sim.base_url, "fault/delay", {"ms": 2_500, "target": "http"})
            seen["to_reducing"] = await time_to(node, TradingState.REDUCING, start, 20)
            gate = client.health_gate
            assert gate is not None
            seen["reason"] = gate.conditions.get(ACCOUNT_CONDITION)
            freshness = client.account_freshness
            await wait_for(lambda: freshness.failures >= 1, 20, "a failed refresh recorded")
            seen["failure"] = freshness.last_failure
            cleared = time.monotonic()
            await sim_admin_async(sim.base_url, "fault/clear")
            seen["to_active"] = await time_to(node, TradingState.ACTIVE, cleared, 20)

        run_node(node, scenario)

    record("info delay 2.5 s (timeout 1 s) -> REDUCING", seen["to_reducing"])
    record("info cleared -> ACTIVE", seen["to_active"])
    assert seen["to_reducing"] < 3.0 + 3.0  # the max age, plus a refresh interval and margin
    assert seen["reason"] is not None and "last refreshed" in seen["reason"]
    assert seen["failure"] is not None and "TransportError" in seen["failure"]


# --- kill -9 after a refused switch ----------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[2]
SIM_TRADING_TOML = REPO_ROOT / "config" / "sim_trading.toml"
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z")


def _node_config(tmp_path: Path) -> Path:
    """config/sim_trading.toml with a short switch window (the rest as a user runs it)."""
    text = SIM_TRADING_TOML.read_text()
    for old, new in (
        ("dead_man_switch_secs = 30.0", f"dead_man_switch_secs = {WINDOW_SECS}"),
        ("dead_man_refresh_secs = 10.0", "dead_man_refresh_secs = 2.0"),
        ("log_colors = true", "log_colors = false"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "trading.toml"
    path.write_text(text)
    return path


def _log_time(line: str) -> float:
    match = LOG_TIME.match(line)
    assert match is not None, line
    stamp = datetime.fromisoformat(match.group(1)[:26]).replace(tzinfo=UTC)
    return stamp.timestamp()


def test_kill_9_after_a_refused_switch_leaves_no_order_once_it_is_armed_again(
    tmp_path: Path,
) -> None:
    log_path = tmp_path / "node.log"
    with SimThread(SimConfig(seed=6)) as sim:
        sim.fund(ADDRESS, 100_000)  # a fresh account: the venue refuses its dead-man switch
        env = dict(os.environ, HYPERLIQUID_SIM_PRIVATE_KEY=KEY)
        with log_path.open("w") as log_file:
            node = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jarvis.cli",
                    "node",
                    "--config",
                    str(_node_config(tmp_path)),
                    "--http-url",
                    sim.base_url,
                ],
                cwd=REPO_ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
            try:
                _poll(lambda: "Dead-man switch refused by the venue" in log_path.read_text(), 90)
                # Orders rest while the switch is refused (placed with the node's key).
                bid = Decimal(
                    venue_info(sim, {"type": "l2Book", "coin": "BTC"})["levels"][0][0]["px"]
                )
                oids = [
                    _rest_order(sim.base_url, int(bid * Decimal("0.9")) - i, i) for i in range(2)
                ]
                refused_text = log_path.read_text()
                sim.fund(ADDRESS, 0.0, volume_usd=TRADED_ENOUGH_USD)  # it has traded enough
                _poll(lambda: armed_at_venue(sim), 30)
                _poll(lambda: "trading state -> ACTIVE" in log_path.read_text(), 30)
                node.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                node.wait(30)
                _poll(lambda: not venue_open_orders(sim, ADDRESS), WINDOW_SECS + 20)
                cancelled_secs = time.monotonic() - killed
                statuses = [
                    venue_info(sim, {"type": "orderStatus", "user": ADDRESS, "oid": oid})
                    for oid in oids
                ]
            finally:
                if node.poll() is None:
                    node.kill()
                    node.wait(30)
    text = log_path.read_text()
    lines = text.splitlines()
    refused_at = next(_log_time(x) for x in lines if "Dead-man switch refused by the venue" in x)
    reducing = [_log_time(x) for x in lines if "trading state -> REDUCING" in x]
    active = [_log_time(x) for x in lines if "trading state -> ACTIVE" in x]
    record("switch refused -> REDUCING (already, before any ACTIVE)", 0.0)
    record("kill -9 -> orders cancelled by the venue", cancelled_secs)
    assert reducing and reducing[0] <= refused_at  # held from the start: never unprotected
    assert "trading state -> ACTIVE" not in refused_text
    assert active and active[0] > refused_at
    assert [s["order"]["status"] for s in statuses] == ["scheduledCancel", "scheduledCancel"]
    assert cancelled_secs < WINDOW_SECS + 20


def _poll(predicate: Any, timeout_secs: float) -> None:
    deadline = time.monotonic() + timeout_secs
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_secs} s")
        time.sleep(0.1)


def _rest_order(base_url: str, px: int, index: int) -> int:
    order = {
        "a": 0,
        "b": True,
        "p": str(px),
        "s": "0.01",
        "r": False,
        "t": {"limit": {"tif": "Gtc"}},
    }
    action = {"type": "order", "orders": [order], "grouping": "na"}
    answer = post_signed_action(base_url, KEY, action, nonce_offset_ms=7 + index)
    (status,) = answer["response"]["data"]["statuses"]
    return int(status["resting"]["oid"])


def test_user_stream_lost_means_reducing_until_reconnected_and_resynced(tmp_path: Path) -> None:
    with SimThread(SimConfig(coins=("BTC",), seed=12)) as sim:
        sim.fund(ADDRESS, 100_000)
        node = build_node(
            sim.base_url,
            tmp_path,
            "user_stream",
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
        )
        seen: dict[str, Any] = {}

        async def scenario() -> None:
            client = hyperliquid_exec_client(node)
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 15, "ACTIVE")
            watch = StateWatch(node)
            resyncs = client.counters.resyncs
            dropped = time.monotonic()
            await sim_admin_async(sim.base_url, "fault/drop-ws")
            await wait_for(lambda: client.counters.resyncs > resyncs, 15, "a resync")
            await wait_for(lambda: state_of(node) == TradingState.ACTIVE, 15, "ACTIVE again")
            watch.close()
            seen["reducing_after"] = watch.first(TradingState.REDUCING, dropped)
            seen["active_after"] = watch.first(TradingState.ACTIVE, seen["reducing_after"] or 0)
            seen["dropped"] = dropped

        run_node(node, scenario)

    assert seen["reducing_after"] is not None, "a lost user stream must mean REDUCING"
    assert seen["active_after"] is not None
    record("user stream dropped -> REDUCING", seen["reducing_after"] - seen["dropped"])
    record("user stream dropped -> ACTIVE (resynced)", seen["active_after"] - seen["dropped"])
