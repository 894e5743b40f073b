"""Cost of one order placement in the simulator's venue core (signature recovery + matching).

Prints one JSON object as its last line: p50/p99 microseconds per /exchange order call for a
resting order and for a crossing (filling) order, plus cancel, and the share of the cost spent
recovering the signer. The server needs placements well under 1-2 ms to meet a 5 ms round trip.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

from eth_account import Account
from hyperliquid.utils.signing import sign_l1_action

from simulator.engine import SimEngine
from simulator.signatures import recover_l1
from simulator.specs import DEFAULT_COINS

T0 = 1_760_000_000_000
N = 1000


def _body(wallet: Any, action: dict[str, Any], nonce: int) -> dict[str, Any]:
    signature = sign_l1_action(wallet, action, None, nonce, None, False)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


def _order(is_buy: bool, px: str, tif: str) -> dict[str, Any]:
    wire = {"a": 1, "b": is_buy, "p": px, "s": "0.01", "r": False, "t": {"limit": {"tif": tif}}}
    return {"type": "order", "orders": [wire], "grouping": "na"}


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def main() -> None:
    """Sign bodies up front (client cost), then time only the engine."""
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(T0)
    maker = Account.from_key("0x" + "a1" * 32)
    taker = Account.from_key("0x" + "b2" * 32)
    engine.credit_usdc(maker.address.lower(), 1e9)
    engine.credit_usdc(taker.address.lower(), 1e9)
    # A realistic book: 200 resting asks at distinct prices behind the ones we hit.
    for i in range(200):
        engine.place_internal_order("0x" + "77" * 20, "ETH", False, 2600.0 + i, 1.0, now_ms=T0)
    engine.credit_usdc("0x" + "77" * 20, 1e9)

    resting = [_body(maker, _order(False, "2550", "Gtc"), T0 + i) for i in range(N)]
    crossing = [_body(taker, _order(True, "2550", "Ioc"), T0 + i) for i in range(N)]
    resting_us: list[float] = []
    crossing_us: list[float] = []
    for i in range(N):
        start = time.perf_counter()
        engine.exchange(resting[i], T0 + N)
        resting_us.append((time.perf_counter() - start) * 1e6)
        start = time.perf_counter()
        engine.exchange(crossing[i], T0 + N)
        crossing_us.append((time.perf_counter() - start) * 1e6)
        engine.drain_events()
    recover_us: list[float] = []
    for body in resting[:200]:
        start = time.perf_counter()
        recover_l1(body["action"], body["nonce"], None, None, False, body["signature"])
        recover_us.append((time.perf_counter() - start) * 1e6)
    rest_p50, rest_p99 = _percentiles(resting_us)
    cross_p50, cross_p99 = _percentiles(crossing_us)
    result = {
        "bench": "sim_engine_order",
        "orders": N,
        "resting_order_us_p50": round(rest_p50, 1),
        "resting_order_us_p99": round(rest_p99, 1),
        "crossing_order_us_p50": round(cross_p50, 1),
        "crossing_order_us_p99": round(cross_p99, 1),
        "signature_recovery_us_p50": round(statistics.median(recover_us), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
