"""
Geometry's invalidations while ENTERED, on the simulator: each closes the position at market at
once (the emergency exit's reduce-only IOC), without waiting for the venue stop.

One quiet simulator and one node from config/sim_strategies.toml (BTC, 20 s "15 min" windows,
2 s regime confirmation: config, not code). ``GeometryDriver`` (the test kit) arms and enters a
trade the way the market would; the simulator's admin controls then shape the market to trigger
one invalidation per trade:

1. DEPTH_THINNING of the defended side (``/admin/book-shape``: that side's makers pull 80 %);
2. the mid beyond the frozen edge by more than the buffer (the market is paused from the entry
   on, so its random walk cannot carry the mark to the stop; the oracle then jumps past the stop
   level: the makers requote there, but the mark, the median of oracle, bid and ask, only moves
   to the touch the book had (refilled first: the driver's entry sweep had consumed it), so the
   venue stop has not fired: the node's own invalidation must close it);
3. OI_SURGE (``/admin/open-interest``: the passive holders double the open interest by trades
   inside the spread; the test config's surge threshold is 90 % in 10 s).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.signing import address_from_private_key
from controllers.protocol import StrategyStatus
from jarvis.node import build_node
from jarvis.testkit import Driver
from jarvis.testkit import DriverConfig
from jarvis.testkit import GeometryDriver
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import geometry_sim_config
from jarvis.testkit import new_event_loop
from jarvis.testkit import read_logs
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import sim_book_shape
from jarvis.testkit import sim_mid
from jarvis.testkit import sim_node_config
from jarvis.testkit import sim_open_interest
from jarvis.testkit import venue_info
from jarvis.testkit import venue_position
from jarvis.testkit import venue_triggers
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from strategies.executor import IntentExecutor
from strategies.intents import IntentOutcome
from strategies.intents import IntentOutcomeKind

KEY_ENV = "HYPERLIQUID_SIM_PRIVATE_KEY"
KEY = "0x" + "7c" * 32
ADDRESS = address_from_private_key(KEY).lower()
TAKER_KEY = "0x" + "3d" * 32
TAKER = address_from_private_key(TAKER_KEY).lower()
S = StrategyStatus
STOP_BUFFER_BPS = 15.0


@dataclass
class Run:
    """What the scenario observed."""

    exits: list[str] = field(default_factory=list)
    stops_resting_at_invalidation: list[int] = field(default_factory=list)
    final_position: Decimal = Decimal(1)
    final_triggers: list[dict[str, Any]] = field(default_factory=list)
    log_text: str = ""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    log_dir = tmp_path_factory.mktemp("geometry_invalidations")
    result = Run()
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, KEY)
        with SimThread(SimConfig(coins=("BTC",), scenario="quiet", seed=44)) as sim:
            sim.fund(ADDRESS, 100_000)
            sim.fund(TAKER, 5_000_000)
            config = geometry_sim_config(sim.base_url, log_dir, stop_buffer_bps=STOP_BUFFER_BPS)
            node = build_node(config, new_event_loop())
            drive = GeometryDriver(sim, node, TAKER_KEY)
            url = sim.base_url

            async def closed_by_invalidation(trade_again: bool = True) -> None:
                result.stops_resting_at_invalidation.append(len(venue_triggers(sim, ADDRESS)))
                await wait_for(drive.state_is(S.COOLDOWN), 15, "COOLDOWN after the exit")
                result.exits.append(drive.strategy().transitions[-2][2])
                if trade_again:
                    await wait_for(drive.state_is(S.SCANNING), 15, "SCANNING after cooldown")

            async def scenario() -> None:
                await wait_for(drive.state_is(S.SCANNING), 90, "SIDEWAYS and Geometry SCANNING")

                # 1. The defended side thins.
                await drive.trade(ADDRESS)
                long = drive.is_long()
                sim_book_shape(url, "BTC", *((0.2, 1.0) if long else (1.0, 0.2)))
                await closed_by_invalidation()
                sim_book_shape(url, "BTC", 1.0, 1.0)

                # 2. The mid runs past the frozen edge: paused from the entry on, the ladder
                # refilled (see GeometryDriver.trade), so the mark (the venue stop's trigger)
                # only reaches the refilled touch, short of the stop; only the node's
                # invalidation can close.
                try:
                    await drive.trade(ADDRESS, pause_when_entered=True)
                    levels = drive.strategy().levels
                    edge = levels.get("low") if drive.is_long() else levels.get("high")
                    beyond = edge * (1 - 0.003 if drive.is_long() else 1 + 0.003)
                    sim.set_oracle("BTC", beyond)
                    await closed_by_invalidation()
                finally:
                    await sim_admin_async(url, "fault/resume-market")

                # 3. Open interest doubles within seconds.
                await drive.trade(ADDRESS)
                ctx = venue_info(sim, {"type": "metaAndAssetCtxs"})[1][0]
                oi_usd = float(ctx["openInterest"]) * float(ctx["markPx"])
                sim_open_interest(url, "BTC", oi_usd * 1.2)
                # The last trade: no SCANNING wait, since the surge itself may move the regime
                # off SIDEWAYS during the cooldown (then Geometry goes DISABLED instead).
                await closed_by_invalidation(trade_again=False)

                await wait_for(lambda: not venue_triggers(sim, ADDRESS), 10, "nothing resting")
                result.final_position = venue_position(sim, ADDRESS, "BTC")
                result.final_triggers = venue_triggers(sim, ADDRESS)

            run_node(node, scenario, timeout_secs=240)
    result.log_text = read_logs(log_dir)
    yield result


def test_each_invalidation_closes_at_market_with_its_reason(run: Run) -> None:
    assert len(run.exits) == 3, run.log_text[-3000:]
    thinning, beyond, surge = run.exits
    assert thinning.startswith("flat: invalidated: DEPTH_THINNING of the defended"), thinning
    assert beyond.startswith("flat: invalidated: mid "), beyond
    assert f"by > {STOP_BUFFER_BPS:g} bps" in beyond
    assert surge.startswith("flat: invalidated: OI_SURGE +"), surge


def test_the_venue_stop_was_resting_when_each_invalidation_hit(run: Run) -> None:
    # The exit did not wait for the stop: it was still resting when the market was shaped.
    assert run.stops_resting_at_invalidation == [2, 2, 2]


def test_every_invalidation_exit_is_a_reduce_only_market_close(run: Run) -> None:
    attempts = [line for line in run.log_text.splitlines() if "Emergency exit attempt 1/" in line]
    assert len(attempts) == 3, attempts
    assert all(" IOC @ " in line for line in attempts)


def test_the_node_ends_flat_with_nothing_resting(run: Run) -> None:
    assert run.final_position == 0
    assert run.final_triggers == []


# --- the emergency exit in a thin book ---------------------------------------------------------

THIN_KEY = "0x" + "5b" * 32
THIN_ADDRESS = address_from_private_key(THIN_KEY).lower()
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
EXIT_STEPS_BPS = (25.0, 50.0, 100.0, 200.0, 400.0)
POSITION_USD = 20_000.0


class ExitDriver(Driver):
    """The test kit's hand-driven strategy with the rulebook's intent executor attached."""

    def __init__(self, config: DriverConfig) -> None:
        super().__init__(config)
        self.executor: IntentExecutor | None = None
        self.outcomes: list[IntentOutcome] = []

    def on_order_event(self, event: OrderEvent) -> None:
        super().on_order_event(event)
        if self.executor is not None:
            self.executor.on_order_event(event)

    def on_position_event(self, event: Any) -> None:
        if self.executor is not None:
            self.executor.on_position_event(event)


@dataclass
class ThinRun:
    exit_orders: list[tuple[str, str, str]] = field(default_factory=list)  # qty, filled, status
    outcome: str = ""
    position_before: Decimal = Decimal(0)
    final_position: Decimal = Decimal(1)


@pytest.fixture(scope="module")
def thin(tmp_path_factory: pytest.TempPathFactory) -> ThinRun:
    """A long position on the ``thin`` scenario, the bids then pulled to a few hundred USD a
    level (``/admin/book-shape``), and the executor's emergency exit run once."""
    log_dir = tmp_path_factory.mktemp("thin_exit")
    result = ThinRun()
    with pytest.MonkeyPatch.context() as env:
        env.setenv(KEY_ENV, THIN_KEY)
        with SimThread(SimConfig(coins=("BTC",), scenario="thin", seed=12)) as sim:
            sim.fund(THIN_ADDRESS, 100_000)
            config = sim_node_config(
                data_client_config(sim.base_url, ("BTC",)),
                exec_client=HyperliquidExecClientConfig(
                    http_url=sim.base_url,
                    coins=("BTC",),
                    private_key_env=KEY_ENV,
                    leverage={"BTC": 10},
                    dead_man_switch_secs=0.0,
                    dead_man_switch_required=False,
                ),
                logging=file_logging(log_dir),
            )
            node = build_sim_node(config)
            driver = ExitDriver(DriverConfig(strategy_id="EXIT-001", instrument_id=BTC))
            node.trader.add_strategy(driver)

            async def scenario() -> None:
                cache = node.kernel.cache
                instrument = cache.instrument(BTC)
                assert instrument is not None
                executor = IntentExecutor(
                    driver, instrument, driver.outcomes.append, EXIT_STEPS_BPS
                )
                driver.executor = executor
                qty = instrument.make_qty(POSITION_USD / sim_mid(sim))
                driver.submit_order(driver.order_factory.market(BTC, OrderSide.BUY, qty))
                await wait_for(lambda: executor.position_qty() > 0, 10, "the long position")
                result.position_before = venue_position(sim, THIN_ADDRESS, "BTC")
                sim_book_shape(sim.base_url, "BTC", bid_mult=0.02)

                def bids_thin() -> bool:
                    quote = cache.quote_tick(BTC)
                    return (
                        quote is not None and float(quote.bid_size) * float(quote.bid_price) < 2_000
                    )

                await wait_for(bids_thin, 5, "the thin bids in the node's quotes")
                executor.emergency_exit("test: close a position bigger than the bids")
                await wait_for(
                    lambda: (
                        bool(driver.outcomes)
                        and driver.outcomes[-1].kind
                        in (IntentOutcomeKind.EXITED, IntentOutcomeKind.EXIT_FAILED)
                    ),
                    20,
                    "the exit's outcome",
                )
                result.outcome = driver.outcomes[-1].kind.value
                exits = [
                    o for o in cache.orders(strategy_id=driver.id) if o.tags and "exit" in o.tags
                ]
                result.exit_orders = [
                    (str(o.quantity), str(o.filled_qty), o.status_string()) for o in exits
                ]
                result.final_position = venue_position(sim, THIN_ADDRESS, "BTC")

            run_node(node, scenario, quotes_of=BTC, timeout_secs=60)
    return result


def test_thin_book_emergency_exit_is_flat_within_its_bounded_attempts(thin: ThinRun) -> None:
    assert thin.position_before > 0
    first_qty, first_filled, _ = thin.exit_orders[0]
    # The first reduce-only order only partly filled: the bids held less than the position.
    assert 0 < Decimal(first_filled) < Decimal(first_qty), thin.exit_orders
    assert thin.outcome == "EXITED", thin.exit_orders
    assert thin.final_position == 0
    assert 2 <= len(thin.exit_orders) <= len(EXIT_STEPS_BPS), thin.exit_orders
    # No attempt was sized from a stale position (the venue refuses a reduce-only order that
    # would open the other way): each waited for the previous one's fills.
    assert all(status != "REJECTED" for _, _, status in thin.exit_orders), thin.exit_orders
