"""The engine's memory stays bounded: order history, fills and the 24 h volume window have caps.

Caps are lowered for the test (module constants) so that a few dozen signed orders cross them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from simulator import accounts as accounts_module
from simulator.accounts import BACKGROUND_HISTORY_KEPT
from simulator.accounts import FILLS_KEPT
from simulator.accounts import ORDERS_KEPT
from simulator.engine import SimEngine
from simulator.events import UserFill
from simulator.market import LivingMarket
from simulator.specs import DEFAULT_COINS

T0 = 1_760_000_000_000


@pytest.fixture
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_module, "ORDERS_KEPT", 20)
    monkeypatch.setattr(accounts_module, "FILLS_KEPT", 15)


def _oid(response: dict[str, Any]) -> int:
    status = response["response"]["data"]["statuses"][0]
    entry = status.get("resting") or status.get("filled")
    assert entry is not None, status
    return int(entry["oid"])


def test_old_finished_orders_and_fills_are_forgotten_live_orders_never(
    small_caps: None, kit: Any
) -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(T0)
    alice = kit.Trader(engine, "0x" + "a1" * 32)
    bob = kit.Trader(engine, "0x" + "b2" * 32)
    engine.credit_usdc(alice.address, 100_000.0)
    engine.credit_usdc(bob.address, 100_000.0)
    resting = _oid(alice.order("BTC", True, "70000", "0.01"))  # alice's oldest order, live
    maker = _oid(bob.order("ETH", False, "2500", "5.0"))  # bob's, partly filled below
    takers = [_oid(alice.order("ETH", True, "2510", "0.01", "Ioc")) for _ in range(40)]

    engine.tick(T0 + 1_000)

    def status(user: str, oid: int) -> str:
        answer = engine.info({"type": "orderStatus", "user": user, "oid": oid}, T0 + 1_000)
        return str(answer["status"])

    assert len(engine.accounts[alice.address].history) <= 20 + 2  # cap + a tenth
    assert status(alice.address, resting) == "order"  # live: kept however old
    assert status(bob.address, maker) == "order"
    assert status(alice.address, takers[-1]) == "order"  # the newest finished ones are kept
    assert status(alice.address, takers[0]) == "unknownOid"  # the oldest are forgotten
    assert takers[0] not in engine.orders_by_oid
    fills = engine.info({"type": "userFills", "user": alice.address}, T0 + 1_000)
    assert len(fills) == 15
    assert fills[0]["oid"] == takers[-1]  # newest first, the oldest dropped
    # Cancelling the old live order still works after the pruning.
    cancel = alice.l1({"type": "cancel", "cancels": [{"a": 0, "o": resting}]}, T0 + 2_000)
    assert cancel["response"]["data"]["statuses"] == ["success"]


def test_the_24h_volume_window_holds_one_entry_per_venue_minute(kit: Any) -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(T0)
    alice = kit.Trader(engine, "0x" + "a1" * 32)
    bob = kit.Trader(engine, "0x" + "b2" * 32)
    engine.credit_usdc(alice.address, 100_000.0)
    engine.credit_usdc(bob.address, 100_000.0)
    bob.order("ETH", False, "2500", "5.0")
    start = T0 - T0 % 60_000
    for second in range(0, 180, 10):  # 18 trades over three venue minutes
        engine.tick(start + second * 1_000)
        alice.order("ETH", True, "2510", "0.01", "Ioc", now_ms=start + second * 1_000)

    window = engine.markets["ETH"].volume_window
    assert [entry[0] for entry in window] == [start, start + 60_000, start + 120_000]
    market = engine.markets["ETH"]
    assert sum(entry[2] for entry in window) == 18 * 10 ** (market.sz_decimals - 2)  # 18 x 0.01
    ctx = engine.info({"type": "metaAndAssetCtxs"}, start + 180_000)[1][1]
    assert float(ctx["dayNtlVlm"]) == pytest.approx(18 * 0.01 * 2500)


def test_the_simulators_own_traders_keep_a_short_history_users_the_venues() -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    coins = list(DEFAULT_COINS.values())[:2]
    market = LivingMarket(engine, coins, scenario="cascade", seed=3, activity=5.0)
    market.start(T0)
    fills_seen: Counter[str] = Counter()
    for step in range(1, 400):
        now = T0 + step * 250
        market.step(now)
        engine.tick(now)
        fills_seen.update(e.user for e in engine.drain_events() if isinstance(e, UserFill))

    busiest, seen = fills_seen.most_common(1)[0]
    account = engine.accounts[busiest]
    assert seen > 2 * BACKGROUND_HISTORY_KEPT  # the cap was crossed
    assert len(account.fills) <= BACKGROUND_HISTORY_KEPT
    assert account.fills.maxlen == BACKGROUND_HISTORY_KEPT
    finished = [o for o in account.history.values() if o.status not in ("open", "triggered")]
    assert len(finished) <= BACKGROUND_HISTORY_KEPT * 11 // 10
    engine.credit_usdc("0x" + "77" * 20, 1.0)  # a user's account: the venue's reach
    user = engine.accounts["0x" + "77" * 20]
    assert (user.fills.maxlen, user.orders_kept) == (FILLS_KEPT, ORDERS_KEPT)
