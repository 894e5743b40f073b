"""Tests for the order builder: NautilusTrader orders -> exact Hyperliquid wires -> the simulator.

Every expected wire is written out by hand from the venue rules (PROTOCOL.md §3, §5.3). Each
action is then JSON-encoded, signed with the unmodified hyperliquid SDK (not the project's signer)
and sent to the simulator's pure engine, which must accept it with the expected status.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hyperliquid.utils.signing import sign_l1_action
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import ContingencyType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TrailingOffsetType
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import TraderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import LimitOrder
from nautilus_trader.model.orders import Order
from nautilus_trader.model.orders import StopMarketOrder
from nautilus_trader.test_kit.stubs.events import TestEventStubs

from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.order_builder import Denied
from adapters.hyperliquid.order_builder import HyperliquidAssetSpec
from adapters.hyperliquid.order_builder import HyperliquidOrderBuilder
from adapters.hyperliquid.order_builder import MarketReference
from adapters.hyperliquid.order_builder import cancel_action
from adapters.hyperliquid.order_builder import cancel_by_cloid_action
from adapters.hyperliquid.order_builder import schedule_cancel_action
from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.schemas.exchange import EXCHANGE_JSON_ENCODER
from adapters.hyperliquid.schemas.exchange import Action
from adapters.hyperliquid.schemas.exchange import OrderAction
from adapters.hyperliquid.schemas.info import decode_info_response
from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

T0 = 1_760_000_000_000
MAKER = "0x" + "99" * 20
BOOK = MarketReference(best_bid=Decimal("79990"), best_ask=Decimal("80010"))


class Venue:
    """A simulator with a BTC book (79990 / 80010, 1 BTC each) and a funded trader."""

    def __init__(self) -> None:
        self.engine = SimEngine(list(DEFAULT_COINS.values()))
        self.engine.tick(T0)
        self.now = T0
        meta = decode_info_response("meta", json.dumps(self.engine.info({"type": "meta"}, T0)))
        self.instruments: dict[str, Instrument] = {
            str(i.info["coin"]): i for i in parse_perp_instruments(meta, 0)
        }
        self.wallet: LocalAccount = Account.from_key("0x" + "a1" * 32)
        self.user = self.wallet.address.lower()
        self.engine.credit_usdc(self.user, 100_000.0)
        self.engine.credit_usdc(MAKER, 10_000_000.0)
        self.engine.place_internal_order(MAKER, "BTC", True, 79990.0, 1.0, now_ms=T0)
        self.engine.place_internal_order(MAKER, "BTC", False, 80010.0, 1.0, now_ms=T0)
        self._nonce = T0

    def send(self, action: Action) -> dict[str, Any]:
        """JSON-encode the action as the client will, sign it with the SDK, post it."""
        wire = json.loads(EXCHANGE_JSON_ENCODER.encode(action))
        self._nonce += 1
        signature = sign_l1_action(self.wallet, wire, None, self._nonce, None, False)
        body = {"action": wire, "nonce": self._nonce, "signature": signature, "vaultAddress": None}
        return self.engine.exchange(body, self.now)

    def statuses(self, action: Action) -> list[Any]:
        """Send and return the per-order statuses of an ok answer."""
        response = self.send(action)
        assert response["status"] == "ok", response
        return list(response["response"]["data"]["statuses"])

    def order_status(self, oid: int | str) -> dict[str, Any]:
        """The venue's orderStatus answer for an oid or cloid."""
        result: dict[str, Any] = self.engine.info(
            {"type": "orderStatus", "user": self.user, "oid": oid}, self.now
        )
        return result

    def position(self, coin: str) -> str:
        """The signed position size of the trader in `coin` ("0" when flat)."""
        state = self.engine.info({"type": "clearinghouseState", "user": self.user}, self.now)
        for item in state["assetPositions"]:
            if item["position"]["coin"] == coin:
                return str(item["position"]["szi"])
        return "0"


@pytest.fixture
def venue() -> Venue:
    return Venue()


@pytest.fixture
def builder(venue: Venue) -> HyperliquidOrderBuilder:
    built = HyperliquidOrderBuilder(max_slippage_bps=50)
    for instrument in venue.instruments.values():
        built.add_instrument(instrument)
    return built


@pytest.fixture
def factory() -> OrderFactory:
    return OrderFactory(TraderId("TRADER-001"), StrategyId("S-001"), TestClock())


@pytest.fixture
def btc(venue: Venue) -> InstrumentId:
    return venue.instruments["BTC"].id


def qty(text: str) -> Quantity:
    return Quantity.from_str(text)


def px(text: str) -> Price:
    return Price.from_str(text)


def cloid(order: Order) -> str:
    return cloid_from_client_order_id(order.client_order_id)


def wire_of(action: Action | Denied) -> dict[str, Any]:
    assert not isinstance(action, Denied), action
    result: dict[str, Any] = json.loads(EXCHANGE_JSON_ENCODER.encode(action))
    return result


def reason_of(result: object) -> str:
    assert isinstance(result, Denied), result
    return result.reason


def limit_type(tif: str) -> dict[str, Any]:
    return {"limit": {"tif": tif}}


def trigger(is_market: bool, trigger_px: str, tpsl: str) -> dict[str, Any]:
    return {"trigger": {"isMarket": is_market, "triggerPx": trigger_px, "tpsl": tpsl}}


def one_order(
    order: Order, asset: int, is_buy: bool, p: str, s: str, r: bool, t: dict[str, Any]
) -> dict[str, Any]:
    return {"a": asset, "b": is_buy, "p": p, "s": s, "r": r, "t": t, "c": cloid(order)}


def go_long(venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory) -> None:
    """Open a 0.01 BTC long with a market buy (taking the 80010 ask)."""
    buy = factory.market(venue.instruments["BTC"].id, OrderSide.BUY, qty("0.01000"))
    action = builder.submit_action(buy, BOOK)
    assert isinstance(action, OrderAction)
    assert "filled" in venue.statuses(action)[0]
    assert venue.position("BTC") == "0.01"


# --- spec ---------------------------------------------------------------------------------------


def test_asset_spec_is_read_from_the_provider_instrument(venue: Venue) -> None:
    spec = HyperliquidAssetSpec.from_instrument(venue.instruments["ETH"])
    assert spec == HyperliquidAssetSpec(coin="ETH", asset=1, sz_decimals=4, is_spot=False)


def test_slippage_cap_outside_zero_to_ten_thousand_bps_is_refused() -> None:
    with pytest.raises(ValueError, match="max_slippage_bps"):
        HyperliquidOrderBuilder(max_slippage_bps=0)
    with pytest.raises(ValueError, match="max_slippage_bps"):
        HyperliquidOrderBuilder(max_slippage_bps=10_000)


# --- MARKET -------------------------------------------------------------------------------------


def test_market_buy_is_an_ioc_limit_at_best_ask_plus_slippage_and_fills(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.market(btc, OrderSide.BUY, qty("0.01000"))

    action = builder.submit_action(order, BOOK)

    # 80010 * 1.005 = 80410.05 -> rounded toward the reference on the integer grid: 80410
    assert wire_of(action) == {
        "type": "order",
        "orders": [one_order(order, 0, True, "80410", "0.01", False, limit_type("Ioc"))],
        "grouping": "na",
    }
    assert isinstance(action, OrderAction)
    filled = venue.statuses(action)[0]["filled"]
    assert (filled["totalSz"], filled["avgPx"]) == ("0.01", "80010.0")


def test_market_sell_is_priced_from_best_bid_minus_slippage_rounded_up(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.market(btc, OrderSide.SELL, qty("0.01000"))

    action = builder.submit_action(order, BOOK)

    # 79990 * 0.995 = 79590.05 -> up (toward the reference): 79591
    assert wire_of(action)["orders"][0]["p"] == "79591"
    assert isinstance(action, OrderAction)
    assert venue.statuses(action)[0]["filled"]["avgPx"] == "79990.0"


def test_market_order_falls_back_to_the_mid_when_the_opposite_side_is_missing(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.market(btc, OrderSide.BUY, qty("0.01000"))

    action = builder.submit_action(order, MarketReference(best_bid=Decimal(1), mid=Decimal(2000)))

    assert wire_of(action)["orders"][0]["p"] == "2010"  # 2000 * 1.005


def test_market_order_without_any_price_reference_is_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.market(btc, OrderSide.BUY, qty("0.01000"))

    assert reason_of(builder.submit_action(order, None)) == (
        "no book or mid price for BTC yet to price a MARKET order (a slippage-capped IOC "
        "limit); wait for market data or submit a LIMIT order"
    )


# --- LIMIT --------------------------------------------------------------------------------------


def test_limit_gtc_buy_rounds_down_to_five_significant_figures_and_rests(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.5"))

    action = builder.submit_action(order)

    assert wire_of(action)["orders"] == [
        one_order(order, 0, True, "79000", "0.01", False, limit_type("Gtc"))
    ]
    assert isinstance(action, OrderAction)
    oid = venue.statuses(action)[0]["resting"]["oid"]
    assert venue.order_status(cloid(order))["order"]["order"]["oid"] == oid


def test_limit_sell_rounds_up_so_it_is_never_more_aggressive(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.SELL, qty("0.01000"), px("80500.5"))

    assert wire_of(builder.submit_action(order))["orders"][0]["p"] == "80501"


def test_limit_ioc_that_crosses_fills(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(
        btc, OrderSide.BUY, qty("0.02000"), px("80010.0"), time_in_force=TimeInForce.IOC
    )

    action = builder.submit_action(order)

    assert wire_of(action)["orders"][0]["t"] == limit_type("Ioc")
    assert isinstance(action, OrderAction)
    assert venue.statuses(action)[0]["filled"]["totalSz"] == "0.02"


def test_limit_ioc_that_cannot_match_gets_the_venue_ioc_error(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(
        btc, OrderSide.BUY, qty("0.01000"), px("79000.0"), time_in_force=TimeInForce.IOC
    )

    action = builder.submit_action(order)

    assert isinstance(action, OrderAction)
    assert venue.statuses(action) == [
        {"error": "Order could not immediately match against any resting orders. asset=0"}
    ]


def test_post_only_limit_is_alo_and_rests(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.SELL, qty("0.01000"), px("80500.0"), post_only=True)

    action = builder.submit_action(order)

    assert wire_of(action)["orders"] == [
        one_order(order, 0, False, "80500", "0.01", False, limit_type("Alo"))
    ]
    assert isinstance(action, OrderAction)
    assert "resting" in venue.statuses(action)[0]


def test_reduce_only_limit_sets_r_and_rests_against_a_position(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    go_long(venue, builder, factory)
    order = factory.limit(btc, OrderSide.SELL, qty("0.01000"), px("81000.0"), reduce_only=True)

    action = builder.submit_action(order)

    assert wire_of(action)["orders"] == [
        one_order(order, 0, False, "81000", "0.01", True, limit_type("Gtc"))
    ]
    assert isinstance(action, OrderAction)
    assert "resting" in venue.statuses(action)[0]


def test_reduce_only_order_below_min_value_is_not_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.SELL, qty("0.00010"), px("81000.0"), reduce_only=True)

    assert wire_of(builder.submit_action(order))["orders"][0]["s"] == "0.0001"


# --- triggers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_type", "side", "trigger_px", "limit_px", "wire_p", "wire_t"),
    [
        (
            OrderType.STOP_MARKET,
            OrderSide.SELL,
            "75000.5",
            None,
            "75001",
            trigger(True, "75001", "sl"),
        ),
        (
            OrderType.STOP_MARKET,
            OrderSide.BUY,
            "85000.5",
            None,
            "85000",
            trigger(True, "85000", "sl"),
        ),
        (
            OrderType.STOP_LIMIT,
            OrderSide.SELL,
            "75000.0",
            "74900.0",
            "74900",
            trigger(False, "75000", "sl"),
        ),
        (
            OrderType.MARKET_IF_TOUCHED,
            OrderSide.SELL,
            "85000.0",
            None,
            "85000",
            trigger(True, "85000", "tp"),
        ),
        (
            OrderType.LIMIT_IF_TOUCHED,
            OrderSide.BUY,
            "75000.0",
            "75100.0",
            "75100",
            trigger(False, "75000", "tp"),
        ),
    ],
)
def test_trigger_orders_map_to_tp_sl_triggers_and_rest_waiting(
    venue: Venue,
    builder: HyperliquidOrderBuilder,
    factory: OrderFactory,
    btc: InstrumentId,
    order_type: OrderType,
    side: OrderSide,
    trigger_px: str,
    limit_px: str | None,
    wire_p: str,
    wire_t: dict[str, Any],
) -> None:
    quantity = qty("0.01000")
    if order_type == OrderType.STOP_MARKET:
        order: Order = factory.stop_market(btc, side, quantity, px(trigger_px))
    elif order_type == OrderType.STOP_LIMIT:
        assert limit_px is not None
        order = factory.stop_limit(btc, side, quantity, px(limit_px), px(trigger_px))
    elif order_type == OrderType.MARKET_IF_TOUCHED:
        order = factory.market_if_touched(btc, side, quantity, px(trigger_px))
    else:
        assert limit_px is not None
        order = factory.limit_if_touched(btc, side, quantity, px(limit_px), px(trigger_px))

    action = builder.submit_action(order)

    is_buy = side == OrderSide.BUY
    assert wire_of(action)["orders"] == [one_order(order, 0, is_buy, wire_p, "0.01", False, wire_t)]
    assert isinstance(action, OrderAction)
    oid = venue.statuses(action)[0]["resting"]["oid"]
    status = venue.order_status(oid)["order"]
    assert (status["status"], status["order"]["isTrigger"]) == ("open", True)


def test_sell_stop_fires_when_the_mark_falls_and_closes_the_long(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    go_long(venue, builder, factory)
    stop = factory.stop_market(btc, OrderSide.SELL, qty("0.01000"), px("79995.0"), reduce_only=True)
    action = builder.submit_action(stop)
    assert isinstance(action, OrderAction)
    oid = venue.statuses(action)[0]["resting"]["oid"]

    venue.engine.set_mark_px("BTC", 80_005.0, T0)
    venue.engine.tick(T0 + 1)
    assert venue.order_status(oid)["order"]["status"] == "open"  # above the stop: not fired
    venue.engine.set_mark_px("BTC", 79_990.0, T0 + 2)
    venue.engine.tick(T0 + 3)

    assert venue.order_status(oid)["order"]["status"] == "filled"
    assert venue.position("BTC") == "0"


def test_sell_take_profit_fires_when_the_mark_rises(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    go_long(venue, builder, factory)
    take = factory.market_if_touched(
        btc, OrderSide.SELL, qty("0.01000"), px("80005.0"), reduce_only=True
    )
    action = builder.submit_action(take)
    assert isinstance(action, OrderAction)
    oid = venue.statuses(action)[0]["resting"]["oid"]

    venue.engine.set_mark_px("BTC", 80_000.0, T0)
    venue.engine.tick(T0 + 1)
    assert venue.order_status(oid)["order"]["status"] == "open"
    venue.engine.set_mark_px("BTC", 80_006.0, T0 + 2)
    venue.engine.tick(T0 + 3)

    assert venue.order_status(oid)["order"]["status"] == "filled"


# --- lists --------------------------------------------------------------------------------------


def test_bracket_with_market_entry_is_normal_tpsl_and_children_wait_for_trigger(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    bracket = factory.bracket(
        btc,
        OrderSide.BUY,
        qty("0.01000"),
        tp_price=px("85000.0"),
        sl_trigger_price=px("75000.0"),
    )
    entry, stop, take = bracket.orders

    action = builder.order_list_action(bracket.orders, {btc: BOOK})

    assert wire_of(action) == {
        "type": "order",
        "orders": [
            one_order(entry, 0, True, "80410", "0.01", False, limit_type("Ioc")),
            one_order(stop, 0, False, "75000", "0.01", True, trigger(True, "75000", "sl")),
            one_order(take, 0, False, "85000", "0.01", True, trigger(False, "85000", "tp")),
        ],
        "grouping": "normalTpsl",
    }
    assert isinstance(action, OrderAction)
    statuses = venue.statuses(action)
    assert statuses[0]["filled"]["totalSz"] == "0.01"
    assert statuses[1:] == ["waitingForTrigger", "waitingForTrigger"]


def test_bracket_with_resting_limit_entry_leaves_children_waiting_for_fill(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    bracket = factory.bracket(
        btc,
        OrderSide.SELL,
        qty("0.01000"),
        entry_order_type=OrderType.LIMIT,
        entry_price=px("80500.0"),
        tp_order_type=OrderType.MARKET_IF_TOUCHED,
        tp_trigger_price=px("76000.0"),
        sl_trigger_price=px("84000.0"),
    )
    entry, stop, take = bracket.orders

    action = builder.order_list_action(bracket.orders)

    assert wire_of(action)["orders"] == [
        one_order(entry, 0, False, "80500", "0.01", False, limit_type("Gtc")),
        one_order(stop, 0, True, "84000", "0.01", True, trigger(True, "84000", "sl")),
        one_order(take, 0, True, "76000", "0.01", True, trigger(True, "76000", "tp")),
    ]
    assert isinstance(action, OrderAction)
    statuses = venue.statuses(action)
    assert "resting" in statuses[0]
    assert statuses[1:] == ["waitingForFill", "waitingForFill"]


def _reduce_only_oco(
    factory: OrderFactory, btc: InstrumentId, *, reduce_only: bool = True
) -> list[Order]:
    tp_id = ClientOrderId("O-TP-1")
    sl_id = ClientOrderId("O-SL-1")
    common: dict[str, Any] = {
        "trader_id": factory.trader_id,
        "strategy_id": factory.strategy_id,
        "instrument_id": btc,
        "order_side": OrderSide.SELL,
        "quantity": qty("0.01000"),
        "init_id": UUID4(),
        "ts_init": 0,
        "reduce_only": reduce_only,
        "contingency_type": ContingencyType.OCO,
    }
    take = LimitOrder(
        client_order_id=tp_id, price=px("85000.0"), linked_order_ids=[sl_id], **common
    )
    stop = StopMarketOrder(
        client_order_id=sl_id,
        trigger_price=px("75000.0"),
        trigger_type=TriggerType.MARK_PRICE,
        linked_order_ids=[tp_id],
        **common,
    )
    return [take, stop]


def test_reduce_only_oco_pair_is_position_tpsl_and_rests(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    go_long(venue, builder, factory)
    take, stop = _reduce_only_oco(factory, btc)

    action = builder.order_list_action([take, stop])

    assert wire_of(action) == {
        "type": "order",
        "orders": [
            one_order(take, 0, False, "85000", "0.01", True, trigger(False, "85000", "tp")),
            one_order(stop, 0, False, "75000", "0.01", True, trigger(True, "75000", "sl")),
        ],
        "grouping": "positionTpsl",
    }
    assert isinstance(action, OrderAction)
    statuses = venue.statuses(action)
    assert all("resting" in status for status in statuses)
    assert venue.order_status(cloid(take))["order"]["order"]["isPositionTpsl"] is True


def test_orders_without_contingency_are_batched_as_na(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    eth = venue.instruments["ETH"].id
    bid = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    ask = factory.limit(eth, OrderSide.SELL, qty("0.0100"), px("2600.0"))

    action = builder.order_list_action([bid, ask])

    assert wire_of(action) == {
        "type": "order",
        "orders": [
            one_order(bid, 0, True, "79000", "0.01", False, limit_type("Gtc")),
            one_order(ask, 1, False, "2600", "0.01", False, limit_type("Gtc")),
        ],
        "grouping": "na",
    }
    assert isinstance(action, OrderAction)
    assert [list(s) for s in venue.statuses(action)] == [["resting"], ["resting"]]


# --- modify, cancel, dead-man switch ------------------------------------------------------------


def test_modify_by_oid_replaces_the_order_keeping_its_cloid(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    placed = builder.submit_action(order)
    assert isinstance(placed, OrderAction)
    old_oid = venue.statuses(placed)[0]["resting"]["oid"]

    action = builder.modify_action(order, venue_order_id=old_oid, price=px("79100.0"))

    assert wire_of(action) == {
        "type": "batchModify",
        "modifies": [
            {
                "oid": old_oid,
                "order": one_order(order, 0, True, "79100", "0.01", False, limit_type("Gtc")),
            }
        ],
    }
    assert not isinstance(action, Denied)
    new_oid = venue.statuses(action)[0]["resting"]["oid"]
    assert new_oid != old_oid
    assert venue.order_status(old_oid)["order"]["status"] == "canceled"
    current = venue.order_status(cloid(order))["order"]
    assert (current["order"]["oid"], current["order"]["limitPx"]) == (new_oid, "79100.0")


def test_modify_of_a_partially_filled_order_sends_the_remaining_size_by_cloid(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    order.apply(TestEventStubs.order_submitted(order))
    order.apply(TestEventStubs.order_accepted(order))
    order.apply(TestEventStubs.order_filled(order, venue.instruments["BTC"], last_qty=qty("0.004")))

    action = builder.modify_action(order, quantity=qty("0.02000"), trigger_price=None)

    assert wire_of(action)["modifies"] == [
        {
            "oid": cloid(order),
            "order": one_order(order, 0, True, "79000", "0.016", False, limit_type("Gtc")),
        }
    ]


def test_modify_to_a_quantity_not_above_the_filled_quantity_is_denied(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    order.apply(TestEventStubs.order_submitted(order))
    order.apply(TestEventStubs.order_accepted(order))
    order.apply(TestEventStubs.order_filled(order, venue.instruments["BTC"], last_qty=qty("0.004")))

    result = builder.modify_action(order, quantity=qty("0.00400"))

    assert reason_of(result) == (
        "new quantity 0.00400 is not above the filled quantity 0.00400; cancel the order instead"
    )


def test_modify_of_a_trigger_order_moves_the_trigger_price(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    stop = factory.stop_market(btc, OrderSide.SELL, qty("0.01000"), px("75000.0"))

    action = builder.modify_action(stop, venue_order_id=42, trigger_price=px("76000.0"))

    new_wire = one_order(stop, 0, False, "76000", "0.01", False, trigger(True, "76000", "sl"))
    assert wire_of(action)["modifies"] == [{"oid": 42, "order": new_wire}]


def test_cancel_by_oid_by_cloid_and_in_batch_are_accepted(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    orders = [
        factory.limit(btc, OrderSide.BUY, qty("0.01000"), px(f"{79000 + i}.0")) for i in range(3)
    ]
    action = builder.order_list_action(orders)
    assert isinstance(action, OrderAction)
    oids = [status["resting"]["oid"] for status in venue.statuses(action)]

    by_oid = cancel_action([(0, oids[0])])
    by_cloid = cancel_by_cloid_action([(0, cloid(orders[1]).upper().replace("0X", "0x"))])
    batch = cancel_action([(0, oids[2]), (0, oids[0])])

    assert wire_of(by_oid) == {"type": "cancel", "cancels": [{"a": 0, "o": oids[0]}]}
    assert wire_of(by_cloid) == {
        "type": "cancelByCloid",
        "cancels": [{"asset": 0, "cloid": cloid(orders[1])}],
    }
    assert venue.statuses(by_oid) == ["success"]
    assert venue.statuses(by_cloid) == ["success"]
    assert venue.statuses(batch) == [
        "success",
        {"error": "Order was never placed, already canceled, or filled. asset=0"},
    ]


def test_empty_cancel_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one order"):
        cancel_action([])


def test_schedule_cancel_sets_and_clears_the_dead_man_switch_and_cancels_on_expiry(
    venue: Venue, builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    venue.engine.credit_volume(venue.user, 1_000_000.0)  # the venue's dead-man switch gate
    order = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    placed = builder.submit_action(order)
    assert isinstance(placed, OrderAction)
    oid = venue.statuses(placed)[0]["resting"]["oid"]

    arm = schedule_cancel_action(T0 + 10_000, now_ms=T0)
    clear = schedule_cancel_action(None)

    assert wire_of(arm) == {"type": "scheduleCancel", "time": T0 + 10_000}
    assert wire_of(clear) == {"type": "scheduleCancel"}
    assert venue.send(clear) == {"status": "ok", "response": {"type": "default"}}
    assert venue.send(arm) == {"status": "ok", "response": {"type": "default"}}
    venue.engine.tick(T0 + 10_001)
    assert venue.order_status(oid)["order"]["status"] == "scheduledCancel"


def test_schedule_cancel_less_than_five_seconds_ahead_is_refused() -> None:
    with pytest.raises(ValueError, match="less than 5000 ms"):
        schedule_cancel_action(T0 + 4_999, now_ms=T0)


# --- denials ------------------------------------------------------------------------------------


def test_unsupported_time_in_force_is_denied_with_the_alternative(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    def limit(tif: TimeInForce) -> Order:
        expire = 1_800_000_000_000_000_000 if tif == TimeInForce.GTD else None
        return factory.limit(
            btc,
            OrderSide.BUY,
            qty("0.01000"),
            px("79000.0"),
            time_in_force=tif,
            expire_time=None if expire is None else _ns_to_datetime(expire),
        )

    assert reason_of(builder.submit_action(limit(TimeInForce.FOK))) == (
        "time in force FOK is not supported: Hyperliquid has no fill-or-kill; use IOC (fills "
        "what it can, cancels the rest) or a MARKET order"
    )
    assert reason_of(builder.submit_action(limit(TimeInForce.GTD))) == (
        "time in force GTD is not supported: Hyperliquid has no good-till-date; use GTC and "
        "cancel the order from a strategy timer"
    )
    assert reason_of(builder.submit_action(limit(TimeInForce.DAY))) == (
        "time in force DAY is not supported: Hyperliquid has no trading day; use GTC and cancel "
        "the order from a strategy timer"
    )


def _ns_to_datetime(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, tz="UTC")


def test_trailing_stop_is_denied_pointing_to_the_order_emulator(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.trailing_stop_market(
        btc,
        OrderSide.SELL,
        qty("0.01000"),
        trailing_offset=Decimal(100),
        trailing_offset_type=TrailingOffsetType.PRICE,
        activation_price=px("80000.0"),
    )

    assert reason_of(builder.submit_action(order)) == (
        "Hyperliquid has no trailing stops; set emulation_trigger so NautilusTrader's "
        "OrderEmulator trails it locally, or use a STOP_MARKET that the strategy modifies"
    )


def test_quote_quantity_is_denied_asking_for_a_base_quantity(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.market(btc, OrderSide.BUY, qty("100.00000"), quote_quantity=True)

    assert reason_of(builder.submit_action(order, BOOK)) == (
        "Hyperliquid sizes orders in base units; convert the quote amount with "
        "instrument.make_qty(notional / price) and submit a base quantity"
    )


def test_market_to_limit_and_iceberg_are_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    mtl = factory.market_to_limit(btc, OrderSide.BUY, qty("0.01000"))
    iceberg = factory.limit(
        btc, OrderSide.BUY, qty("0.01000"), px("79000.0"), display_qty=qty("0.00100")
    )

    assert reason_of(builder.submit_action(mtl, BOOK)) == (
        "Hyperliquid has no market-to-limit orders; use MARKET (a slippage-capped IOC) or LIMIT"
    )
    assert reason_of(builder.submit_action(iceberg)) == (
        "Hyperliquid has no iceberg (display quantity) orders; submit the full quantity or "
        "slice it with an execution algorithm such as TWAP"
    )


def test_trigger_on_last_price_is_denied_because_the_venue_uses_mark(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    order = factory.stop_market(
        btc, OrderSide.SELL, qty("0.01000"), px("75000.0"), trigger_type=TriggerType.LAST_PRICE
    )

    assert reason_of(builder.submit_action(order)) == (
        "Hyperliquid triggers on the mark price, not LAST_PRICE; use trigger_type MARK_PRICE (or "
        "DEFAULT), or set emulation_trigger so NautilusTrader's OrderEmulator triggers it locally"
    )


def test_post_only_ioc_and_ioc_stop_limit_are_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    post_only_ioc = factory.limit(
        btc,
        OrderSide.BUY,
        qty("0.01000"),
        px("79000.0"),
        post_only=True,
        time_in_force=TimeInForce.IOC,
    )
    ioc_stop_limit = factory.stop_limit(
        btc,
        OrderSide.SELL,
        qty("0.01000"),
        px("74900.0"),
        px("75000.0"),
        time_in_force=TimeInForce.IOC,
    )

    assert reason_of(builder.submit_action(post_only_ioc)) == (
        "post-only orders rest on the book; use GTC with post_only, or IOC without it"
    )
    assert reason_of(builder.submit_action(ioc_stop_limit)) == (
        "a triggered limit order rests as GTC on Hyperliquid; use time_in_force GTC, or "
        "STOP_MARKET / MARKET_IF_TOUCHED to execute immediately"
    )


def test_size_finer_than_sz_decimals_and_value_below_ten_dollars_are_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    too_fine = factory.limit(btc, OrderSide.BUY, qty("0.010001"), px("79000.0"))
    too_small = factory.limit(btc, OrderSide.BUY, qty("0.00010"), px("79000.0"))

    assert reason_of(builder.submit_action(too_fine)) == (
        "INVALID_SIZE: Order has invalid size. (quantity 0.010001 has more than 5 decimals "
        "(szDecimals of BTC); build it with instrument.make_qty)"
    )
    assert reason_of(builder.submit_action(too_small)) == (
        "MIN_VALUE: Order must have minimum value of $10. (order value 7.9000; increase the "
        "quantity (reduce-only orders are exempt))"
    )


def test_unknown_instrument_is_denied(factory: OrderFactory) -> None:
    order = factory.limit(
        InstrumentId.from_str("DOGE-USD-PERP.HYPERLIQUID"),
        OrderSide.BUY,
        qty("100"),
        px("0.2"),
    )

    assert reason_of(HyperliquidOrderBuilder().submit_action(order)) == (
        "DOGE-USD-PERP.HYPERLIQUID is not a loaded Hyperliquid instrument"
    )


def test_oco_pair_that_is_not_reduce_only_is_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    pair = _reduce_only_oco(factory, btc, reduce_only=False)

    assert reason_of(builder.order_list_action(pair)) == (
        "an OCO/OUO pair maps to Hyperliquid's position take-profit/stop-loss (positionTpsl), "
        "which only reduces; set reduce_only=True on both orders, or submit them without "
        "contingency"
    )


def test_bracket_with_a_stop_entry_is_denied(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    bracket = factory.bracket(
        btc,
        OrderSide.BUY,
        qty("0.01000"),
        entry_order_type=OrderType.MARKET_IF_TOUCHED,
        entry_trigger_price=px("79000.0"),
        tp_price=px("85000.0"),
        sl_trigger_price=px("75000.0"),
    )

    assert reason_of(builder.order_list_action(bracket.orders)) == (
        "the entry of a Hyperliquid bracket (normalTpsl) must be MARKET or LIMIT, not "
        "MARKET_IF_TOUCHED; submit the entry alone and attach the take-profit/stop-loss once it "
        "fills"
    )


def test_a_denied_order_inside_a_list_denies_the_whole_list_naming_it(
    builder: HyperliquidOrderBuilder, factory: OrderFactory, btc: InstrumentId
) -> None:
    good = factory.limit(btc, OrderSide.BUY, qty("0.01000"), px("79000.0"))
    bad = factory.limit(
        btc, OrderSide.BUY, qty("0.01000"), px("79000.0"), time_in_force=TimeInForce.FOK
    )

    reason = reason_of(builder.order_list_action([good, bad]))

    assert reason.startswith(f"{bad.client_order_id}: time in force FOK is not supported")
