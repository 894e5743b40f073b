"""End-to-end: orders placed outside the node end in the node's cache in the venue's final state.

A trader places orders on the same account from elsewhere (the web UI, another bot): the test
signs them itself and posts them to the simulator's /exchange. A counter-party inside the venue
(`engine.place_internal_order`) fills them; the test cancels them from outside too. The node
learns of them only from its user streams. Truth is the simulator's engine, never the client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

import pytest
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
from adapters.hyperliquid.signing import address_from_private_key
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import file_logging
from jarvis.testkit import fresh_rate_limiter
from jarvis.testkit import fund_test_account
from jarvis.testkit import hyperliquid_exec_client
from jarvis.testkit import post_signed_action
from jarvis.testkit import read_logs
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import unexpected_log_lines
from jarvis.testkit import venue_info
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

KEY = "0x" + "8d" * 32
KEY_ENV = "JARVIS_TEST_HL_KEY_EXTERNAL"
ADDRESS = address_from_private_key(KEY)
COUNTERPARTY = "0x" + "9e" * 20
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
# The node reports what it learns about external orders at WARN level, on purpose.
ALLOWED_WARNINGS = (
    r"placed outside this node",
    r"ended at the venue",
    r"reconciliation",
    r"Reconcil",
    r"quotes? ",
    r"[Ss]tale",
    r"book",
    r"Residual Position",  # the external fills leave a position open when the node stops
    r"Orders are UNPROTECTED: dead-man switch disabled",  # this node runs without the switch
    r"Health limit loosened by config override: gate_enabled",  # this test turns the gate off
)


@dataclass
class Record:
    """What the scenario saw: venue oids, the node's cache orders and the venue's statuses."""

    oids: dict[str, int] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    venue: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: Any = None
    external_finals: int = 0
    venue_fills: int = 0
    log_problems: list[str] = field(default_factory=list)


def post_outside(base_url: str, action: dict[str, Any]) -> Any:
    """An action signed with the account's key by another client, not the node.

    The nonce offset keeps clear of the nonces the node itself signs with at the same moment.
    """
    return post_signed_action(base_url, KEY, action, nonce_offset_ms=50_000)


def place_outside(base_url: str, px: int, sz: str, tif: str = "Gtc") -> Any:
    """A BTC buy placed outside the node (no cloid: the node cannot know it)."""
    order = {"a": 0, "b": True, "p": str(px), "s": sz, "r": False, "t": {"limit": {"tif": tif}}}
    return post_outside(base_url, {"type": "order", "orders": [order], "grouping": "na"})


def counter_order(sim: SimThread, is_buy: bool, px: int, sz: float, tif: str) -> dict[str, Any]:
    """An order of another market participant, placed inside the venue."""
    assert sim.server is not None
    venue = sim.server.venue

    def place() -> dict[str, Any]:
        now = venue.clock.now_ms()
        status = venue.engine.place_internal_order(
            COUNTERPARTY, "BTC", is_buy, float(px), sz, tif=tif, now_ms=now
        )
        venue._drain(now)  # publish the fills and order updates it caused
        return status

    return sim.call(place)


def venue_order(sim: SimThread, oid: int) -> dict[str, Any]:
    """The venue's orderStatus entry of one of the account's orders."""
    answer = venue_info(sim, {"type": "orderStatus", "user": ADDRESS, "oid": oid})
    assert answer["status"] == "order", answer
    return dict(answer["order"])


def oid_of(answer: Any) -> int:
    """The oid in an order answer (resting or filled)."""
    (status,) = answer["response"]["data"]["statuses"]
    placed = status.get("resting") or status.get("filled")
    assert placed is not None, answer
    return int(placed["oid"])


@pytest.fixture(scope="module")
def record(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Record]:
    """One node session: a partly filled then cancelled order, a fully filled one and a
    partly filled IOC (its remainder cancelled by the venue at once), all placed outside."""
    log_dir = tmp_path_factory.mktemp("external")
    result = Record()
    with (
        pytest.MonkeyPatch.context() as patch,
        fresh_rate_limiter(),
        SimThread(SimConfig(coins=("BTC",), market=False, seed=5)) as sim,
    ):
        patch.setenv(KEY_ENV, KEY)
        fund_test_account(sim, ADDRESS, 100_000)
        sim.fund(COUNTERPARTY, 1_000_000)
        ctx = venue_info(sim, {"type": "metaAndAssetCtxs"})[1][0]
        px = int(Decimal(ctx["oraclePx"]))
        exec_config = HyperliquidExecClientConfig(
            http_url=sim.base_url,
            coins=("BTC",),
            private_key_env=KEY_ENV,
            dead_man_switch_secs=0.0,
            dead_man_switch_required=False,
            account_refresh_interval_secs=0.0,
        )
        data_config = data_client_config(
            sim.base_url,
            ("BTC",),
            health=HyperliquidFeedHealthConfig(gate_enabled=False, loosen=("gate_enabled",)),
        )
        config = sim_node_config(
            data_config,
            exec_client=exec_config,
            logging=file_logging(log_dir, "external"),
            exec_engine=LiveExecEngineConfig(reconciliation=True),
        )
        node = build_sim_node(config)
        base_url = sim.base_url

        async def outside(fn: Any, *args: Any) -> Any:
            return await asyncio.get_running_loop().run_in_executor(None, fn, base_url, *args)

        def cached(name: str) -> Order | None:
            oid = result.oids.get(name)
            if oid is None:
                return None
            return node.kernel.cache.order(ClientOrderId(f"HL-{oid}"))

        def reached(name: str, status: OrderStatus, filled: str) -> bool:
            order = cached(name)
            return (
                order is not None
                and order.status == status
                and order.filled_qty.as_decimal() == Decimal(filled)
            )

        async def scenario() -> None:
            # 1) Rests outside, partly filled inside the venue, then cancelled outside.
            result.oids["cancelled"] = oid_of(await outside(place_outside, px, "0.03"))
            counter_order(sim, False, px, 0.01, "Ioc")
            await wait_for(
                lambda: reached("cancelled", OrderStatus.PARTIALLY_FILLED, "0.01"),
                10,
                "the partial fill of the external order",
            )
            cancel = {"type": "cancel", "cancels": [{"a": 0, "o": result.oids["cancelled"]}]}
            answer = await outside(post_outside, cancel)
            assert answer["response"]["data"]["statuses"] == ["success"], answer
            await wait_for(
                lambda: reached("cancelled", OrderStatus.CANCELED, "0.01"),
                10,
                "the external order cancelled in the cache",
            )
            # 2) Rests outside, filled in two parts inside the venue.
            result.oids["filled"] = oid_of(await outside(place_outside, px, "0.02"))
            counter_order(sim, False, px, 0.01, "Ioc")
            counter_order(sim, False, px, 0.01, "Ioc")
            await wait_for(
                lambda: reached("filled", OrderStatus.FILLED, "0.02"),
                10,
                "the external order filled in the cache",
            )
            # 3) An IOC placed outside that matches 0.01 of 0.03: the venue cancels the rest at
            # once, so the node learns of the order and of its end together.
            counter_order(sim, False, px, 0.01, "Gtc")
            result.oids["ioc"] = oid_of(await outside(place_outside, px, "0.03", "Ioc"))
            await wait_for(
                lambda: reached("ioc", OrderStatus.CANCELED, "0.01"),
                10,
                "the external IOC cancelled in the cache",
            )
            client = hyperliquid_exec_client(node)
            external_oids = set(result.oids.values())
            venue_fills = [
                f
                for f in venue_info(sim, {"type": "userFills", "user": ADDRESS})
                if f["oid"] in external_oids
            ]
            await wait_for(  # every venue fill of them reached the client and was followed up
                lambda: (
                    client.counters.external_fills >= len(venue_fills)
                    and client.external_orders.pending == 0
                ),
                10,
                "the external orders' follow-up to finish",
            )
            result.venue_fills = len(venue_fills)
            for name in result.oids:
                order = cached(name)
                assert order is not None
                result.orders[name] = order
            result.counters = client.counters
            result.external_finals = client.external_orders.finals

        run_node(node, scenario, timeout_secs=60)
        for name, oid in result.oids.items():
            result.venue[name] = venue_order(sim, oid)
        assert os.environ.get(KEY_ENV) == KEY
    result.log_problems = unexpected_log_lines(read_logs(log_dir), ALLOWED_WARNINGS)
    yield result


def _venue_filled(entry: dict[str, Any]) -> Decimal:
    return Decimal(entry["order"]["origSz"]) - Decimal(entry["order"]["sz"])


def test_external_order_cancelled_after_a_partial_fill_ends_canceled_with_the_venue_fill(
    record: Record,
) -> None:
    order = record.orders["cancelled"]
    venue = record.venue["cancelled"]
    assert venue["status"] == "canceled"
    assert order.status == OrderStatus.CANCELED
    assert order.filled_qty.as_decimal() == _venue_filled(venue) == Decimal("0.01")
    assert order.quantity.as_decimal() == Decimal("0.03")


def test_fully_filled_external_order_ends_filled(record: Record) -> None:
    order = record.orders["filled"]
    assert record.venue["filled"]["status"] == "filled"
    assert order.status == OrderStatus.FILLED
    assert order.filled_qty.as_decimal() == Decimal("0.02")


def test_external_ioc_whose_rest_the_venue_cancelled_ends_canceled_with_its_fill(
    record: Record,
) -> None:
    order = record.orders["ioc"]
    venue = record.venue["ioc"]
    assert venue["status"] == "canceled"
    assert order.status == OrderStatus.CANCELED
    assert order.filled_qty.as_decimal() == _venue_filled(venue) == Decimal("0.01")


def test_each_external_end_is_reported_once_and_nothing_goes_wrong(record: Record) -> None:
    assert record.external_finals == 2  # the fully filled order ends by its fills
    assert record.counters.external_fills == record.venue_fills == 4
    assert record.log_problems == []
