"""End to end: user templates compiled from intents survive a restart without repeating orders.

Each node runs against its own simulator with a Redis-backed cache (a unique trader id per test,
its keys deleted afterwards), as a real node does. The strategy configs come from the intent
compiler, on a snapshot of the simulator's own metadata. Truth comes from the simulator's engine.

* DCA: a node stopped after two of four buys, then restarted with state saving OFF (as after a
  crash: ``on_save`` never ran), finishes with exactly four fills at the venue — progress is
  rebuilt from the strategy's own orders in the cache, never from scratch.
* PriceLimit: a node whose strategy never ran ``on_stop`` (killed) leaves its leg resting; the
  restarted node adopts that order (same venue oid) instead of placing a second one.
* PriceLimit, a graceful restart with state saving ON (as ``jarvis serve --nodes`` runs its
  nodes): the stop cancels the leg and saves it as withdrawn; the restarted node rests it again.
* TWAP: a node killed after its first slice leaves the primary unsliced in the cache; the
  restarted node ends it and sends the rest, in slices of the same size: the venue sees exactly
  the slices of one TWAP.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis
from nautilus_trader.config import CacheConfig
from nautilus_trader.config import DatabaseConfig
from nautilus_trader.config import ImportableExecAlgorithmConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.signing import address_from_private_key
from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.plan import Plan
from intents.schema import DCAIntent
from intents.schema import Intent
from intents.schema import PriceLimitIntent
from intents.schema import Side
from intents.schema import TWAPIntent
from intents.venue import snapshot_from_meta_and_ctxs
from jarvis.intent_cli import TWAP_ALGORITHM
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import venue_info
from jarvis.testkit import venue_open_orders
from jarvis.testkit import venue_position
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread
from strategies.templates.dca import DCA
from strategies.templates.price_limit import PriceLimit
from strategies.templates.twap import TWAPTemplate

KEY = "0x" + "5d" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_TEMPLATES_RESTART"
ADDRESS = address_from_private_key(KEY).lower()
ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")


@pytest.fixture(autouse=True)
def key_in_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(KEY_ENV, KEY)
    with fresh_rate_limiter():
        yield


@pytest.fixture
def trader_id() -> Iterator[str]:
    """A unique trader id; its Redis keys are deleted afterwards (only ours)."""
    tid = f"TPLRS-{uuid.uuid4().hex[:8].upper()}"
    yield tid
    client = redis.Redis(host="127.0.0.1", port=6379)
    keys = list(client.scan_iter(match=f"trader-{tid}:*"))
    if keys:
        client.delete(*keys)


def compile_on(sim: SimThread, intent: Intent) -> Plan:
    """The compiler's plan for ``intent`` on the simulator's own metadata."""
    payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
    snapshot = snapshot_from_meta_and_ctxs(payload, source="sim", taken_at_ms=0)
    return compile_intent(intent, snapshot, UserProfile(), now_ms=0)


def build(
    sim: SimThread, log_dir: Path, name: str, trader_id: str, plan: Plan, *, save: bool
) -> TradingNode:
    """A node with the Hyperliquid clients, a Redis cache and the plan's strategy."""
    base: TradingNodeConfig = sim_node_config(
        data_client_config(
            sim.base_url,
            ("ETH",),
            health=HyperliquidFeedHealthConfig(gate_enabled=False, loosen=("gate_enabled",)),
        ),
        exec_client=HyperliquidExecClientConfig(
            http_url=sim.base_url,
            coins=("ETH",),
            private_key_env=KEY_ENV,
            account_refresh_interval_secs=0.5,
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
            watchdog_interval_secs=0.5,
        ),
        logging=file_logging(log_dir, name, level_file="INFO"),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True, reconciliation_startup_delay_secs=0.5
        ),
    )
    config = msgspec.structs.replace(
        base,
        trader_id=trader_id,
        cache=CacheConfig(
            database=DatabaseConfig(type="redis", host="127.0.0.1", port=6379),
            flush_on_start=False,
        ),
        save_state=save,
        load_state=save,
        strategies=[plan.strategy_config],
        exec_algorithms=[ImportableExecAlgorithmConfig(**TWAP_ALGORITHM)],
    )
    return build_sim_node(config)


def _eth_mark(sim: SimThread) -> Decimal:
    """The simulator's ETH mark price (its only coin here)."""
    payload = venue_info(sim, {"type": "metaAndAssetCtxs"})
    return Decimal(payload[1][0]["markPx"])


def venue_fills(sim: SimThread) -> list[dict[str, Any]]:
    return [
        f for f in venue_info(sim, {"type": "userFills", "user": ADDRESS}) if f["coin"] == "ETH"
    ]


def the_strategy[T](node: TradingNode, cls: type[T]) -> T:
    (strategy,) = [s for s in node.trader.strategies() if isinstance(s, cls)]
    return strategy


def test_dca_restarted_after_a_crash_finishes_its_count_without_buying_twice(
    tmp_path: Path, trader_id: str
) -> None:
    intent = DCAIntent(coin="ETH", order_notional_usd=Decimal(15), order_count=4, interval_secs=3)
    with SimThread(SimConfig(coins=("ETH",), seed=11)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = compile_on(sim, intent)
        node = build(sim, tmp_path, "first", trader_id, plan, save=False)
        dca = the_strategy(node, DCA)

        async def two_buys() -> None:
            await wait_for(lambda: dca.progress.done >= 2, 30, "two DCA buys")

        run_node(node, two_buys, quotes_of=ETH)
        fills_after_first = len({f["oid"] for f in venue_fills(sim)})
        node = build(sim, tmp_path, "second", trader_id, plan, save=False)
        dca = the_strategy(node, DCA)
        seen: dict[str, Any] = {}

        async def finish() -> None:
            await wait_for(lambda: dca.is_running, 10, "the strategy to start")
            seen["resumed_at"] = dca.progress.done
            await wait_for(
                lambda: dca.progress.done >= 4 and dca.progress.in_flight is None,
                40,
                "the DCA to finish",
            )
            seen["orders"] = len(node.kernel.cache.orders(strategy_id=dca.id))

        run_node(node, finish, quotes_of=ETH)
        oids = {f["oid"] for f in venue_fills(sim)}
        position = venue_position(sim, ADDRESS, "ETH")
    assert fills_after_first in (2, 3)  # stopped during the third interval at the latest
    assert seen["resumed_at"] == fills_after_first
    assert len(oids) == 4
    assert seen["orders"] == 4
    assert position > 0


def test_price_limit_leg_left_resting_by_a_killed_node_is_adopted_not_placed_again(
    tmp_path: Path, trader_id: str
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=12)) as sim:
        sim.fund(ADDRESS, 100_000)
        mark = _eth_mark(sim)
        buy_px = (mark * Decimal("0.9")).quantize(Decimal(1))
        intent = PriceLimitIntent(
            coin="ETH",
            buy_price_usd=buy_px,
            size_coin=Decimal("0.01"),
            cancel_above_price_usd=(mark * Decimal("1.5")).quantize(Decimal(1)),
        )
        plan = compile_on(sim, intent)
        node = build(sim, tmp_path, "first", trader_id, plan, save=False)
        first = the_strategy(node, PriceLimit)
        # A killed node never runs on_stop: the leg stays at the venue.
        first.on_stop = lambda: None  # type: ignore[method-assign]

        async def rest() -> None:
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 1, 20, "the leg")

        run_node(node, rest, quotes_of=ETH)
        (resting,) = venue_open_orders(sim, ADDRESS)
        node = build(sim, tmp_path, "second", trader_id, plan, save=False)
        second = the_strategy(node, PriceLimit)
        seen: dict[str, Any] = {}

        async def observe() -> None:
            await wait_for(lambda: second._placed, 20, "the first quote after restart")
            seen["orders"] = [
                o.venue_order_id.value if o.venue_order_id else None
                for o in node.kernel.cache.orders(strategy_id=second.id)
            ]
            seen["venue"] = [o["oid"] for o in venue_open_orders(sim, ADDRESS)]
            seen["leg"] = second.saved.legs["BUY"]

        run_node(node, observe, quotes_of=ETH)
        after_stop = venue_open_orders(sim, ADDRESS)
    assert seen["venue"] == [resting["oid"]]
    assert seen["orders"] == [str(resting["oid"])]
    assert not seen["leg"].finished
    assert after_stop == []  # the restarted strategy's own stop cancelled what it owns


def test_price_limit_leg_cancelled_by_a_graceful_stop_rests_again_after_the_restart(
    tmp_path: Path, trader_id: str
) -> None:
    with SimThread(SimConfig(coins=("ETH",), seed=14)) as sim:
        sim.fund(ADDRESS, 100_000)
        intent = PriceLimitIntent(
            coin="ETH", buy_price_usd=(_eth_mark(sim) * Decimal("0.9")).quantize(Decimal(1)),
            size_coin=Decimal("0.01"),
        )  # fmt: skip
        plan = compile_on(sim, intent)
        node = build(sim, tmp_path, "first", trader_id, plan, save=True)

        async def rest() -> None:
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 1, 20, "the leg")

        run_node(node, rest, quotes_of=ETH)  # a graceful stop: its stop cancels the leg
        after_stop = venue_open_orders(sim, ADDRESS)
        node = build(sim, tmp_path, "second", trader_id, plan, save=True)
        second = the_strategy(node, PriceLimit)
        seen: dict[str, Any] = {}

        def statuses() -> list[str]:
            return [o.status_string() for o in node.kernel.cache.orders(strategy_id=second.id)]

        async def rests_again() -> None:
            # The venue rests it, then the node hears it was accepted.
            await wait_for(lambda: len(venue_open_orders(sim, ADDRESS)) == 1, 20, "the leg again")
            await wait_for(lambda: statuses()[-1:] == ["ACCEPTED"], 10, "its acceptance")
            leg = second.saved.legs["BUY"]
            seen["leg"] = (leg.finished, leg.withdrawn)
            seen["orders"] = statuses()

        run_node(node, rests_again, quotes_of=ETH)
        fills = venue_fills(sim)
    assert fills == []  # never filled
    assert after_stop == []
    assert seen["leg"] == (False, False)
    assert seen["orders"] == ["CANCELED", "ACCEPTED"]  # the first leg's order, then the new one


def test_twap_restarted_after_a_crash_sends_the_rest_of_its_slices_once(
    tmp_path: Path, trader_id: str
) -> None:
    intent = TWAPIntent(
        coin="ETH", side=Side.BUY, notional_usd=Decimal(45), horizon_secs=12, interval_secs=4
    )
    with SimThread(SimConfig(coins=("ETH",), seed=13)) as sim:
        sim.fund(ADDRESS, 100_000)
        plan = compile_on(sim, intent)
        node = build(sim, tmp_path, "first", trader_id, plan, save=False)
        first = the_strategy(node, TWAPTemplate)
        # A killed node never runs on_stop: the primary stays in the cache, not sliced further.
        first.on_stop = lambda: None  # type: ignore[method-assign]

        async def first_slice() -> None:
            await wait_for(lambda: len(venue_fills(sim)) >= 1, 20, "the first slice")

        run_node(node, first_slice, quotes_of=ETH)
        slices_before = {f["oid"]: Decimal(f["sz"]) for f in venue_fills(sim)}
        node = build(sim, tmp_path, "second", trader_id, plan, save=False)
        second = the_strategy(node, TWAPTemplate)
        seen: dict[str, Any] = {}

        async def finish() -> None:
            await wait_for(lambda: second.is_running, 10, "the strategy to start")
            await wait_for(lambda: len(venue_fills(sim)) >= 3, 40, "the rest of the slices")
            primaries = [
                o
                for o in node.kernel.cache.orders(strategy_id=second.id)
                if o.exec_spawn_id == o.client_order_id
            ]
            seen["primaries"] = [o.status_string() for o in primaries]

        run_node(node, finish, quotes_of=ETH)
        slices = {f["oid"]: Decimal(f["sz"]) for f in venue_fills(sim)}
        position = venue_position(sim, ADDRESS, "ETH")
    assert plan.strategy_config.config["slices"] == 3
    assert len(slices_before) in (1, 2)  # stopped before the third slice
    assert len(slices) == 3  # the rest once: no slice sent twice, none lost
    assert len(set(slices.values())) == 1  # every slice the same size
    assert position == sum(slices.values())
    # The first node's primary ended by the second (it never reached the venue); the second's
    # primary went out as its last slice.
    assert seen["primaries"][0] == "CANCELED"
    assert seen["primaries"][-1] == "FILLED"
