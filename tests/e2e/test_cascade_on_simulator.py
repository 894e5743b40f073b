"""
Cascade on the simulator: a ``trend`` phase that ends in a ``cascade`` phase (one expansion whose
crowded longs get liquidated) enables Cascade during the expansion, arms it at the sell-off, and
enters only after exhaustion; the trade then ends by the time stop, closed at market live.

One node from config/sim_strategies.toml for BTC with Geometry and Cascade (test windows: 15 s
"15 min", 30 s "1 h"; 2 s regime entry; config, not code). The controller's exit confirmation is
long (60 s): the sell-off itself must not end the expansion before Cascade has traded it, which
is what a 10 s confirmation on 15-second windows would do. Cascade's ``max_hold_secs`` is 2 s so
the time stop comes soon after the entry.

A poller on the node's loop records, for every Cascade transition, where the simulator's market
was (its phase and the ms into it), read on the simulator's thread.

Meanwhile, to keep the file short, a second simulator runs the plain ``quiet:30,cascade`` (a
sell-off with no expansion before it) for the same node config in a child ``jarvis node``
process: Cascade must stay disabled there, though the node saw the sell-off (its OI_DROP).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from adapters.hyperliquid.signing import address_from_private_key
from common.nautilus import custom_data_topic
from controllers.protocol import Regime
from controllers.protocol import StrategyStatus
from controllers.regime import RegimeController
from jarvis.node import build_node
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import rulebook_sim_config
from jarvis.testkit import run_node
from jarvis.testkit import venue_position
from jarvis.testkit import venue_triggers
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from simulator.market import CASCADE_BUILD_END_MS
from strategies.cascade import Cascade
from strategies.intents import Intent
from strategies.intents import IntentOutcome

KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"
KEY = "0x" + "2e" * 32
ADDRESS = address_from_private_key(KEY).lower()
S = StrategyStatus
TREND_SECS = 30
SCHEDULE = f"trend:{TREND_SECS},cascade:60,quiet"
MAX_HOLD_SECS = 2.0
REPO_ROOT = Path(__file__).resolve().parents[2]
PLAIN_SCHEDULE = "quiet:30,cascade"
PLAIN_KEY = "0x" + "6d" * 32
# The plain run is watched until this long into its cascade phase: the sell-off (10-30 s) and
# the first seconds of the recovery.
PLAIN_WATCH_MS = 36_000
# Exhaustion came 12-38 s after Cascade armed in 15 node runs of test_cascade_exits_on_simulator.py
# (same market): a 40 s arm timeout would leave the trade to chance. The regime's 60 s exit
# confirmation (EXPANSION fails ~30 s into the cascade phase) ends the chance ~75 s after arming.
ARM_TIMEOUT_SECS = 70.0
# The node config of both runs (test windows: 15 s "15 min", 30 s "1 h"; 60 s regime exit).
CONFIG_KWARGS: dict[str, Any] = {
    "geometry": {},
    "cascade": {"max_hold_secs": MAX_HOLD_SECS, "arm_timeout_secs": ARM_TIMEOUT_SECS},
    "windows_secs": [1.0, 5.0, 15.0, 30.0],
    "controller": {"exit_confirm_secs": 60.0},
}
# The traded run only: no SIDEWAYS regime (no funding is ever at or below 0 on the simulator).
# On 15-second windows the market after the sell-off can read SIDEWAYS within seconds of the
# exit, and Cascade then goes DISABLED in its cooldown instead of back to SCANNING (seen in CI);
# with SIDEWAYS unreachable the regime stays EXPANSION for the 60 s exit confirmation. The plain
# run keeps it: that SIDEWAYS shows its regime logic ran.
NO_SIDEWAYS: dict[str, float] = {"sideways_max_abs_funding_per_hour": 0.0}
CHILD = """
import json
import sys
from pathlib import Path
from jarvis.node import run_node
from jarvis.testkit import rulebook_sim_config
run_node(rulebook_sim_config(sys.argv[1], Path(sys.argv[2]), **json.loads(sys.argv[3])))
"""


@dataclass
class Seen:
    """One Cascade transition and where the simulator's market was when the poller saw it."""

    move: tuple[str, str]
    reason: str
    phase: str
    phase_ms: int
    regime: Regime


@dataclass
class Run:
    seen: list[Seen] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    intents: list[tuple[str, str]] = field(default_factory=list)  # (direction, reason) sent
    final_position: float = 1.0
    final_triggers: int = -1
    plain_log: str = ""
    plain_watched_ms: int = 0


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    log_dir = tmp_path_factory.mktemp("cascade_e2e")
    plain_dir = tmp_path_factory.mktemp("plain_cascade")
    result = Run()
    env = pytest.MonkeyPatch()
    env.setenv(KEY_ENV, KEY)
    plain_sim = SimThread(SimConfig(coins=("BTC",), scenario=PLAIN_SCHEDULE, seed=8)).start()
    plain_sim.fund(address_from_private_key(PLAIN_KEY), 100_000)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            plain_sim.base_url,
            str(plain_dir),
            json.dumps(CONFIG_KWARGS),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, KEY_ENV: PLAIN_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with SimThread(SimConfig(coins=("BTC",), scenario=SCHEDULE, seed=7)) as sim:
            sim.fund(ADDRESS, 100_000)
            config = rulebook_sim_config(
                sim.base_url, log_dir, **CONFIG_KWARGS, regime_thresholds=NO_SIDEWAYS
            )
            node = build_node(config, new_event_loop())
            assert sim.server is not None and sim.server.venue.market is not None
            market = sim.server.venue.market
            controller = node.kernel._controller  # type: ignore[attr-defined]
            assert isinstance(controller, RegimeController)

            def cascade() -> Cascade | None:
                found = [s for s in node.trader.strategies() if isinstance(s, Cascade)]
                return found[0] if found else None

            def where() -> tuple[str, int]:
                return sim.call(lambda: (market.scenario.name, market.phase_ms))

            async def poll() -> None:
                done = 0
                while True:
                    strategy = cascade()
                    if strategy is not None and len(strategy.transitions) > done:
                        phase, phase_ms = where()
                        regime = controller.regime(strategy.instrument_id)
                        for a, b, reason in strategy.transitions[done:]:
                            result.seen.append(Seen((a, b), reason, phase, phase_ms, regime))
                        done = len(strategy.transitions)
                    await asyncio.sleep(0.02)

            def on_event(event: StructuralEvent) -> None:
                strategy = cascade()
                state = None if strategy is None else strategy.last_state
                flow = (
                    ""
                    if state is None
                    else (f" 1s buy {state.aggr_buy_usd_1s:.0f} sell {state.aggr_sell_usd_1s:.0f}")
                )
                status = "" if strategy is None else strategy.state.value
                result.events.append(f"{event.kind} {event.side} {event.value:.3g} {status}{flow}")

            def record_intents() -> None:
                # Every intent the executor sends (read here, not from the log file: the logger
                # is process-global, so this node's log file is empty when another kernel was
                # built first in this interpreter).
                strategy = cascade()
                assert strategy is not None and strategy.executor is not None
                executor = strategy.executor
                submit = executor.submit

                def recorded(intent: Intent) -> IntentOutcome | None:
                    refused = submit(intent)
                    if refused is None:
                        result.intents.append((intent.direction.value, intent.reason))
                    return refused

                executor.submit = recorded  # type: ignore[method-assign]

            async def scenario() -> None:
                node.kernel.msgbus.subscribe(
                    custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), on_event
                )
                record_intents()
                poller = asyncio.get_running_loop().create_task(poll())
                try:
                    try:
                        await wait_for(
                            lambda: (
                                (c := cascade()) is not None
                                and any(b == "EXITED" for _, b, _ in c.transitions)
                            ),
                            150,
                            "Cascade to trade the cascade and exit",
                        )
                    except AssertionError as exc:  # what it saw, read when it gave up
                        c = cascade()
                        moves = [] if c is None else c.transitions
                        raise AssertionError(f"{exc}: {moves} {result.events}") from None
                    await wait_for(
                        lambda: (c := cascade()) is not None and c.state == S.SCANNING,
                        10,
                        "Cascade SCANNING after cooldown",
                    )
                    await asyncio.sleep(0.1)
                finally:
                    poller.cancel()
                await wait_for(lambda: not venue_triggers(sim, ADDRESS), 10, "nothing resting")
                result.final_position = float(venue_position(sim, ADDRESS, "BTC"))
                result.final_triggers = len(venue_triggers(sim, ADDRESS))

            run_node(node, scenario, timeout_secs=170)
        plain_market = plain_sim.server.venue.market  # type: ignore[union-attr]
        assert plain_market is not None

        def plain_watched_ms() -> int:
            return plain_sim.call(
                lambda: plain_market.phase_ms if plain_market.scenario.name == "cascade" else 0
            )

        deadline = time.monotonic() + 60
        while plain_watched_ms() < PLAIN_WATCH_MS and time.monotonic() < deadline:
            time.sleep(0.2)
        result.plain_watched_ms = plain_watched_ms()
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=10)
        plain_sim.stop()
        env.undo()
    result.plain_log = read_logs(plain_dir)
    yield result


def _first(run: Run, move: tuple[str, str]) -> Seen:
    found = [s for s in run.seen if s.move == move]
    assert found, f"no {move} in {[(s.move, s.reason) for s in run.seen]}"
    return found[0]


def test_cascade_is_enabled_during_the_expansion_before_the_sell_off(run: Run) -> None:
    enabled = _first(run, ("DISABLED", "SCANNING"))
    assert enabled.regime is Regime.EXPANSION
    before_selloff = enabled.phase == "trend" or (
        enabled.phase == "cascade" and enabled.phase_ms < CASCADE_BUILD_END_MS
    )
    assert before_selloff, enabled


def test_cascade_arms_at_the_sell_off_on_an_oi_drop(run: Run) -> None:
    armed = _first(run, ("SCANNING", "ARMED"))
    assert armed.phase == "cascade" and armed.phase_ms >= CASCADE_BUILD_END_MS, armed
    assert "OI_DROP" in armed.reason and "long squeeze" in armed.reason, armed.reason


def test_cascade_enters_only_after_exhaustion(run: Run) -> None:
    moves = [s.move for s in run.seen]
    entered = moves.index(("ARMED", "ENTERED"))
    assert moves[entered - 1] == ("SCANNING", "ARMED")  # never straight from SCANNING
    assert len(run.intents) >= 1
    direction, reason = run.intents[0]
    assert "exhaustion: BOOK_REFILL of the bid and 1 s flow turned" in reason, reason
    assert direction == "LONG"  # against the long squeeze


def test_the_time_stop_closes_the_trade_at_market(run: Run) -> None:
    exited = _first(run, ("ENTERED", "EXITED"))
    assert exited.reason == f"flat: invalidated: time stop: max_hold_secs {MAX_HOLD_SECS:g} passed"
    assert run.final_position == 0.0
    assert run.final_triggers == 0


def test_a_plain_cascade_with_no_expansion_before_it_leaves_cascade_disabled(run: Run) -> None:
    assert run.plain_watched_ms >= PLAIN_WATCH_MS
    log = run.plain_log
    # The node was warm and saw the sell-off: its state builder reported the open interest drop.
    assert "OI_DROP BTC-USD-PERP.HYPERLIQUID" in log, log[-3000:]
    assert "Regime BTC DISABLED->SIDEWAYS" in log, log[-3000:]
    assert "->EXPANSION" not in log
    assert "Gate Cascade-CBTC BTC ENABLE" not in log
    assert "Cascade-CBTC BTC-USD-PERP DISABLED->SCANNING" not in log
