"""Order submission cost of the Hyperliquid execution client.

Two figures, both for a resting LIMIT GTC order handed to the client as NautilusTrader's
`SubmitOrder` (the client's `_submit_order` coroutine, i.e. what the execution engine runs):

* ``internal_us``: from the command to the signed `/exchange` body encoded as JSON bytes (order
  mapping, cloid, nonce, EIP-712 signing, `OrderSubmitted`, body encoding): the HTTP transport is
  replaced by a stub that encodes the body exactly as `HyperliquidHttpClient.exchange` does and
  answers ``resting`` at once. Target p50 <= 300 us.
* ``round_trip_ms``: the same command against the local simulator over loopback HTTP, until the
  client emits `OrderAccepted` with the venue oid.

Prints ONE JSON object as the last line.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from decimal import Decimal
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId

from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.factories import build_exec_client
from adapters.hyperliquid.schemas.exchange import EXCHANGE_JSON_ENCODER
from adapters.hyperliquid.schemas.exchange import EXCHANGE_RESPONSE_DECODER
from adapters.hyperliquid.signing import address_from_private_key
from simulator.app import SimConfig
from simulator.app import SimThread

PRIVATE_KEY = "0x" + "3d" * 32
BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
INTERNAL_ORDERS = 3_000
ROUND_TRIP_ORDERS = 300
TARGET_INTERNAL_P50_US = 300.0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _run(base_url: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    clock = LiveClock()
    trader_id = TraderId("BENCH-001")
    msgbus = MessageBus(trader_id, clock)
    cache = Cache()
    for endpoint in ("ExecEngine.process", "Portfolio.update_account"):
        msgbus.register(endpoint, lambda _msg: None)
    config = HyperliquidExecClientConfig(
        http_url=base_url, coins=("BTC",), dead_man_switch_secs=0, dead_man_switch_required=False
    )
    client = build_exec_client(loop, msgbus, cache, clock, config, private_key=PRIVATE_KEY)
    await client.instrument_provider.load_once()
    for instrument in client._provider.list_all():
        client._builder.add_instrument(instrument)
        client._instruments[instrument.raw_symbol.value] = instrument
        cache.add_instrument(instrument)
    instrument = cache.instrument(BTC)
    assert instrument is not None
    factory = OrderFactory(trader_id, StrategyId("BENCH-001"), clock)
    qty = instrument.make_qty(Decimal("0.001"))
    price = instrument.make_price(Decimal("60000"))  # far below the market: rests

    def command() -> SubmitOrder:
        order = factory.limit(BTC, OrderSide.BUY, qty, price)
        cache.add_order(order)
        return SubmitOrder(
            trader_id=trader_id,
            strategy_id=order.strategy_id,
            order=order,
            command_id=UUID4(),
            ts_init=clock.timestamp_ns(),
        )

    # --- internal cost: command -> encoded signed body --------------------------------------
    oids = itertools.count(1)
    wire_done: list[int] = []

    async def stub_exchange(body: Any) -> Any:
        EXCHANGE_JSON_ENCODER.encode(body)
        wire_done.append(time.perf_counter_ns())
        oid = next(oids)
        return EXCHANGE_RESPONSE_DECODER.decode(
            b'{"status":"ok","response":{"type":"order","data":{"statuses":'
            b'[{"resting":{"oid":%d}}]}}}' % oid
        )

    real_exchange = client._http.exchange
    client._http.exchange = stub_exchange  # type: ignore[method-assign]
    internal: list[float] = []
    for i in range(INTERNAL_ORDERS + 200):
        cmd = command()
        start = time.perf_counter_ns()
        await client._submit_order(cmd)
        if i >= 200:  # warm-up excluded
            internal.append((wire_done[-1] - start) / 1_000)

    # --- round trip to the simulator's acknowledgement ---------------------------------------
    client._http.exchange = real_exchange  # type: ignore[method-assign]
    accepted_at: list[int] = []
    real_accepted = client.generate_order_accepted

    def record_accepted(*args: Any, **kwargs: Any) -> None:
        accepted_at.append(time.perf_counter_ns())
        real_accepted(*args, **kwargs)

    client.generate_order_accepted = record_accepted  # type: ignore[method-assign]
    round_trip: list[float] = []
    for i in range(ROUND_TRIP_ORDERS + 20):
        cmd = command()
        before = len(accepted_at)
        start = time.perf_counter_ns()
        await client._submit_order(cmd)
        if len(accepted_at) == before:
            raise RuntimeError(f"order {i} was not accepted by the simulator")
        if i >= 20:
            round_trip.append((accepted_at[-1] - start) / 1_000_000)
    await client._http.close()
    return {
        "benchmark": "exec_submit",
        "internal_us": {
            "p50": round(statistics.median(internal), 1),
            "p99": round(_pct(internal, 0.99), 1),
            "n": len(internal),
        },
        "round_trip_ms": {
            "p50": round(statistics.median(round_trip), 3),
            "p99": round(_pct(round_trip, 0.99), 3),
            "n": len(round_trip),
        },
        "target_internal_p50_us": TARGET_INTERNAL_P50_US,
        "internal_p50_within_target": statistics.median(internal) <= TARGET_INTERNAL_P50_US,
    }


def main() -> None:
    """Run both measurements against a local simulator and print the JSON line."""
    with SimThread(SimConfig(coins=("BTC",), market=True)) as sim:
        sim.fund(address_from_private_key(PRIVATE_KEY), 10_000_000)
        result = asyncio.run(_run(sim.base_url))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
