"""Every /info answer and /exchange response has the venue's shape (fixtures), plus content."""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator.conformance import FRONTEND_ORDER_NULLABLE_KEYS
from simulator.engine import SimEngine
from simulator.errors import InfoRequestError
from simulator.specs import DEFAULT_COINS

HOUR = 3_600_000


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


def test_exchange_response_shapes(kit: Any, engine: SimEngine, alice: Any, bob: Any) -> None:
    resting = alice.order("ETH", True, "2400", "0.1")
    bob.order("ETH", False, "2500", "1")
    filled = alice.order("ETH", True, "2500", "0.1", "Ioc")
    error = alice.order("ETH", True, "2500", "0.001")
    oid = resting["response"]["data"]["statuses"][0]["resting"]["oid"]
    cancel = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})
    cancel_error = alice.l1({"type": "cancel", "cancels": [{"a": 1, "o": oid}]})
    default = alice.l1({"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 3})

    kit.assert_same_shape(resting, kit.load_fixture("exchange_order_resting.json"))
    kit.assert_same_shape(filled, kit.load_fixture("exchange_order_filled_docs.json"))
    kit.assert_same_shape(error, kit.load_fixture("exchange_order_error.json"))
    kit.assert_same_shape(cancel, kit.load_fixture("exchange_cancel_success.json"))
    kit.assert_same_shape(cancel_error, kit.load_fixture("exchange_cancel_error.json"))
    assert default == kit.load_fixture("exchange_default_ok.json")


def test_l2_book_aggregates_with_sig_figs_and_mantissa(
    kit: Any, engine: SimEngine, bob: Any
) -> None:
    for px in ("79991", "79985", "79949", "79900"):
        bob.order("BTC", True, px, "0.001")
    for px in ("80001", "80012", "80049"):
        bob.order("BTC", False, px, "0.001")

    four = engine.l2_book("BTC", n_sig_figs=4)
    five_by_five = engine.l2_book("BTC", n_sig_figs=5, mantissa=5)

    # 4 significant figures on ~80000: buckets of 10; bids round down, asks round up.
    assert four["levels"] == [
        [
            {"px": "79990.0", "sz": "0.001", "n": 1},
            {"px": "79980.0", "sz": "0.001", "n": 1},
            {"px": "79940.0", "sz": "0.001", "n": 1},
            {"px": "79900.0", "sz": "0.001", "n": 1},
        ],
        [
            {"px": "80010.0", "sz": "0.001", "n": 1},
            {"px": "80020.0", "sz": "0.001", "n": 1},
            {"px": "80050.0", "sz": "0.001", "n": 1},
        ],
    ]
    assert [lvl["px"] for lvl in five_by_five["levels"][0]] == [
        "79990.0",
        "79985.0",
        "79945.0",
        "79900.0",
    ]
    two = engine.info({"type": "l2Book", "coin": "BTC", "nSigFigs": 2}, kit.T0)
    assert two["levels"][0] == [{"px": "79000.0", "sz": "0.004", "n": 4}]
    assert two["levels"][1] == [{"px": "81000.0", "sz": "0.003", "n": 3}]
    with pytest.raises(InfoRequestError):
        engine.info({"type": "l2Book", "coin": "BTC", "nSigFigs": 4, "mantissa": 2}, kit.T0)


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


def _session(kit: Any) -> tuple[list[str], list[str]]:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(kit.T0)
    alice = kit.Trader(engine, "0x" + "a1" * 32)
    bob = kit.Trader(engine, "0x" + "b2" * 32)
    engine.credit_usdc(alice.address, 5_000.0)
    engine.credit_usdc(bob.address, 5_000.0)
    outputs = [
        bob.order("ETH", False, "2500", "1"),
        alice.order("ETH", True, "2500", "0.4", "Ioc"),
        alice.order("ETH", True, "2450", "0.2"),
    ]
    engine.set_oracle_px("ETH", 2300.0, kit.T0 + 10)
    engine.tick(kit.T0 + 2 * HOUR)
    outputs.append(engine.info({"type": "clearinghouseState", "user": alice.address}, kit.T0))
    events = [repr(e) for e in engine.drain_events()]
    return [json.dumps(o) for o in outputs], events


def test_same_actions_give_byte_identical_outputs_and_events(kit: Any) -> None:
    first = _session(kit)
    second = _session(kit)

    assert first == second
    assert len(first[1]) > 5
