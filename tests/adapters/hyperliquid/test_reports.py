"""Tests for venue payload -> NautilusTrader report conversion, on real captures and the simulator.

Expected values are read off the fixture payloads by hand. Simulator tests build venue state with
real matching (internal orders against SDK-signed orders), then build every report twice and
require identical results, as start-up reconciliation must.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from eth_account import Account
from hyperliquid.utils.signing import sign_l1_action
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TriggerType
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import VenueOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from adapters.hyperliquid.providers import parse_perp_instruments
from adapters.hyperliquid.providers import parse_spot_instruments
from adapters.hyperliquid.reports import FillPager
from adapters.hyperliquid.reports import TradeIdFilter
from adapters.hyperliquid.reports import account_state
from adapters.hyperliquid.reports import dedupe_fills
from adapters.hyperliquid.reports import fetch_fills_by_time
from adapters.hyperliquid.reports import fill_reports
from adapters.hyperliquid.reports import open_order_reports
from adapters.hyperliquid.reports import order_status_report
from adapters.hyperliquid.reports import order_status_reports
from adapters.hyperliquid.reports import position_status_reports
from adapters.hyperliquid.reports import venue_cancel_reason
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.info import Meta
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import PerpAssetMeta
from adapters.hyperliquid.schemas.info import SpotMeta
from adapters.hyperliquid.schemas.info import SpotPair
from adapters.hyperliquid.schemas.info import SpotToken
from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest
from adapters.hyperliquid.schemas.info import decode_info_response
from jarvis.testkit import VENUE_CAPTURES
from simulator.engine import SimEngine
from simulator.specs import DEFAULT_COINS

FIXTURES = VENUE_CAPTURES
ACCOUNT = AccountId("HYPERLIQUID-master")
TS_INIT = 1_800_000_000_000_000_000
T0 = 1_760_000_000_000
MS = 1_000_000
MAKER = "0x" + "99" * 20
USDC = Currency.from_str("USDC")

# Mainnet szDecimals / max leverage of the coins in the captures.
PERPS = [
    ("BTC", 5, 40),
    ("ETH", 4, 25),
    ("ATOM", 2, 20),
    ("MATIC", 1, 20),
    ("DYDX", 1, 20),
    ("SOL", 2, 20),
    ("AVAX", 2, 20),
    ("BNB", 3, 20),
    ("APE", 1, 20),
    ("OP", 1, 20),
    ("LTC", 2, 20),
    ("ARB", 1, 20),
    ("HYPE", 2, 10),
    ("INJ", 1, 20),
    ("SUI", 1, 20),
    ("TON", 1, 20),
    ("ORDI", 2, 20),
    ("GRIFFAIN", 0, 20),
]


def fixture(name: str, info_type: str) -> Any:
    return decode_info_response(info_type, (FIXTURES / name).read_bytes())


@pytest.fixture(scope="module")
def instruments() -> dict[str, Instrument]:
    meta = Meta(
        universe=[PerpAssetMeta(name=n, szDecimals=d, maxLeverage=lev) for n, d, lev in PERPS]
    )
    usdc = SpotToken(
        name="USDC", szDecimals=8, weiDecimals=8, index=0, tokenId="0x0", isCanonical=True
    )
    purr = SpotToken(
        name="PURR", szDecimals=0, weiDecimals=5, index=1, tokenId="0x1", isCanonical=True
    )
    spot = SpotMeta(
        tokens=[usdc, purr],
        universe=[SpotPair(name="PURR/USDC", tokens=(1, 0), index=0, isCanonical=True)],
    )
    found: list[Instrument] = [*parse_perp_instruments(meta, 0), *parse_spot_instruments(spot, 0)]
    return {str(i.info["coin"]): i for i in found}


def perp_id(coin: str) -> InstrumentId:
    return InstrumentId.from_str(f"{coin}-USD-PERP.HYPERLIQUID")


# --- order status reports on captures -----------------------------------------------------------


def test_open_post_only_order_status(instruments: dict[str, Instrument]) -> None:
    found = fixture("info_orderStatus_open.json", "orderStatus")
    assert isinstance(found, OrderStatusFound)
    entry = found.order

    report = order_status_report(
        entry.order, entry.status, entry.statusTimestamp, instruments["HYPE"], ACCOUNT, TS_INIT
    )

    assert report.instrument_id == perp_id("HYPE")
    assert report.venue_order_id == VenueOrderId("80972193016")
    assert report.client_order_id is None
    assert (report.order_side, report.order_type) == (OrderSide.BUY, OrderType.LIMIT)
    assert (report.time_in_force, report.post_only, report.reduce_only) == (
        TimeInForce.GTC,
        True,
        False,
    )
    assert report.order_status == OrderStatus.ACCEPTED
    assert (report.quantity, report.filled_qty) == (
        Quantity.from_str("2.00"),
        Quantity.from_str("0.00"),
    )
    assert report.price == Price.from_str("13.5000")
    assert report.trigger_price is None
    assert report.ts_accepted == report.ts_last == 1742488072039 * MS
    assert report.ts_init == TS_INIT


def test_filled_frontend_market_order_is_a_filled_ioc_market(
    instruments: dict[str, Instrument],
) -> None:
    found = fixture("info_orderStatus_filled_frontendMarket.json", "orderStatus")
    assert isinstance(found, OrderStatusFound)

    (report,) = order_status_reports([found.order], instruments, ACCOUNT, TS_INIT)

    assert (report.order_side, report.order_type, report.time_in_force) == (
        OrderSide.SELL,
        OrderType.MARKET,
        TimeInForce.IOC,
    )
    assert report.order_status == OrderStatus.FILLED
    assert report.quantity == report.filled_qty == Quantity.from_str("0.0076")
    assert report.leaves_qty == Quantity.from_str("0.0000")
    assert report.price is None
    assert report.reduce_only is True


def test_historical_orders_are_sorted_by_time_then_oid_with_rejection_reasons(
    instruments: dict[str, Instrument],
) -> None:
    entries = fixture("info_historicalOrders.json", "historicalOrders")

    reports = order_status_reports(entries, instruments, ACCOUNT, TS_INIT)

    assert [(r.venue_order_id.value, r.order_status, r.cancel_reason) for r in reports] == [
        ("141682147399", OrderStatus.CANCELED, None),
        ("141682147400", OrderStatus.CANCELED, None),
        ("141682155422", OrderStatus.REJECTED, "IOC_NO_MATCH: iocCancelRejected"),
        ("141682155423", OrderStatus.REJECTED, "IOC_NO_MATCH: iocCancelRejected"),
        ("141682155424", OrderStatus.REJECTED, "IOC_NO_MATCH: iocCancelRejected"),
    ]
    dydx = reports[0]
    assert (dydx.quantity, dydx.filled_qty, dydx.post_only) == (
        Quantity.from_str("1614.3"),
        Quantity.from_str("0.0"),
        True,
    )
    assert (dydx.ts_accepted, dydx.ts_last) == (1755863117780 * MS, 1755863118217 * MS)
    assert reports[2].time_in_force == TimeInForce.IOC


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("scheduledCancel", "dead-man switch"),
        ("marginCanceled", "margin"),
        ("reduceOnlyCanceled", "reduce-only"),
        ("siblingFilledCanceled", "sibling filled"),
        ("liquidatedCanceled", "liquidated"),
        ("nonUserCancel", "cancelled by the venue"),
        ("someFutureCanceled", "cancelled by the venue"),
    ],
)
def test_venue_cancel_reason_names_the_status_and_what_happened(status: str, words: str) -> None:
    reason = venue_cancel_reason(status)

    assert reason is not None
    assert reason.startswith(f"{status}: ")
    assert words in reason


@pytest.mark.parametrize("status", ["canceled", "open", "filled", "triggered", "rejected"])
def test_user_cancels_and_other_statuses_have_no_venue_cancel_reason(status: str) -> None:
    assert venue_cancel_reason(status) is None


def test_order_cancelled_by_the_venue_reports_the_reason(
    instruments: dict[str, Instrument],
) -> None:
    entries = fixture("info_historicalOrders.json", "historicalOrders")
    margin = msgspec.structs.replace(entries[0], status="marginCanceled")

    (report,) = order_status_reports([margin], instruments, ACCOUNT, TS_INIT)

    assert report.order_status == OrderStatus.CANCELED
    assert report.cancel_reason == "marginCanceled: not enough margin to keep the order open"


def test_frontend_open_orders_give_one_report_per_oid_with_triggers_on_mark(
    instruments: dict[str, Instrument],
) -> None:
    orders = fixture("info_frontendOpenOrders.json", "frontendOpenOrders")

    reports = open_order_reports(orders, instruments, ACCOUNT, TS_INIT)

    by_oid = {r.venue_order_id.value: r for r in reports}
    assert [r.venue_order_id.value for r in reports] == ["3184595905", "3184595906", "3184595907"]
    parent, stop, take = (by_oid[o] for o in ("3184595905", "3184595906", "3184595907"))
    assert (parent.order_type, parent.order_side, parent.price) == (
        OrderType.LIMIT,
        OrderSide.BUY,
        Price.from_str("10.00000"),
    )
    assert (stop.order_type, stop.trigger_price, stop.trigger_type, stop.price) == (
        OrderType.STOP_MARKET,
        Price.from_str("9.99500"),
        TriggerType.MARK_PRICE,
        None,
    )
    assert (take.order_type, take.trigger_price, take.reduce_only) == (
        OrderType.MARKET_IF_TOUCHED,
        Price.from_str("10.00400"),
        True,
    )
    assert all(r.order_status == OrderStatus.ACCEPTED for r in reports)


def test_orders_on_unknown_coins_are_skipped_and_reported(
    instruments: dict[str, Instrument],
) -> None:
    entries = fixture("info_historicalOrders.json", "historicalOrders")
    skipped: list[str] = []

    reports = order_status_reports(
        entries, {"TON": instruments["TON"]}, ACCOUNT, TS_INIT, on_skip=skipped.append
    )

    assert [r.venue_order_id.value for r in reports] == ["141682155424"]
    assert skipped == [
        "order 141682147399: no instrument for coin 'DYDX'",
        "order 141682147400: no instrument for coin 'DYDX'",
        "order 141682155422: no instrument for coin 'GRIFFAIN'",
        "order 141682155423: no instrument for coin 'ORDI'",
    ]


def test_order_without_venue_quantity_takes_it_and_the_average_price_from_its_fills(
    instruments: dict[str, Instrument],
) -> None:
    found = fixture("info_orderStatus_filled_frontendMarket.json", "orderStatus")
    assert isinstance(found, OrderStatusFound)
    no_size = msgspec.structs.replace(found.order.order, origSz="0.0")
    entry = msgspec.structs.replace(found.order, order=no_size)
    fills = [
        _fill(coin="ETH", px="2412.0", sz="0.005", oid=1, tid=11, side="A"),
        _fill(coin="ETH", px="2411.0", sz="0.0026", oid=1, tid=12, side="A"),
    ]
    skipped: list[str] = []

    without = order_status_reports([entry], instruments, ACCOUNT, TS_INIT, on_skip=skipped.append)
    (report,) = order_status_reports([entry], instruments, ACCOUNT, TS_INIT, fills=fills)

    assert without == []
    assert skipped == ["order 1 reports no quantity (origSz 0.0)"]
    assert report.quantity == report.filled_qty == Quantity.from_str("0.0076")
    # (2412 * 0.005 + 2411 * 0.0026) / 0.0076
    assert report.avg_px == (Decimal("12.06") + Decimal("6.2686")) / Decimal("0.0076")


# --- fill reports on captures -------------------------------------------------------------------


def _fill(**fields: Any) -> Fill:
    base: dict[str, Any] = {
        "coin": "BTC",
        "px": "80000.0",
        "sz": "0.001",
        "side": "B",
        "time": T0,
        "startPosition": "0.0",
        "dir": "Open Long",
        "closedPnl": "0.0",
        "hash": "0x" + "0" * 64,
        "oid": 1,
        "crossed": True,
        "fee": "0.036",
        "feeToken": "USDC",
    }
    base.update(fields)
    return msgspec.convert(base, Fill)


def test_maker_fills_with_cloid_have_rebates_and_client_ids(
    instruments: dict[str, Instrument],
) -> None:
    fills = fixture("info_userFills_with_cloid.json", "userFills")
    client_ids = {"0x5bdd47600dea461f36c8378cd7b4150c": ClientOrderId("O-20260101-000001")}

    reports = fill_reports(fills, instruments, ACCOUNT, TS_INIT, client_order_ids=client_ids)

    assert [r.trade_id for r in reports] == [
        TradeId("780373658822388"),
        TradeId("1109765720343214"),
    ]
    first, second = reports
    assert (first.last_qty, first.last_px) == (
        Quantity.from_str("0.00016"),
        Price.from_str("78751.0"),
    )
    assert first.commission == Money(Decimal("-0.000378"), USDC)
    assert second.commission == Money(Decimal("-0.012639"), USDC)
    assert first.liquidity_side == LiquiditySide.MAKER
    assert first.order_side == OrderSide.BUY
    assert first.venue_order_id == VenueOrderId("544900123760")
    assert first.client_order_id == ClientOrderId("O-20260101-000001")
    assert first.ts_event == 1789407361023 * MS


def test_spot_taker_fill_charges_the_fee_token(instruments: dict[str, Instrument]) -> None:
    fills = fixture("info_userFills_spot.json", "userFills")

    (report,) = fill_reports(fills, instruments, ACCOUNT, TS_INIT)

    assert report.instrument_id == InstrumentId.from_str("PURR-USDC-SPOT.HYPERLIQUID")
    assert (report.order_side, report.liquidity_side) == (OrderSide.SELL, LiquiditySide.TAKER)
    assert (report.last_qty, report.commission) == (
        Quantity.from_str("49"),
        Money(Decimal("0.016534"), USDC),
    )
    assert report.client_order_id is None  # not ours: an external order


def test_fills_without_tid_get_stable_content_ids_and_repeats_are_dropped(
    instruments: dict[str, Instrument],
) -> None:
    fills = fixture("info_userFills.json", "userFills")

    once = fill_reports(fills, instruments, ACCOUNT, TS_INIT)
    twice = fill_reports([*fills, *reversed(fills)], instruments, ACCOUNT, TS_INIT)

    assert len(once) == 5
    assert len({r.trade_id for r in once}) == 5
    assert [repr(r) for r in twice] == [repr(r) for r in once]
    assert [r.ts_event for r in once] == sorted(r.ts_event for r in once)
    assert all(r.commission == Money(0, USDC) for r in once)


def test_websocket_snapshot_and_stream_repeating_a_fill_yield_one_report(
    instruments: dict[str, Instrument],
) -> None:
    frames = json.loads((FIXTURES / "ws_userFills.json").read_text())
    fills = [msgspec.convert(f, Fill) for frame in frames[1:] for f in frame["data"]["fills"]]
    assert len(fills) == 2

    (report,) = fill_reports(fills, instruments, ACCOUNT, TS_INIT)

    assert report.trade_id == TradeId("669583051366496")
    assert report.commission == Money(Decimal("-0.067987"), USDC)  # builder fee included


def test_trade_id_filter_passes_each_fill_once_and_forgets_the_oldest() -> None:
    a, b, c = (_fill(tid=tid) for tid in (1, 2, 3))
    seen = TradeIdFilter(capacity=2)

    assert [seen.is_new(a), seen.is_new(a), seen.is_new(b), seen.is_new(c)] == [
        True,
        False,
        True,
        True,
    ]
    assert len(seen) == 2
    assert seen.is_new(a) is True  # evicted, so new again


# --- positions and account ----------------------------------------------------------------------


def test_positions_from_clearinghouse_state(instruments: dict[str, Instrument]) -> None:
    state = fixture("info_clearinghouseState.json", "clearinghouseState")

    reports = position_status_reports(state, instruments, ACCOUNT, TS_INIT)

    assert [r.instrument_id.symbol.value.split("-")[0] for r in reports] == sorted(
        ["BTC", "ETH", "ATOM", "MATIC", "DYDX", "SOL", "AVAX", "BNB", "APE", "OP", "LTC", "ARB"]
    )
    by_coin = {r.instrument_id: r for r in reports}
    btc = by_coin[perp_id("BTC")]
    assert (btc.position_side, btc.quantity, btc.avg_px_open) == (
        PositionSide.SHORT,
        Quantity.from_str("0.00785"),
        Decimal("26951.0"),
    )
    eth = by_coin[perp_id("ETH")]
    assert (eth.position_side, eth.quantity, eth.signed_decimal_qty) == (
        PositionSide.LONG,
        Quantity.from_str("0.1334"),
        Decimal("0.1334"),
    )
    assert btc.ts_last == TS_INIT  # this capture carries no `time`


def test_flat_report_for_requested_instruments_without_a_position(
    instruments: dict[str, Instrument],
) -> None:
    state = fixture("info_clearinghouseState_empty.json", "clearinghouseState")

    (report,) = position_status_reports(
        state, instruments, ACCOUNT, TS_INIT, flat_for=[instruments["HYPE"]]
    )

    assert (report.instrument_id, report.position_side) == (perp_id("HYPE"), PositionSide.FLAT)
    assert report.quantity == Quantity.from_str("0.00")
    assert report.ts_last == 1788460187188 * MS


def test_account_state_of_an_account_without_positions() -> None:
    state = fixture("info_clearinghouseState_empty.json", "clearinghouseState")

    account = account_state(state, None, ACCOUNT, TS_INIT)

    assert account.account_type == AccountType.MARGIN
    assert account.base_currency == USDC
    assert account.is_reported is True
    (balance,) = account.balances
    assert (balance.total, balance.locked, balance.free) == (
        Money(Decimal("1438.041001"), USDC),
        Money(0, USDC),
        Money(Decimal("1438.041001"), USDC),
    )
    assert account.margins == []
    assert account.ts_event == 1788460187188 * MS


def test_account_state_adds_spot_balances_and_position_margins(
    instruments: dict[str, Instrument],
) -> None:
    perp = fixture("info_clearinghouseState.json", "clearinghouseState")
    frame = json.loads((FIXTURES / "ws_spotState.json").read_text())[0]
    spot = msgspec.convert(frame["data"]["spotState"], SpotClearinghouseState)

    account = account_state(perp, spot, ACCOUNT, TS_INIT, instruments=instruments)

    usdc, vault = account.balances
    # perp 1182.312496 + spot 100508.11272667; locked (1182.312496 - 1010.57173) + 49999.89
    assert usdc.total == Money(Decimal("101690.42522267"), USDC)
    assert usdc.locked == Money(Decimal("50171.630766"), USDC)
    assert usdc.free == Money(Decimal("51518.79445667"), USDC)
    assert (vault.total.as_decimal(), vault.locked.as_decimal(), vault.currency.code) == (
        Decimal("0.95437326"),
        Decimal("0.50000000"),
        "VAULT",
    )
    margins = {m.instrument_id: m for m in account.margins}
    assert len(margins) == 12
    btc = margins[perp_id("BTC")]
    # maintenance = positionValue 211.64542 / maxLeverage 40 / 2
    assert (btc.initial, btc.maintenance) == (
        Money(Decimal("10.582271"), USDC),
        Money(Decimal("2.64556775"), USDC),
    )
    assert account.info["withdrawable"] == "1010.57173"


# --- on simulator state -------------------------------------------------------------------------


class SimAccount:
    """A simulator with one SDK-signing trader who has orders and fills in several states."""

    def __init__(self) -> None:
        self.engine = SimEngine(list(DEFAULT_COINS.values()))
        self.engine.tick(T0)
        self.wallet = Account.from_key("0x" + "a1" * 32)
        self.user = self.wallet.address.lower()
        self.engine.credit_usdc(self.user, 100_000.0)
        self.engine.credit_usdc(MAKER, 10_000_000.0)
        self.nonce = T0
        self.cloids: dict[str, ClientOrderId] = {}

    def order(self, coin: int, is_buy: bool, px: str, sz: str, tif: str, n: int) -> Any:
        cloid = f"0x{n:032x}"
        self.cloids[cloid] = ClientOrderId(f"O-{n}")
        wire = {"a": coin, "b": is_buy, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": tif}}}
        wire["c"] = cloid
        return self.send({"type": "order", "orders": [wire], "grouping": "na"})

    def send(self, action: dict[str, Any]) -> Any:
        self.nonce += 1
        signature = sign_l1_action(self.wallet, action, None, self.nonce, None, False)
        body = {"action": action, "nonce": self.nonce, "signature": signature, "vaultAddress": None}
        return self.engine.exchange(body, T0 + 10)

    def info(self, info_type: str, **params: Any) -> Any:
        body = {"type": info_type, "user": self.user, **params}
        return decode_info_response(info_type, json.dumps(self.engine.info(body, T0 + 20)))


@pytest.fixture
def sim() -> SimAccount:
    account = SimAccount()
    engine = account.engine
    engine.place_internal_order(MAKER, "BTC", False, 80010.0, 0.02, now_ms=T0)
    engine.place_internal_order(MAKER, "BTC", False, 80020.0, 0.02, now_ms=T0)
    engine.place_internal_order(MAKER, "ETH", True, 2490.0, 1.0, now_ms=T0)
    account.order(0, True, "80020", "0.03", "Ioc", 1)  # fills 0.02 @ 80010 + 0.01 @ 80020
    account.order(1, False, "2490", "0.5", "Gtc", 2)  # fills 0.5 @ 2490
    account.order(0, True, "79000", "0.01", "Gtc", 3)  # rests
    account.order(0, True, "79500", "0.01", "Gtc", 4)  # rests, then fills against an internal
    engine.place_internal_order(MAKER, "BTC", False, 79500.0, 0.004, now_ms=T0 + 30)
    account.order(1, True, "2400", "0.001", "Alo", 5)  # rests below 10 $: rejected
    return account


def _all_reports(sim: SimAccount, instruments: dict[str, Instrument]) -> list[str]:
    fills = sim.info("userFills")
    reports: list[Any] = [
        *order_status_reports(
            sim.info("historicalOrders"),
            instruments,
            ACCOUNT,
            TS_INIT,
            client_order_ids=sim.cloids,
            fills=fills,
        ),
        *open_order_reports(
            sim.info("frontendOpenOrders"),
            instruments,
            ACCOUNT,
            TS_INIT,
            client_order_ids=sim.cloids,
        ),
        *fill_reports(fills, instruments, ACCOUNT, TS_INIT, client_order_ids=sim.cloids),
        *position_status_reports(sim.info("clearinghouseState"), instruments, ACCOUNT, TS_INIT),
        account_state(
            sim.info("clearinghouseState"),
            sim.info("spotClearinghouseState"),
            ACCOUNT,
            TS_INIT,
            instruments=instruments,
        ),
    ]
    return [repr(r) for r in reports]


def test_reports_from_simulator_state_are_identical_when_built_twice(
    sim: SimAccount, instruments: dict[str, Instrument]
) -> None:
    first = _all_reports(sim, instruments)
    second = _all_reports(sim, instruments)

    assert first == second
    assert len(first) == 5 + 2 + 4 + 2 + 1  # orders, open orders, fills, positions, account


def test_reports_from_simulator_state_match_what_was_traded(
    sim: SimAccount, instruments: dict[str, Instrument]
) -> None:
    orders = order_status_reports(
        sim.info("historicalOrders"),
        instruments,
        ACCOUNT,
        TS_INIT,
        client_order_ids=sim.cloids,
        fills=sim.info("userFills"),
    )
    fills = fill_reports(
        sim.info("userFills"), instruments, ACCOUNT, TS_INIT, client_order_ids=sim.cloids
    )
    positions = position_status_reports(
        sim.info("clearinghouseState"), instruments, ACCOUNT, TS_INIT
    )

    by_client = {r.client_order_id.value: r for r in orders if r.client_order_id is not None}
    assert by_client["O-1"].order_status == OrderStatus.FILLED
    # (80010 * 0.02 + 80020 * 0.01) / 0.03
    assert by_client["O-1"].avg_px == (Decimal("1600.2") + Decimal("800.2")) / Decimal("0.03")
    assert by_client["O-2"].order_status == OrderStatus.FILLED
    assert by_client["O-3"].order_status == OrderStatus.ACCEPTED
    assert by_client["O-4"].order_status == OrderStatus.PARTIALLY_FILLED
    assert by_client["O-4"].filled_qty == Quantity.from_str("0.00400")
    assert by_client["O-5"].order_status == OrderStatus.REJECTED
    assert by_client["O-5"].cancel_reason == "MIN_VALUE: minTradeNtlRejected"
    traded = {
        (f.client_order_id.value if f.client_order_id else "", str(f.last_px), f.liquidity_side)
        for f in fills
    }
    assert traded == {
        ("O-1", "80010.0", LiquiditySide.TAKER),
        ("O-1", "80020.0", LiquiditySide.TAKER),
        ("O-2", "2490.00", LiquiditySide.TAKER),
        ("O-4", "79500.0", LiquiditySide.MAKER),
    }
    (first,) = (f for f in fills if f.last_px == Price.from_str("80010.0"))
    # taker 0.045 % of 80010 * 0.02 = 0.72009
    assert first.commission == Money(Decimal("0.72009"), USDC)
    assert {(p.instrument_id, p.signed_decimal_qty) for p in positions} == {
        (perp_id("BTC"), Decimal("0.03400")),
        (perp_id("ETH"), Decimal("-0.5000")),
    }


# --- fill paging --------------------------------------------------------------------------------


def test_pager_reads_a_window_across_pages_without_losing_fills_sharing_a_millisecond() -> None:
    # Fake venue with the documented semantics: start <= time <= end, oldest first, 3 per page.
    venue = [_fill(tid=i, time=T0 + i // 2) for i in range(11)]  # two fills per millisecond
    requests: list[UserFillsByTimeRequest] = []

    pager = FillPager("0xabc", T0, T0 + 100, page_limit=3)
    while (request := pager.next_request()) is not None:
        requests.append(request)
        assert isinstance(request.endTime, int)
        page = [f for f in venue if request.startTime <= f.time <= request.endTime][:3]
        pager.add_page(page)

    assert [f.tid for f in pager.fills] == list(range(11))
    assert [r.startTime - T0 for r in requests] == [0, 1, 2, 3, 4, 5]
    assert pager.truncated is False


def test_pager_moves_past_a_millisecond_holding_a_whole_page_and_says_so() -> None:
    venue = [_fill(tid=i, time=T0) for i in range(4)] + [_fill(tid=9, time=T0 + 1)]

    pager = FillPager("0xabc", T0, T0 + 10, page_limit=3)
    while (request := pager.next_request()) is not None:
        pager.add_page([f for f in venue if f.time >= request.startTime][:3])

    assert [f.tid for f in pager.fills] == [0, 1, 2, 9]  # tid 3 is unreachable on the venue
    assert pager.truncated is True


def test_pager_refuses_a_window_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before start_ms"):
        FillPager("0xabc", T0, T0 - 1)


async def test_pager_reads_more_than_one_venue_page_from_the_simulator() -> None:
    engine = SimEngine(list(DEFAULT_COINS.values()))
    engine.tick(T0)
    me = "0x" + "aa" * 20
    engine.credit_usdc(MAKER, 100_000_000.0)
    engine.credit_usdc(me, 10_000_000.0)
    engine.place_internal_order(MAKER, "ETH", False, 2500.0, 100.0, now_ms=T0)
    for i in range(2_500):
        engine.place_internal_order(me, "ETH", True, 2500.0, 0.01, tif="Ioc", now_ms=T0 + i // 3)
    pages: list[int] = []

    async def fetch(request: UserFillsByTimeRequest) -> list[Fill]:
        body = json.loads(msgspec.json.encode(request))
        page: list[Fill] = decode_info_response(
            "userFillsByTime", json.dumps(engine.info(body, T0 + 10_000))
        )
        pages.append(len(page))
        return page

    window = await fetch_fills_by_time(fetch, me, T0 + 10, T0 + 800)
    everything = await fetch_fills_by_time(fetch, me, T0, T0 + 10_000)

    raw: list[dict[str, Any]] = list(engine.accounts[me].fills)  # type: ignore[arg-type]
    in_window = [f for f in raw if T0 + 10 <= f["time"] <= T0 + 800]
    expected_window = [f["tid"] for f in sorted(in_window, key=lambda f: (f["time"], f["tid"]))]
    assert [f.tid for f in window.fills] == expected_window
    assert len(window.fills) == 3 * 791
    assert len(everything.fills) == 2_500
    assert len({f.tid for f in everything.fills}) == 2_500
    assert everything.pages == 2
    assert pages[2:] == [2_000, 502]  # the second page re-reads the last millisecond
    assert dedupe_fills(everything.fills) == everything.fills
