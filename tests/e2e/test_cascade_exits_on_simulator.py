"""
Cascade's trade exits on the simulator by its target, by its stop and by an invalidation (the time
stop is covered in test_cascade_on_simulator.py).

Three runs of the same market side by side (``trend`` then ``cascade``, seed 7, as in the time-stop
test but with a 45 s trend timed from when every node listens, see ``SCHEDULE``), one node each,
the node config of that test but with a long ``max_hold_secs`` so the time stop cannot end any of
these trades. Each node trades the cascade once (Cascade arms at the sell-off and enters LONG
after exhaustion; the OI_DROP does not re-fire for a second trade, so one exit kind per run).
Once the venue shows the position with its stop and target resting, the test drives that run's
market with the simulator's admin controls:

* target: the price (book, mid and mark) is moved just beyond the target; the venue's
  take-profit fires.
* stop: only the mark is moved just through the stop; the venue's stop (a mark-price trigger)
  fires while the book, and so the node's mid, stays above it: nothing but the stop can end the
  trade (Cascade's own "cascade resumed" check reads the mid).
* invalidation: a further OI_DROP with aggressive selling while ENTERED (STRATEGIES.md: "a further
  OI_DROP in the same direction while ENTERED") must close the trade at market. The price is first
  lifted a third of the way to the target, away from the stop; then longs are opened with the
  sellers aggressing (the 5 s flow turns to sells, and the rise in open interest re-arms the
  node's OI_DROP detector) and, once the node shows both, a larger close with the sellers
  aggressing drops open interest beyond the OI_DROP threshold.

The target and stop runs are child ``jarvis node`` processes (their transitions are read from
their logs after they stop); the invalidation run is in this process, where the test reads the
node's state. Every run must end flat with nothing resting at the venue. About 100 s of wall time,
the three runs side by side. Like every end-to-end file it is meant to run in its own interpreter
(scripts/run_tests.py): after other kernels were built in the same pytest process (e.g.
tests/strategies first), the child nodes here were seen to get no market data at all.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import pytest

from actors.state_builder import MarketStateBuilder
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventKind
from adapters.hyperliquid.signing import address_from_private_key
from common.nautilus import custom_data_topic
from controllers.protocol import StrategyStatus
from jarvis.node import build_node
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import rulebook_sim_config
from jarvis.testkit import run_node
from jarvis.testkit import sim_mark
from jarvis.testkit import sim_open_interest
from jarvis.testkit import venue_info
from jarvis.testkit import venue_position
from jarvis.testkit import venue_triggers
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from strategies.cascade import Cascade

KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"
KEYS = {"target": "0x" + "4a" * 32, "stop": "0x" + "4b" * 32, "invalidation": "0x" + "4c" * 32}
ADDRESSES = {kind: address_from_private_key(key).lower() for kind, key in KEYS.items()}
# The sell-off's OI_DROP fires once, ~14 s into the cascade phase, and a node only arms Cascade on
# it if its regime already reads EXPANSION, ~20 s after the node's market data began. The child
# nodes start later than the in-process one (~7 s here, far more on a loaded machine: CI saw every
# run time out waiting for its trade with a 30 s trend, and this file fail again with 60 s), so
# each simulator holds its schedule (the trend goes on, its clock at 0) until all three nodes
# subscribe to their books (`_schedules_released_once_all_subscribed`). Every node then watches
# the whole 45 s trend, ~25 s more than it needs, whatever its boot took.
SCHEDULE = "trend:45,cascade:60,quiet"
SEED = 7
REPO_ROOT = Path(__file__).resolve().parents[2]
# Exhaustion (the bid's BOOK_REFILL, then the 1 s flow turning to buys) came 12-38 s after Cascade
# armed in 15 node runs (5 of this file); the time-stop test's 40 s arm timeout would leave the
# trade to chance (a run that disarms has no second OI_DROP to arm on).
ARM_TIMEOUT_SECS = 90.0
# The node config of test_cascade_on_simulator.py, with a time stop far beyond these runs, that
# longer arm timeout, and no SIDEWAYS regime (no funding is ever at or below 0 on the simulator):
# on 15-second windows the market after the sell-off reads SIDEWAYS within seconds, and the
# hand-over would close the trade before an exit could be driven (seen in CI, where the entry came
# ~8 s before the switch). EXPANSION itself fails ~30 s into the cascade phase (the end of the
# sell-off), so the exit confirmation is 120 s, not 60: with 60 the controller disabled Cascade,
# closing a trade that had entered 44 s before, while the invalidation was still being driven.
CONFIG_KWARGS: dict[str, Any] = {
    "geometry": {},
    "cascade": {"max_hold_secs": 170.0, "arm_timeout_secs": ARM_TIMEOUT_SECS},
    "windows_secs": [1.0, 5.0, 15.0, 30.0],
    "controller": {"exit_confirm_secs": 120.0},
    "regime_thresholds": {"sideways_max_abs_funding_per_hour": 0.0},
}
# Open interest the invalidation run opens with sellers aggressing (no drop: the flow only), then
# closes with sellers aggressing (a drop of CLOSE - OPEN, beyond the detector's 5 % in 10 s).
FLOW_OPEN_SHARE = 0.05
FLOW_ATTEMPTS = 3
DROP_CLOSE_SHARE = 0.13
NODE_BOOT_TIMEOUT_SECS = 90.0
ENTRY_TIMEOUT_SECS = 60.0 + ARM_TIMEOUT_SECS + 30.0  # OI_DROP ~60 s after the release
EXIT_TIMEOUT_SECS = 30.0
CHILD = """
import json
import sys
from pathlib import Path
from jarvis.node import run_node
from jarvis.testkit import rulebook_sim_config
run_node(rulebook_sim_config(sys.argv[1], Path(sys.argv[2]), **json.loads(sys.argv[3])))
"""
EXITED_LINE = re.compile(
    r"Cascade-CBTC BTC-USD-PERP ENTERED->EXITED: (.*?)"
    r"(?: entry=\S+ stop=\S+ target=\S+)? flat=(?:True|False)$",
    re.MULTILINE,
)


@dataclass
class Exit:
    """One run: how its trade was protected at the venue, how the test drove it, how it ended."""

    stop_px: float = 0.0
    target_px: float = 0.0
    stop_oid: int = -1
    target_oid: int = -1
    closing_oids: set[int] = field(default_factory=set)  # the venue orders that closed it
    entered_position: float = 0.0
    driven: dict[str, Any] = field(default_factory=dict)
    final_position: float = 1.0
    final_triggers: int = -1
    exits: list[str] = field(default_factory=list)  # every ENTERED->EXITED reason
    log_text: str = ""


@dataclass
class Runs:
    by_kind: dict[str, Exit] = field(default_factory=lambda: {k: Exit() for k in KEYS})
    events: list[str] = field(default_factory=list)  # the in-process run's structural events
    failures: list[str] = field(default_factory=list)  # a run the test could not drive
    started: float = field(default_factory=time.monotonic)
    stages: list[str] = field(default_factory=list)  # "<s since start> <what>", for a failure

    def stage(self, what: str) -> None:
        wall = time.strftime("%H:%M:%S", time.gmtime())
        self.stages.append(f"{wall} +{time.monotonic() - self.started:.1f}s {what}")


def _protected(sim: SimThread, address: str) -> bool:
    """The venue holds the position with both its stop and its target resting."""
    return venue_position(sim, address, "BTC") != 0 and len(venue_triggers(sim, address)) == 2


def _flat(sim: SimThread, address: str) -> bool:
    return venue_position(sim, address, "BTC") == 0 and not venue_triggers(sim, address)


async def _blocking[T](fn: Callable[[], T]) -> T:
    """A blocking call (an admin request) off the node's loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn)


async def _until_protected(
    sim: SimThread, kind: str, result: Exit, stage: Callable[[str], None]
) -> None:
    """Wait until the venue shows the trade with its stop and target; record them."""
    address = ADDRESSES[kind]
    await wait_for(
        lambda: _protected(sim, address),
        ENTRY_TIMEOUT_SECS,
        f"the {kind} run's Cascade trade protected at the venue",
        poll_secs=0.1,
    )
    result.entered_position = float(venue_position(sim, address, "BTC"))
    low, high = sorted(venue_triggers(sim, address), key=lambda o: float(o["triggerPx"]))
    # A LONG: the stop below, the target above.
    result.stop_px, result.stop_oid = float(low["triggerPx"]), int(low["oid"])
    result.target_px, result.target_oid = float(high["triggerPx"]), int(high["oid"])
    stage(f"{kind} protected")


async def _until_flat(
    sim: SimThread, kind: str, result: Exit, stage: Callable[[str], None]
) -> None:
    address = ADDRESSES[kind]
    await wait_for(lambda: _flat(sim, address), EXIT_TIMEOUT_SECS, f"the {kind} run flat")
    stage(f"{kind} flat")
    result.final_position = float(venue_position(sim, address, "BTC"))
    result.final_triggers = len(venue_triggers(sim, address))
    fills = venue_info(sim, {"type": "userFills", "user": address})
    result.closing_oids = {int(f["oid"]) for f in fills if f["dir"] == "Close Long"}


async def _drive_target(sim: SimThread, result: Exit, stage: Callable[[str], None]) -> None:
    await _until_protected(sim, "target", result, stage)
    px = result.target_px * 1.003
    result.driven = await _blocking(lambda: sim_mark(sim.base_url, "BTC", px=px))
    await _until_flat(sim, "target", result, stage)


async def _drive_stop(sim: SimThread, result: Exit, stage: Callable[[str], None]) -> None:
    await _until_protected(sim, "stop", result, stage)
    px = result.stop_px * 0.997
    result.driven = await _blocking(lambda: sim_mark(sim.base_url, "BTC", px=px, book=False))
    await _until_flat(sim, "stop", result, stage)


def _book_subscribed(sim: SimThread) -> bool:
    """Whether a client (the run's node) listens to the simulator's BTC book."""
    assert sim.server is not None
    hub = sim.server.venue.hub
    return bool(sim.call(lambda: hub.keys_of_type("l2Book|BTC|")))


async def _schedules_released_once_all_subscribed(
    sims: dict[str, SimThread], stage: Callable[[str], None]
) -> None:
    """Wait until every run's node subscribes to its simulator's BTC book, then release each
    simulator's held schedule, so that every node watches the whole trend whatever its boot
    took."""
    subscribed: set[str] = set()

    def all_subscribed() -> bool:  # each one's time in the stages (which one never did)
        for kind, sim in sims.items():
            if kind not in subscribed and _book_subscribed(sim):
                subscribed.add(kind)
                stage(f"{kind} node subscribed")
        return len(subscribed) == len(sims)

    await wait_for(
        all_subscribed,
        NODE_BOOT_TIMEOUT_SECS,
        "every run's node subscribed to its simulator's BTC book",
        poll_secs=0.2,
    )
    for sim in sims.values():
        sim.release_schedule()
    stage("schedules released")


def _start_child(sim: SimThread, kind: str, log_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, sim.base_url, str(log_dir), json.dumps(CONFIG_KWARGS)],
        cwd=REPO_ROOT,
        env={**os.environ, KEY_ENV: KEYS[kind]},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_child(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=10)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    result = Runs()
    log_dirs = {kind: tmp_path_factory.mktemp(f"cascade_{kind}") for kind in KEYS}
    sims = {
        kind: SimThread(SimConfig(coins=("BTC",), scenario=SCHEDULE, seed=SEED, hold_schedule=True))
        for kind in KEYS
    }
    children: list[subprocess.Popen[bytes]] = []
    env = pytest.MonkeyPatch()
    env.setenv(KEY_ENV, KEYS["invalidation"])
    try:
        for kind, sim in sims.items():
            sim.start()
            sim.fund(ADDRESSES[kind], 100_000)
        result.stage("simulators started")
        children = [_start_child(sims[k], k, log_dirs[k]) for k in ("target", "stop")]
        sim = sims["invalidation"]
        inval = result.by_kind["invalidation"]
        config = rulebook_sim_config(sim.base_url, log_dirs["invalidation"], **CONFIG_KWARGS)
        node = build_node(config, new_event_loop())
        assert sim.server is not None
        engine = sim.server.venue.engine

        def cascade() -> Cascade:
            (found,) = [s for s in node.trader.strategies() if isinstance(s, Cascade)]
            return found

        def oi_drop_armed() -> bool:
            (builder,) = [a for a in node.trader.actors() if isinstance(a, MarketStateBuilder)]
            return builder._detector.is_armed(StructuralEventKind.OI_DROP)

        def on_event(event: StructuralEvent) -> None:
            state = cascade().last_state
            flow = (
                ""
                if state is None
                else (f" 5s buy {state.aggr_buy_usd_5s:.0f} sell {state.aggr_sell_usd_5s:.0f}")
            )
            result.events.append(
                f"{time.monotonic() - result.started:.1f}s {event.kind} {event.side} "
                f"{event.value:.3g} {cascade().state}{flow}"
            )

        async def drive_invalidation() -> None:
            await _until_protected(sim, "invalidation", inval, result.stage)
            c = cascade()
            assert c.state == StrategyStatus.ENTERED, c.transitions
            # Away from the stop (the trade must not end by it while the detector re-arms).
            ctx = await _blocking(lambda: sim.call(lambda: engine.asset_ctx("BTC")))
            mid = float(ctx["midPx"])
            lift = mid + (inval.target_px - mid) / 3
            inval.driven["lift"] = await _blocking(lambda: sim_mark(sim.base_url, "BTC", px=lift))
            # Open interest keeps falling after the sell-off (liquidations, closes), at times
            # near the detector's re-arm level (a drop under 4 % in 10 s): left alone, the node's
            # OI_DROP stayed disarmed for 1-48 s. The sellers' opening flow lifts open interest,
            # which re-arms it; a flow whose 5 s window passes before both show is sent again.
            inval.driven["flows"] = []
            for attempt in range(1, FLOW_ATTEMPTS + 1):
                ctx = await _blocking(lambda: sim.call(lambda: engine.asset_ctx("BTC")))
                oi_usd = float(ctx["openInterest"]) * float(ctx["markPx"])
                flow_usd = FLOW_OPEN_SHARE * oi_usd
                open_flow = functools.partial(
                    sim_open_interest, sim.base_url, "BTC", flow_usd, aggressor="sell"
                )
                inval.driven["flows"].append(await _blocking(open_flow))

                def ready(flow_usd: float = flow_usd) -> bool:
                    state = c.last_state
                    return (
                        oi_drop_armed()
                        and state is not None
                        and state.aggr_sell_usd_5s >= 0.9 * flow_usd  # sizes round down
                        and state.aggr_sell_usd_5s > state.aggr_buy_usd_5s
                    )

                try:
                    await wait_for(
                        ready, 4, "the node's OI_DROP re-armed and its state showing the selling"
                    )
                    break
                except AssertionError:
                    if attempt == FLOW_ATTEMPTS:
                        raise
            result.stage(f"invalidation OI_DROP re-armed, selling seen (flow {attempt})")
            close_usd = -DROP_CLOSE_SHARE * oi_usd
            inval.driven["drop"] = await _blocking(
                lambda: sim_open_interest(sim.base_url, "BTC", close_usd, aggressor="sell")
            )
            await _until_flat(sim, "invalidation", inval, result.stage)
            await wait_for(
                lambda: any(b == "EXITED" for _, b, _ in c.transitions), 10, "EXITED recorded"
            )

        async def scenario() -> None:
            result.stage("in-process node running")
            try:
                await _schedules_released_once_all_subscribed(sims, result.stage)
            except AssertionError as exc:  # told with the stages: which nodes did subscribe
                result.failures = [repr(exc)]
                return
            node.kernel.msgbus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), on_event)
            outcomes = await asyncio.gather(
                _drive_target(sims["target"], result.by_kind["target"], result.stage),
                _drive_stop(sims["stop"], result.by_kind["stop"], result.stage),
                drive_invalidation(),
                return_exceptions=True,
            )
            inval.exits = [
                r for a, b, r in cascade().transitions if (a, b) == ("ENTERED", "EXITED")
            ]
            result.failures = [repr(o) for o in outcomes if isinstance(o, BaseException)]

        run_node(
            node,
            scenario,
            timeout_secs=NODE_BOOT_TIMEOUT_SECS + ENTRY_TIMEOUT_SECS + 3 * EXIT_TIMEOUT_SECS,
        )
    finally:
        for child in children:
            _stop_child(child)
        for sim in sims.values():
            sim.stop()
        env.undo()
    for kind in KEYS:
        run = result.by_kind[kind]
        run.log_text = read_logs(log_dirs[kind])
        if kind != "invalidation":
            run.exits = EXITED_LINE.findall(run.log_text)
    if result.failures:  # what each run's Cascade and its gate did, read when the driving gave up
        lines = [*result.failures, "stages:", *result.stages]
        for kind, run in result.by_kind.items():
            lines.append(f"{kind} run:")
            lines += [
                line[11:]  # without the date
                for line in run.log_text.splitlines()
                if "Cascade-CBTC BTC-USD-PERP" in line or "Gate Cascade-CBTC" in line
            ]
        lines += ["in-process structural events:", *result.events]
        # Only the story, no traceback of this fixture: CI shows a failure's output in part.
        pytest.fail("\n".join(lines), pytrace=False)
    print("stages:", *result.stages, sep="\n")
    yield result


def _exited_once(run: Exit) -> str:
    assert len(run.exits) == 1, (run.exits, run.log_text[-3000:])
    return run.exits[0]


def _assert_flat(run: Exit) -> None:
    assert run.entered_position > 0  # LONG after the long squeeze
    assert run.final_position == 0.0
    assert run.final_triggers == 0


def test_the_target_closes_the_trade(runs: Runs) -> None:
    run = runs.by_kind["target"]
    assert run.driven["mark"] >= run.target_px, run.driven
    assert _exited_once(run) == "flat: target"
    _assert_flat(run)
    assert run.closing_oids == {run.target_oid}  # the take-profit resting at the venue


def test_the_stop_closes_the_trade(runs: Runs) -> None:
    run = runs.by_kind["stop"]
    assert run.driven["mark"] <= run.stop_px, run.driven
    assert run.driven["mid"] > run.stop_px, run.driven  # the book (and mid) stayed above it
    assert _exited_once(run) == "flat: stop"
    _assert_flat(run)
    assert run.closing_oids == {run.stop_oid}  # the stop resting at the venue


def test_a_further_oi_drop_with_selling_closes_the_trade_at_market(runs: Runs) -> None:
    run = runs.by_kind["invalidation"]
    reason = _exited_once(run)
    assert reason.startswith("flat: invalidated: further OI_DROP -"), reason
    assert reason.endswith("in the cascade's direction"), reason
    assert run.driven["lift"]["mark"] < run.target_px  # lifted, never to the target
    _assert_flat(run)
    # Closed at market by the node, not by either protective order resting at the venue.
    assert run.closing_oids
    assert not run.closing_oids & {run.stop_oid, run.target_oid}, run.closing_oids
