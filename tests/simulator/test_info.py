"""Every /info answer has the venue's shape (fixtures), plus content; agents and roles."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.conformance import FRONTEND_ORDER_NULLABLE_KEYS
from simulator.engine import SimEngine
from simulator.errors import InfoRequestError
from simulator.specs import DEFAULT_COINS

HOUR = 3_600_000
AGENT = "0x" + "1d" * 20
OTHER_AGENT = "0x" + "2e" * 20
SUB = "0x" + "3f" * 20
VAULT = "0x" + "4a" * 20
NOBODY = "0x" + "5b" * 20


@pytest.fixture
def busy(kit: Any, engine: SimEngine, alice: Any, bob: Any) -> SimEngine:
    """An engine with resting orders, fills with and without cloid, a position and funding."""
    bob.order("ETH", False, "2500", "2")
    bob.order("ETH", True, "2490", "2")
    alice.order("ETH", True, "2500", "1", "Ioc", cloid="0x0000000000000000000000000000002a")
    alice.order("ETH", True, "2500", "0.5", "Ioc")
    alice.order("ETH", True, "2400", "0.1")
    tp = kit.order_wire(1, False, "2700", "1", kit.trigger_type("2650", "tp"), True)
    alice.l1({"type": "order", "orders": [tp], "grouping": "na"})
    alice.order("ETH", True, "2400", "1", "Ioc", now_ms=kit.T0 + 1)  # iocCancelRejected
    engine.set_funding_rate("ETH", 0.0001)
    engine.tick((kit.T0 // HOUR + 1) * HOUR)
    return engine


def test_meta_and_asset_ctxs_shapes(kit: Any, busy: SimEngine) -> None:
    fixture = kit.load_fixture("info_metaAndAssetCtxs.json")

    meta, ctxs = busy.info({"type": "metaAndAssetCtxs"}, kit.T0)

    kit.assert_same_shape(meta["universe"], fixture[0]["universe"])
    assert [u["name"] for u in meta["universe"]] == list(DEFAULT_COINS)
    kit.assert_same_shape(ctxs, fixture[1])
    assert ctxs[1]["premium"] is not None and ctxs[1]["impactPxs"] is not None
    assert busy.info({"type": "meta"}, kit.T0) == meta


def test_spot_meta_has_at_least_the_captured_token_fields(kit: Any, busy: SimEngine) -> None:
    fixture = kit.load_fixture("info_spotMeta_tokens_excerpt.json")

    spot = busy.info({"type": "spotMeta"}, kit.T0)

    assert set(fixture["tokens"][0]) <= set(spot["tokens"][0])
    assert spot["universe"][0]["name"] == "PURR/USDC"
    meta, ctxs = busy.info({"type": "spotMetaAndAssetCtxs"}, kit.T0)
    assert meta == spot and ctxs[0]["coin"] == "PURR/USDC"


def test_all_mids_and_l2_book_shapes(kit: Any, busy: SimEngine) -> None:
    mids = busy.info({"type": "allMids"}, kit.T0)
    book = busy.info({"type": "l2Book", "coin": "ETH"}, kit.T0)

    assert all(isinstance(v, str) for v in mids.values())
    assert mids["ETH"] == "2495.0"
    kit.assert_same_shape(book, kit.load_fixture("info_l2Book.json"))


def test_candle_snapshot_shape_and_content(kit: Any, busy: SimEngine) -> None:
    body = {
        "type": "candleSnapshot",
        "req": {"coin": "ETH", "interval": "1m", "startTime": kit.T0 - 60_000, "endTime": kit.T0},
    }

    candles = busy.info(body, kit.T0)

    kit.assert_same_shape(candles, kit.load_fixture("info_candleSnapshot.json"))
    (candle,) = candles
    start = kit.T0 - kit.T0 % 60_000
    assert (candle["t"], candle["T"], candle["n"]) == (start, start + 59_999, 2)
    assert (candle["o"], candle["c"], candle["v"]) == ("2500.0", "2500.0", "1.5")


def test_clearinghouse_state_shapes(kit: Any, busy: SimEngine, alice: Any) -> None:
    empty = kit.load_fixture("info_clearinghouseState_empty.json")
    live = kit.load_fixture("ws_clearinghouseState.json")[0]["data"]["clearinghouseState"]

    state = busy.info({"type": "clearinghouseState", "user": alice.address}, kit.T0)
    nobody = busy.info({"type": "clearinghouseState", "user": "0x" + "0" * 40}, kit.T0)

    kit.assert_same_shape({**state, "assetPositions": []}, empty)
    kit.assert_same_shape(nobody, empty)
    kit.assert_same_shape(state["assetPositions"], live["assetPositions"])


def test_spot_clearinghouse_state_shape(kit: Any, busy: SimEngine, alice: Any) -> None:
    alice.usd_class_transfer("10", False, kit.T0 + 5)
    fixture = kit.load_fixture("ws_spotState.json")[0]["data"]["spotState"]

    state = busy.info({"type": "spotClearinghouseState", "user": alice.address}, kit.T0)

    kit.assert_same_shape(state["balances"], fixture["balances"])


def test_order_query_shapes(kit: Any, busy: SimEngine, alice: Any) -> None:
    basic = kit.load_fixture("ws_orderUpdates.json")[0]["data"][0]["order"]
    frontend = kit.load_fixture("ws_openOrders.json")[0]["data"]["orders"][0]
    basic_without_cloid = {k: v for k, v in basic.items() if k != "cloid"}

    open_orders = busy.info({"type": "openOrders", "user": alice.address}, kit.T0)
    front = busy.info({"type": "frontendOpenOrders", "user": alice.address}, kit.T0)
    history = busy.info({"type": "historicalOrders", "user": alice.address}, kit.T0)

    kit.assert_same_shape(open_orders, [basic_without_cloid])
    kit.assert_same_shape(front, [frontend], nullable=FRONTEND_ORDER_NULLABLE_KEYS)
    kit.assert_same_shape(
        history,
        kit.load_fixture("info_historicalOrders.json"),
        nullable=FRONTEND_ORDER_NULLABLE_KEYS,
    )
    assert [h["status"] for h in history][:1] == ["iocCancelRejected"]
    oid = open_orders[0]["oid"]
    status = busy.info({"type": "orderStatus", "user": alice.address, "oid": oid}, kit.T0)
    kit.assert_same_shape(
        status,
        kit.load_fixture("info_orderStatus_open.json"),
        nullable=FRONTEND_ORDER_NULLABLE_KEYS,
    )
    unknown = busy.info({"type": "orderStatus", "user": alice.address, "oid": 1}, kit.T0)
    assert unknown == kit.load_fixture("info_orderStatus_unknownOid.json")


def test_fill_shapes_with_and_without_cloid(kit: Any, busy: SimEngine, alice: Any) -> None:
    with_cloid = kit.load_fixture("info_userFills_with_cloid.json")
    without = kit.load_fixture("ws_userFills.json")[0]["data"]["fills"]

    fills = busy.info({"type": "userFills", "user": alice.address}, kit.T0)
    by_time = busy.info(
        {"type": "userFillsByTime", "user": alice.address, "startTime": kit.T0}, kit.T0
    )

    kit.assert_same_shape(fills[0], without[0])
    kit.assert_same_shape(fills[1], with_cloid[0])
    assert by_time == fills[::-1]


def test_funding_rate_limit_fees_and_trades_shapes(kit: Any, busy: SimEngine, alice: Any) -> None:
    later = kit.T0 + 2 * HOUR
    funding = busy.info({"type": "userFunding", "user": alice.address, "startTime": kit.T0}, later)
    history = busy.info({"type": "fundingHistory", "coin": "ETH", "startTime": kit.T0}, later)
    limit = busy.info({"type": "userRateLimit", "user": alice.address}, later)
    fees = busy.info({"type": "userFees", "user": alice.address}, later)
    trades = busy.info({"type": "recentTrades", "coin": "ETH"}, later)

    kit.assert_same_shape(funding, kit.load_fixture("info_userFunding.json"))
    kit.assert_same_shape(history, kit.load_fixture("info_fundingHistory.json"))
    kit.assert_same_shape(limit, kit.load_fixture("info_userRateLimit.json"))
    kit.assert_same_shape(fees, kit.load_fixture("info_userFees.json"))
    kit.assert_same_shape(trades, kit.load_fixture("ws_trades.json")[0]["data"])
    assert fees["userCrossRate"] == "0.00045" and fees["userAddRate"] == "0.00015"
    assert limit["nRequestsUsed"] == 5


def test_user_fills_by_time_pages_2000_at_a_time(kit: Any, engine: SimEngine) -> None:
    maker = kit.Trader(engine, "0x" + "9a" * 32)
    taker = kit.Trader(engine, "0x" + "9b" * 32)
    engine.credit_usdc(maker.address, 10_000_000.0)
    engine.credit_usdc(taker.address, 10_000_000.0)
    for i in range(2100):
        now = kit.T0 + i
        engine.place_internal_order(maker.address, "SOL", False, 150.0, 0.1, now_ms=now)
        engine.place_internal_order(taker.address, "SOL", True, 150.0, 0.1, "Ioc", now_ms=now)

    first = engine.info(
        {"type": "userFillsByTime", "user": taker.address, "startTime": kit.T0}, kit.T0 + 9999
    )
    second = engine.info(
        {"type": "userFillsByTime", "user": taker.address, "startTime": first[-1]["time"] + 1},
        kit.T0 + 9999,
    )
    window = engine.info(
        {
            "type": "userFillsByTime",
            "user": taker.address,
            "startTime": kit.T0 + 10,
            "endTime": kit.T0 + 19,
        },
        kit.T0 + 9999,
    )

    assert len(first) == 2000 and len(second) == 100
    assert [f["time"] for f in first + second] == [kit.T0 + i for i in range(2100)]
    assert [f["time"] for f in window] == [kit.T0 + 10 + i for i in range(10)]
    newest = engine.info({"type": "userFills", "user": taker.address}, kit.T0 + 9999)
    assert len(newest) == 2000 and newest[0]["time"] == kit.T0 + 2099


def test_bad_info_requests_raise(kit: Any, engine: SimEngine) -> None:
    for body in (
        {"type": "nope"},
        {"type": "l2Book", "coin": "NOPE"},
        {"type": "clearinghouseState", "user": "alice"},
        {"type": "userFillsByTime", "user": "0x" + "1" * 40},
    ):
        with pytest.raises(InfoRequestError):
            engine.info(body, kit.T0)


def test_extra_agents_lists_named_agents_with_valid_until_in_the_venue_shape(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    until = kit.T0 + 86_400_000
    assert alice.approve_agent(AGENT, f"bot1 valid_until {until}")["status"] == "ok"
    assert alice.approve_agent(OTHER_AGENT, "")["status"] == "ok"  # unnamed: not listed

    answer = engine.info({"type": "extraAgents", "user": alice.address}, kit.T0)

    kit.assert_same_shape(answer, kit.load_fixture("info_extraAgents.json"))
    assert answer == [{"name": "bot1", "address": AGENT, "validUntil": until}]


def test_extra_agents_gives_agents_without_expiry_a_far_future_valid_until(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    assert alice.approve_agent(AGENT, "forever")["status"] == "ok"

    (entry,) = engine.info({"type": "extraAgents", "user": alice.address}, kit.T0)

    assert isinstance(entry["validUntil"], int)
    assert entry["validUntil"] > kit.T0 + 100 * 365 * 86_400_000


def test_extra_agents_of_an_unknown_user_is_empty(kit: Any, engine: SimEngine) -> None:
    assert engine.info({"type": "extraAgents", "user": NOBODY}, kit.T0) == []


def test_user_role_of_an_account_an_agent_and_an_unknown_address(
    kit: Any, engine: SimEngine, alice: Any
) -> None:
    assert alice.approve_agent(AGENT, "")["status"] == "ok"

    def role(user: str) -> Any:
        return engine.info({"type": "userRole", "user": user}, kit.T0)

    assert role(alice.address) == {"role": "user"}
    assert role(AGENT) == {"role": "agent", "data": {"user": alice.address}}
    assert role(AGENT.upper().replace("0X", "0x")) == {
        "role": "agent",
        "data": {"user": alice.address},
    }
    assert role(NOBODY) == {"role": "missing"}


def test_user_role_of_an_expired_agent_is_missing(kit: Any, engine: SimEngine, alice: Any) -> None:
    until = kit.T0 + 1_000
    assert alice.approve_agent(AGENT, f"short valid_until {until}")["status"] == "ok"

    before = engine.info({"type": "userRole", "user": AGENT}, until - 1)
    after = engine.info({"type": "userRole", "user": AGENT}, until)

    assert before == {"role": "agent", "data": {"user": alice.address}}
    assert after == {"role": "missing"}


def test_user_role_of_a_vault_and_a_sub_account(kit: Any, engine: SimEngine, alice: Any) -> None:
    engine.add_sub_account(alice.address, SUB)
    engine.add_vault(alice.address, VAULT)

    vault = engine.info({"type": "userRole", "user": VAULT}, kit.T0)
    sub = engine.info({"type": "userRole", "user": SUB}, kit.T0)

    kit.assert_same_shape(vault, kit.load_fixture("info_userRole.json"))
    assert vault == {"role": "vault"}
    assert sub == {"role": "subAccount", "data": {"master": alice.address}}
