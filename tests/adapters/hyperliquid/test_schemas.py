"""Wire schemas against the real venue payloads in `tests/resources/hyperliquid/`.

Every fixture file is decoded by a rule from `RULES` (new files are picked up at collection time;
a file without a rule fails and says so). Exact values are asserted per payload kind, L1 actions
are re-encoded and compared byte for byte with the SDK's msgpack, and the encode-side rules that
keep signatures valid (tag first, optional keys absent rather than null/false) are checked.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
import msgspec
import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from msgspec import UNSET

from adapters.hyperliquid.schemas import exchange as exchange_schemas
from adapters.hyperliquid.schemas import info as info_schemas
from adapters.hyperliquid.schemas import ws as ws_schemas
from adapters.hyperliquid.schemas.common import Bbo
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.exchange import ACTION_DECODER
from adapters.hyperliquid.schemas.exchange import EXCHANGE_JSON_ENCODER
from adapters.hyperliquid.schemas.exchange import EXCHANGE_REQUEST_DECODER
from adapters.hyperliquid.schemas.exchange import EXCHANGE_RESPONSE_DECODER
from adapters.hyperliquid.schemas.exchange import USER_SIGNED_ACTION_TYPES
from adapters.hyperliquid.schemas.exchange import Action
from adapters.hyperliquid.schemas.exchange import ApproveAgentAction
from adapters.hyperliquid.schemas.exchange import ApproveBuilderFeeAction
from adapters.hyperliquid.schemas.exchange import BatchModifyAction
from adapters.hyperliquid.schemas.exchange import BuilderInfo
from adapters.hyperliquid.schemas.exchange import CancelAction
from adapters.hyperliquid.schemas.exchange import CancelResponse
from adapters.hyperliquid.schemas.exchange import CancelWire
from adapters.hyperliquid.schemas.exchange import DefaultResponse
from adapters.hyperliquid.schemas.exchange import ErrorStatus
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeOk
from adapters.hyperliquid.schemas.exchange import ExchangeRequest
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.exchange import LimitOrderType
from adapters.hyperliquid.schemas.exchange import ModifyAction
from adapters.hyperliquid.schemas.exchange import ModifyWire
from adapters.hyperliquid.schemas.exchange import OrderAction
from adapters.hyperliquid.schemas.exchange import OrderResponse
from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
from adapters.hyperliquid.schemas.exchange import OrderTypeWire
from adapters.hyperliquid.schemas.exchange import OrderWire
from adapters.hyperliquid.schemas.exchange import ScheduleCancelAction
from adapters.hyperliquid.schemas.exchange import TriggerOrderType
from adapters.hyperliquid.schemas.exchange import UpdateIsolatedMarginAction
from adapters.hyperliquid.schemas.exchange import UsdClassTransferAction
from adapters.hyperliquid.schemas.exchange import UsdSendAction
from adapters.hyperliquid.schemas.exchange import action_msgpack
from adapters.hyperliquid.schemas.exchange import action_to_wire
from adapters.hyperliquid.schemas.info import INFO_JSON_ENCODER
from adapters.hyperliquid.schemas.info import INFO_REQUEST_DECODER
from adapters.hyperliquid.schemas.info import INFO_RESPONSE_TYPES
from adapters.hyperliquid.schemas.info import InfoRequest
from adapters.hyperliquid.schemas.info import L2BookRequest
from adapters.hyperliquid.schemas.info import OrderStatusFound
from adapters.hyperliquid.schemas.info import OrderStatusUnknownOid
from adapters.hyperliquid.schemas.info import decode_info_response
from adapters.hyperliquid.schemas.ws import WS_CLIENT_MESSAGE_DECODER
from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
from adapters.hyperliquid.schemas.ws import WS_JSON_ENCODER
from adapters.hyperliquid.schemas.ws import BboFrame
from adapters.hyperliquid.schemas.ws import CandleFrame
from adapters.hyperliquid.schemas.ws import ClearinghouseStateFrame
from adapters.hyperliquid.schemas.ws import ErrorFrame
from adapters.hyperliquid.schemas.ws import FastAssetCtxsFrame
from adapters.hyperliquid.schemas.ws import L2BookFrame
from adapters.hyperliquid.schemas.ws import L2BookSubscription
from adapters.hyperliquid.schemas.ws import OrderUpdatesFrame
from adapters.hyperliquid.schemas.ws import PingMessage
from adapters.hyperliquid.schemas.ws import PongFrame
from adapters.hyperliquid.schemas.ws import PostActionResponse
from adapters.hyperliquid.schemas.ws import PostFrame
from adapters.hyperliquid.schemas.ws import PostInfoRequest
from adapters.hyperliquid.schemas.ws import PostMessage
from adapters.hyperliquid.schemas.ws import SubscribeMessage
from adapters.hyperliquid.schemas.ws import SubscriptionResponseFrame
from adapters.hyperliquid.schemas.ws import TradesFrame
from adapters.hyperliquid.schemas.ws import UnsubscribeMessage
from adapters.hyperliquid.schemas.ws import UserEventsFrame
from adapters.hyperliquid.schemas.ws import UserFillsFrame
from adapters.hyperliquid.schemas.ws import UserFillsSubscription
from adapters.hyperliquid.schemas.ws import UserTwapHistoryFrame
from adapters.hyperliquid.schemas.ws import WsFrame
from adapters.hyperliquid.schemas.ws import decode_fast_asset_ctxs
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _json(raw: msgspec.Raw | bytes) -> Any:
    """Order-preserving stdlib parse of exact fixture bytes."""
    return json.loads(bytes(raw))


def _bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _raw_elements(data: bytes) -> list[msgspec.Raw]:
    """The exact bytes of each element of a JSON array (fixture elements are byte-identical to
    what the venue sent, so decode those bytes, not a re-serialisation)."""
    return msgspec.json.decode(data, type=list[msgspec.Raw])


def _ws_frames(name: str) -> list[Any]:
    return [WS_FRAME_DECODER.decode(raw) for raw in _raw_elements(_bytes(name))]


def _info(name: str, info_type: str) -> Any:
    return decode_info_response(info_type, _bytes(name))


def _tags(union: Any) -> set[str]:
    return {member.__struct_config__.tag for member in union.__args__}


class _DocumentedError(msgspec.Struct, frozen=True):
    type: str
    text: str


class _ObservedError(msgspec.Struct, frozen=True):
    text: str
    context: str


class ErrorStringCatalogue(msgspec.Struct, frozen=True):
    """`exchange_error_strings.json`: a catalogue of venue error texts, not a venue payload."""

    about: str = msgspec.field(name="_about")
    order_documented: list[_DocumentedError]
    order_observed: list[_ObservedError]
    toplevel_observed: list[_ObservedError]
    ws_error_channel_observed: list[_ObservedError]
    sources: dict[str, str]


class _L1Vector(msgspec.Struct, frozen=True):
    name: str
    action: msgspec.Raw
    msgpack_action_hex: str
    exchange_request_body: msgspec.Raw


class _UserSignedVector(msgspec.Struct, frozen=True):
    name: str
    primaryType: str
    action: msgspec.Raw
    exchange_request_body: msgspec.Raw


class SigningVectors(msgspec.Struct, frozen=True):
    """`signing_vectors.json`, with actions and bodies kept as their exact bytes."""

    l1: list[_L1Vector]
    user_signed: list[_UserSignedVector]


SIGNING_VECTORS = msgspec.json.decode(_bytes("signing_vectors.json"), type=SigningVectors)

USER_SIGNED_BY_PRIMARY_TYPE: dict[str, type[msgspec.Struct]] = {
    "HyperliquidTransaction:UsdSend": UsdSendAction,
    "HyperliquidTransaction:Withdraw": exchange_schemas.Withdraw3Action,
    "HyperliquidTransaction:SpotSend": exchange_schemas.SpotSendAction,
    "HyperliquidTransaction:UsdClassTransfer": UsdClassTransferAction,
    "HyperliquidTransaction:SendAsset": exchange_schemas.SendAssetAction,
    "HyperliquidTransaction:ApproveAgent": ApproveAgentAction,
    "HyperliquidTransaction:ApproveBuilderFee": ApproveBuilderFeeAction,
    "HyperliquidTransaction:TokenDelegate": exchange_schemas.TokenDelegateAction,
}

# --------------------------------------------------------------------------------------------
# Decode rules: one per fixture-file pattern, most specific first
# --------------------------------------------------------------------------------------------


def _decode_info_file(data: bytes, name: str) -> None:
    info_type = name.removeprefix("info_").removesuffix(".json")
    candidates = [
        known
        for known in INFO_RESPONSE_TYPES
        if info_type == known or info_type.startswith(f"{known}_")
    ]
    if not candidates:
        pytest.fail(
            f"{name}: no info type in INFO_RESPONSE_TYPES matches; add a schema or a rule to "
            "RULES in tests/adapters/hyperliquid/test_schemas.py"
        )
    decode_info_response(max(candidates, key=len), data)


def _decode_ws_array(data: bytes, name: str) -> None:
    frames = [WS_FRAME_DECODER.decode(raw) for raw in _raw_elements(data)]
    assert frames, f"{name} holds no frames"


def _decode_single_ws_frame(data: bytes, name: str) -> None:
    WS_FRAME_DECODER.decode(data)


def _decode_ws_post(data: bytes, name: str) -> None:
    request, *responses = _raw_elements(data)
    assert isinstance(WS_CLIENT_MESSAGE_DECODER.decode(request), PostMessage)
    assert responses
    for raw in responses:
        assert isinstance(WS_FRAME_DECODER.decode(raw), PostFrame)


def _decode_bare_bbo_data(data: bytes, name: str) -> None:
    assert msgspec.json.decode(data, type=list[Bbo])


def _decode_exchange_response(data: bytes, name: str) -> None:
    EXCHANGE_RESPONSE_DECODER.decode(data)


_LAX_EXCHANGE_RESPONSE_DECODER = msgspec.json.Decoder(ExchangeResponse, strict=False)


def _decode_ccxt_stringified_oid(data: bytes, name: str) -> None:
    # The venue sends `oid` as a JSON integer; ccxt's recorder stringified it. The production
    # decoder must refuse the string (and say where), the shape must still match the schema.
    with pytest.raises(msgspec.ValidationError, match="oid"):
        EXCHANGE_RESPONSE_DECODER.decode(data)
    _LAX_EXCHANGE_RESPONSE_DECODER.decode(data)


def _decode_error_catalogue(data: bytes, name: str) -> None:
    catalogue = msgspec.json.decode(data, type=ErrorStringCatalogue)
    assert catalogue.order_documented and catalogue.toplevel_observed
    # Every per-order text fits an order status entry, every top-level text an `err` answer.
    for entry in catalogue.order_documented + catalogue.order_observed:
        body = {"status": "ok", "response": {"type": "order", "data": {"statuses": []}}}
        body["response"]["data"]["statuses"] = [{"error": entry.text}]  # type: ignore[index]
        answer = EXCHANGE_RESPONSE_DECODER.decode(json.dumps(body))
        assert isinstance(answer, ExchangeOk)
        assert isinstance(answer.response, OrderResponse)
        assert answer.response.data.statuses == [OrderStatusEntry(error=entry.text)]
    for entry in catalogue.toplevel_observed:
        answer = EXCHANGE_RESPONSE_DECODER.decode(
            json.dumps({"status": "err", "response": entry.text})
        )
        assert answer == ExchangeErr(response=entry.text)


def _decode_signing_vectors(data: bytes, name: str) -> None:
    vectors = msgspec.json.decode(data, type=SigningVectors)
    for l1 in vectors.l1:
        request = EXCHANGE_REQUEST_DECODER.decode(l1.exchange_request_body)
        assert request.action.__struct_config__.tag not in USER_SIGNED_ACTION_TYPES, l1.name
    for user in vectors.user_signed:
        action_json = _json(user.action)
        if "type" in action_json:
            request = EXCHANGE_REQUEST_DECODER.decode(user.exchange_request_body)
            assert request.action.__struct_config__.tag in USER_SIGNED_ACTION_TYPES, user.name
            expected_cls = USER_SIGNED_BY_PRIMARY_TYPE[user.primaryType]
            assert isinstance(request.action, expected_cls), user.name
        else:
            # SDK test-suite vectors sign the action before `type` is added; the venue needs the
            # tag, so the envelope must refuse it and say which key is missing.
            with pytest.raises(msgspec.ValidationError, match="`type`"):
                EXCHANGE_REQUEST_DECODER.decode(user.exchange_request_body)
            cls = USER_SIGNED_BY_PRIMARY_TYPE[user.primaryType]
            msgspec.json.decode(user.action, type=cls)


def _check_sources_lists_every_fixture(data: bytes, name: str) -> None:
    text = data.decode()
    missing = [
        path.name
        for path in FIXTURES.iterdir()
        if path.name != name and f"`{path.name}`" not in text
    ]
    assert not missing, f"SOURCES.md has no provenance row for {missing}"


@dataclass(frozen=True)
class Rule:
    """A fixture-file glob and how to decode files matching it."""

    pattern: str
    decode: Callable[[bytes, str], None]


RULES: tuple[Rule, ...] = (
    Rule("SOURCES.md", _check_sources_lists_every_fixture),
    Rule("signing_vectors.json", _decode_signing_vectors),
    Rule("exchange_error_strings.json", _decode_error_catalogue),
    Rule("exchange_order_filled.json", _decode_ccxt_stringified_oid),
    Rule("exchange_order_tpsl_waitingForTrigger.json", _decode_ccxt_stringified_oid),
    Rule("exchange_*.json", _decode_exchange_response),
    Rule("info_*.json", _decode_info_file),
    Rule("ws_post.json", _decode_ws_post),
    Rule("ws_bbo_data_*.json", _decode_bare_bbo_data),
    Rule("ws_allMids_nautilus.json", _decode_single_ws_frame),
    Rule("ws_*.json", _decode_ws_array),
)


def _rule_for(name: str) -> Rule | None:
    return next((rule for rule in RULES if fnmatch.fnmatchcase(name, rule.pattern)), None)


FIXTURE_FILES = sorted(path.name for path in FIXTURES.iterdir() if path.is_file())


def test_fixture_folder_is_found_beside_the_repo() -> None:
    assert "signing_vectors.json" in FIXTURE_FILES
    assert len(FIXTURE_FILES) > 50


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_every_fixture_file_decodes_with_its_rule(name: str) -> None:
    rule = _rule_for(name)
    if rule is None:
        pytest.fail(
            f"fixture {name} matches no decode rule: add a Rule to RULES in "
            "tests/adapters/hyperliquid/test_schemas.py"
        )
    rule.decode(_bytes(name), name)


def test_a_fixture_without_a_rule_is_reported_not_skipped() -> None:
    assert _rule_for("weird_capture.json") is None
    assert _rule_for("ws_newChannel.json") is not None


# --------------------------------------------------------------------------------------------
# Exact values: market data
# --------------------------------------------------------------------------------------------


def test_info_l2book_decodes_twenty_levels_per_side_with_exact_values() -> None:
    book = _info("info_l2Book.json", "l2Book")

    assert isinstance(book, L2Book)
    assert (book.coin, book.time) == ("DYDX", 1689630203930)
    bids, asks = book.levels
    assert len(bids) == len(asks) == 20
    assert (bids[0].px, bids[0].sz, bids[0].n) == ("2.111", "134.4", 1)
    assert (asks[0].px, asks[0].sz, asks[0].n) == ("2.1124", "352.3", 2)
    assert (bids[-1].px, bids[-1].sz) == ("1.81", "2397.0")


def test_ws_l2book_frames_decode_including_an_empty_book() -> None:
    full, empty = _ws_frames("ws_l2Book.json")

    assert isinstance(full, L2BookFrame)
    assert (full.data.coin, full.data.time) == ("BTC", 1791278882097)
    bid = full.data.levels[0][0]
    assert (bid.px, bid.sz, bid.n) == ("85821.0", "0.96592", 4)
    assert full.data.levels[1][1].px == "85823.0"
    assert full.data.fast is False
    assert isinstance(empty, L2BookFrame)
    assert empty.data.levels == ([], [])


def test_ws_trades_keep_tid_users_and_aggressor_side() -> None:
    first, second = _ws_frames("ws_trades.json")

    assert isinstance(first, TradesFrame)
    trade = first.data[0]
    assert (trade.coin, trade.side, trade.px, trade.sz) == ("BTC", "A", "80639.0", "0.00022")
    assert (trade.time, trade.tid) == (1788490042052, 1095884267920331)
    assert trade.users == (
        "0xa62b923a112d50d03e1e096bbd53422490dac104",
        "0x8a544ab75107efd541c9072a0efebb87cc4292f3",
    )
    assert isinstance(second, TradesFrame)
    assert second.data[1].tid == 250009747508244


def test_ws_bbo_sides_may_be_null() -> None:
    frames = _ws_frames("ws_bbo.json")
    by_coin = {frame.data.coin: frame.data for frame in frames if isinstance(frame, BboFrame)}

    assert by_coin["MATIC"].bbo == (None, None)
    bid, ask = by_coin["@107"].bbo
    assert bid is None
    assert ask is not None and (ask.px, ask.sz, ask.n) == ("92.638", "12.89", 1)
    assert by_coin["FRIEND"].bbo[1] is None
    bare = msgspec.json.decode(_bytes("ws_bbo_data_info_test.json"), type=list[Bbo])[0]
    assert bare.bbo[0] is not None and bare.bbo[0].px == "80657.0"


def test_ws_candle_is_one_object_with_string_ohlcv() -> None:
    frame = _ws_frames("ws_candle.json")[0]

    assert isinstance(frame, CandleFrame)
    candle = frame.data
    assert (candle.t, candle.T, candle.s, candle.i) == (1788490020000, 1788490079999, "BTC", "1m")
    assert (candle.o, candle.c, candle.h, candle.l, candle.v, candle.n) == (
        "80640.0",
        "80640.0",
        "80641.0",
        "80639.0",
        "2.20493",
        61,
    )


def test_asset_ctx_of_a_bookless_market_has_null_premium_mid_and_impact() -> None:
    meta, ctxs = _info("info_metaAndAssetCtxs.json", "metaAndAssetCtxs")

    assert [asset.name for asset in meta.universe] == ["BTC", "ETH", "ATOM", "MATIC"]
    assert meta.universe[0].marginTableId == 56
    assert meta.universe[3].isDelisted is True
    assert meta.universe[0].isDelisted is False
    assert meta.collateralToken == 0
    assert ctxs[0].impactPxs == ("80635.5", "80640.0")
    assert (ctxs[0].markPx, ctxs[0].oraclePx, ctxs[0].funding) == (
        "80639.0",
        "80684.7",
        "0.0000052764",
    )
    assert (ctxs[3].premium, ctxs[3].midPx, ctxs[3].impactPxs) == (None, None, None)


def test_fast_asset_ctxs_payload_unpacks_to_mark_and_mid() -> None:
    snapshot, delta = _ws_frames("ws_fastAssetCtxs.json")

    assert isinstance(snapshot, FastAssetCtxsFrame) and isinstance(delta, FastAssetCtxsFrame)
    ctxs = decode_fast_asset_ctxs(snapshot.data)
    assert (ctxs["BTC"].markPx, ctxs["BTC"].midPx) == ("85814.0", "85811.5")
    assert set(ctxs) == {"BTC", "@107", "#14880", "xyz:XYZ100"}
    update = decode_fast_asset_ctxs(delta.data)
    assert (update["BTC"].markPx, update["BTC"].midPx) == (None, "85812.5")
    assert update["hyna:ETH"].midPx is None


def test_predicted_fundings_keep_venue_and_interval() -> None:
    rows = _info("info_predictedFundings_excerpt.json", "predictedFundings")

    coin, venues = rows[0]
    assert coin == "BTC"
    venue, funding = venues[1]
    assert venue == "HlPerp"
    assert funding is not None
    assert (funding.fundingRate, funding.fundingIntervalHours) == ("0.0012026746", 1)


def test_funding_history_row_without_premium_decodes_to_none() -> None:
    rows = _info("info_fundingHistory_recent.json", "fundingHistory")

    assert rows[0].premium == "0.00029005"
    assert (rows[2].premium, rows[2].fundingRate, rows[2].time) == (
        None,
        "0.0000033",
        1769916000000,
    )


# --------------------------------------------------------------------------------------------
# Exact values: account, orders, fills
# --------------------------------------------------------------------------------------------


def test_info_fill_keeps_tid_oid_fee_and_cloid() -> None:
    fills = _info("info_userFills_with_cloid.json", "userFills")

    fill = fills[0]
    assert isinstance(fill, Fill)
    assert (fill.tid, fill.oid, fill.fee) == (1109765720343214, 544900123760, "-0.012639")
    assert (fill.cloid, fill.crossed, fill.dir) == (
        "0x5bdd47600dea461f36c8378cd7b4150c",
        False,
        "Open Long",
    )
    assert fills[1].hash == "0x" + "0" * 64


def test_2023_fill_without_tid_decodes_with_none() -> None:
    fill = _info("info_userFills.json", "userFills")[0]

    assert (fill.coin, fill.px, fill.sz, fill.oid) == ("SUI", "1.3189", "142.7", 189324432)
    assert (fill.tid, fill.feeToken, fill.twapId) == (None, None, None)


def test_ws_user_fills_snapshot_flag_and_composite_fill() -> None:
    _, snapshot, update = _ws_frames("ws_userFills.json")

    assert isinstance(snapshot, UserFillsFrame) and isinstance(update, UserFillsFrame)
    assert snapshot.data.isSnapshot is True
    assert update.data.isSnapshot is False
    fill = update.data.fills[0]
    assert (fill.tid, fill.twapId, fill.builderFee) == (669583051366496, 2288616, "0.0001")
    assert fill.liquidation is not None
    assert (fill.liquidation.markPx, fill.liquidation.method) == ("86010.0", "backstop")


def test_ws_user_events_decode_each_variant() -> None:
    funding, liquidation, cancel, twap = _ws_frames("ws_user.json")

    assert isinstance(funding, UserEventsFrame) and funding.data.funding is not None
    assert (funding.data.funding.usdc, funding.data.funding.nSamples) == ("-0.601087", None)
    assert funding.data.fills is None
    assert isinstance(liquidation, UserEventsFrame) and liquidation.data.liquidation is not None
    assert liquidation.data.liquidation.lid == 123456
    assert liquidation.data.liquidation.liquidated_ntl_pos == "356.80015"
    assert isinstance(cancel, UserEventsFrame) and cancel.data.nonUserCancel is not None
    assert cancel.data.nonUserCancel[0].oid == 566615769247
    assert isinstance(twap, UserEventsFrame) and twap.data.twapSliceFills is not None
    assert twap.data.twapSliceFills[0].twapId == 2278664
    assert twap.data.twapSliceFills[0].fill.tid == 499584618036466


def test_order_updates_carry_status_and_remaining_size() -> None:
    frame = _ws_frames("ws_orderUpdates.json")[0]

    assert isinstance(frame, OrderUpdatesFrame)
    opened, filled, canceled = frame.data
    assert (opened.status, opened.order.sz, opened.order.origSz) == ("open", "3.28", "3.28")
    assert (filled.status, filled.order.sz, filled.order.oid) == ("filled", "0.0", 566617964508)
    assert filled.order.cloid == "0x000000000000000000065d291c305ae0"
    assert (canceled.status, canceled.statusTimestamp) == ("canceled", 1791281001374)


def test_order_status_known_and_unknown() -> None:
    found = _info("info_orderStatus_open.json", "orderStatus")
    unknown = _info("info_orderStatus_unknownOid.json", "orderStatus")

    assert isinstance(found, OrderStatusFound)
    assert isinstance(found.order, FrontendOrderStatus)
    assert (found.order.status, found.order.order.oid) == ("open", 80972193016)
    assert (found.order.order.tif, found.order.order.cloid) == ("Alo", None)
    assert isinstance(unknown, OrderStatusUnknownOid)


def test_frontend_orders_nest_tpsl_children() -> None:
    orders = _info("info_frontendOpenOrders.json", "frontendOpenOrders")

    parent = orders[2]
    assert (parent.oid, parent.orderType, parent.tif) == (3184595905, "Limit", "Gtc")
    assert [child.oid for child in parent.children] == [3184595906, 3184595907]
    assert (parent.children[0].tif, parent.children[0].triggerPx) == (None, "9.995")


def test_clearinghouse_state_positions_with_isolated_leverage() -> None:
    frame = _ws_frames("ws_clearinghouseState.json")[0]

    assert isinstance(frame, ClearinghouseStateFrame)
    state = frame.data.clearinghouseState
    assert state.withdrawable == "2720674.5776"
    sol = state.assetPositions[1].position
    assert (sol.coin, sol.szi, sol.leverage.type) == ("SOL", "-212.78", "isolated")
    assert (sol.leverage.value, sol.leverage.rawUsd) == (10, "27985.6")
    assert sol.cumFunding is not None and sol.cumFunding.allTime == "-12.75"
    old = _info("info_clearinghouseState.json", "clearinghouseState")
    assert old.assetPositions[1].position.liquidationPx is None
    assert old.crossMaintenanceMarginUsed is None


def test_twap_history_time_is_kept_in_seconds() -> None:
    frame = _ws_frames("ws_userTwapHistory.json")[0]

    assert isinstance(frame, UserTwapHistoryFrame)
    first, second = frame.data.history
    assert (first.time, first.twapId, first.status.status) == (1769165674, 1530771, "finished")
    assert first.state.trigger is not None and first.state.trigger.px == "88.0"
    assert (second.state.trigger, second.state.stopPx) == (None, None)


# --------------------------------------------------------------------------------------------
# Exact values: exchange answers, acks, post
# --------------------------------------------------------------------------------------------


def _order_statuses(name: str) -> list[Any]:
    answer = EXCHANGE_RESPONSE_DECODER.decode(_bytes(name))
    assert isinstance(answer, ExchangeOk)
    assert isinstance(answer.response, OrderResponse)
    return answer.response.data.statuses


def test_exchange_resting_filled_and_error_statuses() -> None:
    (resting,) = _order_statuses("exchange_order_resting.json")
    (filled,) = _order_statuses("exchange_order_filled_docs.json")
    (error,) = _order_statuses("exchange_order_error.json")

    assert resting.resting is not None and resting.resting.oid == 77738308
    assert resting.resting.cloid is None
    assert filled.filled is not None
    assert (filled.filled.totalSz, filled.filled.avgPx, filled.filled.oid) == (
        "0.02",
        "1891.4",
        77747314,
    )
    assert error == OrderStatusEntry(error="Order must have minimum value of $10.")


def test_tpsl_children_answer_with_bare_waiting_strings() -> None:
    answer = _LAX_EXCHANGE_RESPONSE_DECODER.decode(
        _bytes("exchange_order_tpsl_waitingForTrigger.json")
    )

    assert isinstance(answer, ExchangeOk) and isinstance(answer.response, OrderResponse)
    parent, tp, sl = answer.response.data.statuses
    assert isinstance(parent, OrderStatusEntry) and parent.filled is not None
    assert (parent.filled.oid, parent.filled.avgPx) == (211341310459, "39.9351")
    assert (tp, sl) == ("waitingForTrigger", "waitingForTrigger")


def test_cancel_and_default_answers() -> None:
    success = EXCHANGE_RESPONSE_DECODER.decode(_bytes("exchange_cancel_success.json"))
    failure = EXCHANGE_RESPONSE_DECODER.decode(_bytes("exchange_cancel_error.json"))
    default = EXCHANGE_RESPONSE_DECODER.decode(_bytes("exchange_default_ok.json"))

    assert isinstance(success, ExchangeOk) and isinstance(success.response, CancelResponse)
    assert success.response.data.statuses == ["success"]
    assert isinstance(failure, ExchangeOk) and isinstance(failure.response, CancelResponse)
    assert failure.response.data.statuses == [
        ErrorStatus(error="Order was never placed, already canceled, or filled.")
    ]
    assert default == ExchangeOk(response=DefaultResponse())


def test_whole_action_error_is_a_string() -> None:
    body = b'{"status":"err","response":"User or API Wallet 0xabc does not exist."}'

    assert EXCHANGE_RESPONSE_DECODER.decode(body) == ExchangeErr(
        response="User or API Wallet 0xabc does not exist."
    )


def test_subscription_acks_echo_server_defaults() -> None:
    bbo, fills, unsubscribe = _ws_frames("ws_subscriptionResponse.json")

    assert isinstance(fills, SubscriptionResponseFrame)
    assert fills.data.subscription == UserFillsSubscription(
        user="0x31ca8395cf837de08b24da3f660e77761dfb974b", aggregateByTime=False
    )
    assert isinstance(unsubscribe, SubscriptionResponseFrame)
    assert unsubscribe.data.method == "unsubscribe"
    assert isinstance(bbo, SubscriptionResponseFrame) and bbo.data.method == "subscribe"


def test_post_request_and_post_answers() -> None:
    request, docs_answer, answer_with_cloid = _raw_elements(_bytes("ws_post.json"))

    message = WS_CLIENT_MESSAGE_DECODER.decode(request)
    assert isinstance(message, PostMessage) and message.id == 123
    assert isinstance(message.request, PostInfoRequest)
    assert message.request.payload == L2BookRequest(coin="ETH", nSigFigs=5, mantissa=None)
    frame = WS_FRAME_DECODER.decode(answer_with_cloid)
    assert isinstance(frame, PostFrame) and frame.data.id == 1
    assert isinstance(frame.data.response, PostActionResponse)
    payload = frame.data.response.payload
    assert isinstance(payload, ExchangeOk) and isinstance(payload.response, OrderResponse)
    (status,) = payload.response.data.statuses
    assert isinstance(status, OrderStatusEntry) and status.resting is not None
    assert (status.resting.oid, status.resting.cloid) == (
        277150066327,
        "0x0000000000000000000000000000007b",
    )
    assert isinstance(WS_FRAME_DECODER.decode(docs_answer), PostFrame)


def test_post_info_answer_is_decoded_later_by_its_info_type() -> None:
    book = _bytes("info_l2Book.json").strip()
    frame_bytes = b'{"channel":"post","data":{"id":5,"response":{"type":"info","payload":'
    frame_bytes += b'{"type":"l2Book","data":' + book + b"}}}}"

    frame = WS_FRAME_DECODER.decode(frame_bytes)

    assert isinstance(frame, PostFrame)
    response = frame.data.response
    assert isinstance(response, ws_schemas.PostInfoResponse)
    decoded = decode_info_response(response.payload.type, response.payload.data)
    assert decoded == _info("info_l2Book.json", "l2Book")


def test_pong_error_and_plain_frames() -> None:
    assert _ws_frames("ws_pong.json") == [PongFrame()]
    (error,) = _ws_frames("ws_error.json")
    assert error == ErrorFrame(data='Already unsubscribed: {"type":"trades","coin":"ETH"}')


# --------------------------------------------------------------------------------------------
# Missing / unknown fields
# --------------------------------------------------------------------------------------------


def _without(obj: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != key}


def test_missing_required_level_field_is_named_with_its_path() -> None:
    frame = _json(_raw_elements(_bytes("ws_l2Book.json"))[0])
    frame["data"]["levels"][0][0] = _without(frame["data"]["levels"][0][0], "px")

    with pytest.raises(msgspec.ValidationError) as error:
        WS_FRAME_DECODER.decode(json.dumps(frame))

    assert "`px`" in str(error.value)
    assert "$.data.levels[0][0]" in str(error.value)


@pytest.mark.parametrize("field", ["tid", "oid", "fee", "coin"])
def test_missing_required_fill_field_is_named(field: str) -> None:
    frame = _json(_raw_elements(_bytes("ws_userFills.json"))[0])
    frame["data"]["fills"][0] = _without(frame["data"]["fills"][0], field)

    if field == "tid":  # optional: absent from 2023 captures
        decoded = WS_FRAME_DECODER.decode(json.dumps(frame))
        assert isinstance(decoded, UserFillsFrame) and decoded.data.fills[0].tid is None
        return
    with pytest.raises(msgspec.ValidationError, match=f"`{field}`"):
        WS_FRAME_DECODER.decode(json.dumps(frame))


def test_missing_envelope_and_action_fields_are_named() -> None:
    body = _json(SIGNING_VECTORS.l1[0].exchange_request_body)

    with pytest.raises(msgspec.ValidationError, match="`nonce`"):
        EXCHANGE_REQUEST_DECODER.decode(json.dumps(_without(body, "nonce")))
    body["action"] = _without(body["action"], "grouping")
    with pytest.raises(msgspec.ValidationError, match="`grouping`"):
        EXCHANGE_REQUEST_DECODER.decode(json.dumps(body))


def test_unknown_extra_fields_are_tolerated_at_every_level() -> None:
    raw = _raw_elements(_bytes("ws_l2Book.json"))[0]
    frame = _json(raw)
    frame["brandNew"] = 1
    frame["data"]["spread"] = "0.5"
    frame["data"]["levels"][0][0]["extra"] = {"nested": [1, 2]}

    assert WS_FRAME_DECODER.decode(json.dumps(frame)) == WS_FRAME_DECODER.decode(raw)
    action = _json(SIGNING_VECTORS.l1[0].action)
    action["orders"][0]["zz"] = True
    assert ACTION_DECODER.decode(json.dumps(action)) == ACTION_DECODER.decode(
        SIGNING_VECTORS.l1[0].action
    )


def test_unknown_channel_is_rejected_naming_the_tag() -> None:
    with pytest.raises(msgspec.ValidationError, match="channel"):
        WS_FRAME_DECODER.decode(b'{"channel":"noSuchChannel","data":{}}')


# --------------------------------------------------------------------------------------------
# Exchange actions: key order, hashed bytes, absent optional keys
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", SIGNING_VECTORS.l1, ids=lambda vector: vector.name)
def test_l1_action_reencodes_to_the_sdk_msgpack_bytes(vector: _L1Vector) -> None:
    action = ACTION_DECODER.decode(vector.action)

    assert action_msgpack(action).hex() == vector.msgpack_action_hex
    assert msgpack.packb(action_to_wire(action)).hex() == vector.msgpack_action_hex
    original = json.dumps(_json(vector.action), separators=(",", ":")).encode()
    assert EXCHANGE_JSON_ENCODER.encode(action) == original


@pytest.mark.parametrize("vector", SIGNING_VECTORS.l1, ids=lambda vector: vector.name)
def test_l1_request_body_roundtrips_with_null_vault_and_expiry(vector: _L1Vector) -> None:
    request = EXCHANGE_REQUEST_DECODER.decode(vector.exchange_request_body)

    original = json.dumps(_json(vector.exchange_request_body), separators=(",", ":"))
    assert EXCHANGE_JSON_ENCODER.encode(request) == original.encode()


@pytest.mark.parametrize("vector", SIGNING_VECTORS.user_signed, ids=lambda vector: vector.name)
def test_user_signed_action_encodes_type_first_and_keeps_every_key(
    vector: _UserSignedVector,
) -> None:
    cls = USER_SIGNED_BY_PRIMARY_TYPE[vector.primaryType]
    original: dict[str, Any] = _json(vector.action)
    action = msgspec.json.decode(vector.action, type=cls)

    encoded = EXCHANGE_JSON_ENCODER.encode(action)

    tag = cls.__struct_config__.tag
    assert encoded.startswith(b'{"type":"' + str(tag).encode() + b'"')
    assert _json(encoded) == {**original, "type": tag}
    assert ACTION_DECODER.decode(encoded) == action


def test_order_wire_keys_follow_hashed_order_and_omit_unused_cloid() -> None:
    limit = OrderWire(
        a=0, b=True, p="65000", s="0.001", r=False, t=OrderTypeWire(limit=LimitOrderType("Gtc"))
    )
    trigger = OrderWire(
        a=1,
        b=False,
        p="2700",
        s="0.01",
        r=True,
        t=OrderTypeWire(trigger=TriggerOrderType(isMarket=True, triggerPx="2800", tpsl="sl")),
        c="0x0000000000000000000000000000002a",
    )

    action = OrderAction(orders=[limit, trigger], grouping="normalTpsl")

    assert EXCHANGE_JSON_ENCODER.encode(action) == (
        b'{"type":"order","orders":['
        b'{"a":0,"b":true,"p":"65000","s":"0.001","r":false,"t":{"limit":{"tif":"Gtc"}}},'
        b'{"a":1,"b":false,"p":"2700","s":"0.01","r":true,'
        b'"t":{"trigger":{"isMarket":true,"triggerPx":"2800","tpsl":"sl"}},'
        b'"c":"0x0000000000000000000000000000002a"}],'
        b'"grouping":"normalTpsl"}'
    )


def test_builder_is_appended_after_grouping_only_when_set() -> None:
    order = OrderWire(
        a=0, b=True, p="1", s="1", r=False, t=OrderTypeWire(limit=LimitOrderType("Ioc"))
    )
    action = OrderAction(orders=[order], grouping="na", builder=BuilderInfo(b="0xb", f=10))

    wire = action_to_wire(action)

    assert list(wire) == ["type", "orders", "grouping", "builder"]
    assert wire["builder"] == {"b": "0xb", "f": 10}
    assert "builder" not in action_to_wire(OrderAction(orders=[order], grouping="na"))


def test_fast_and_always_place_flags_are_absent_unless_true() -> None:
    plain = CancelAction(cancels=[CancelWire(a=0, o=7)])
    fast = CancelAction(cancels=[CancelWire(a=0, o=7)], f=True)
    order = OrderWire(
        a=0, b=True, p="1", s="1", r=False, t=OrderTypeWire(limit=LimitOrderType("Alo"))
    )

    assert EXCHANGE_JSON_ENCODER.encode(plain) == b'{"type":"cancel","cancels":[{"a":0,"o":7}]}'
    assert EXCHANGE_JSON_ENCODER.encode(fast).endswith(b',"f":true}')
    assert list(action_to_wire(ModifyAction(oid=5, order=order))) == ["type", "oid", "order"]
    assert list(action_to_wire(ModifyAction(oid=5, order=order, a=True))) == [
        "type",
        "oid",
        "order",
        "a",
    ]
    batch = BatchModifyAction(modifies=[ModifyWire(oid="0x" + "0" * 32, order=order)])
    assert "a" not in action_to_wire(batch)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"type":"cancel","cancels":[{"a":0,"o":7}],"f":false}', "f"),
        (
            b'{"type":"modify","oid":1,"order":{"a":0,"b":true,"p":"1","s":"1","r":false,'
            b'"t":{"limit":{"tif":"Gtc"}}},"a":false}',
            "a",
        ),
    ],
)
def test_false_flags_that_the_venue_rejects_are_refused_on_decode(body: bytes, key: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=rf"False - at `\$\.{key}`"):
        ACTION_DECODER.decode(body)


def test_schedule_cancel_without_time_and_unnamed_agent_omit_the_keys() -> None:
    agent = ApproveAgentAction(
        signatureChainId="0x66eee", hyperliquidChain="Mainnet", agentAddress="0xa", nonce=1
    )

    assert EXCHANGE_JSON_ENCODER.encode(ScheduleCancelAction()) == b'{"type":"scheduleCancel"}'
    assert "agentName" not in action_to_wire(agent)
    assert ACTION_DECODER.decode(EXCHANGE_JSON_ENCODER.encode(agent)) == agent


@pytest.mark.parametrize(
    "order_type",
    [b"{}", b'{"limit":{"tif":"Gtc"},"trigger":{"isMarket":true,"triggerPx":"1","tpsl":"tp"}}'],
)
def test_order_type_must_be_exactly_limit_or_trigger(order_type: bytes) -> None:
    body = b'{"type":"order","orders":[{"a":0,"b":true,"p":"1","s":"1","r":false,"t":'
    body += order_type + b'}],"grouping":"na"}'

    with pytest.raises(msgspec.ValidationError, match="exactly one"):
        ACTION_DECODER.decode(body)


def test_an_order_status_of_unknown_shape_is_refused() -> None:
    body = b'{"status":"ok","response":{"type":"order","data":{"statuses":[{"queued":{}}]}}}'

    with pytest.raises(msgspec.ValidationError, match="exactly one"):
        EXCHANGE_RESPONSE_DECODER.decode(body)


@settings(max_examples=200, deadline=None)
@given(
    asset=st.integers(min_value=0, max_value=2**32),
    ntli=st.integers(min_value=-(2**63), max_value=2**64 - 1),
    price=st.text(max_size=40),
    size=st.text(max_size=40),
    is_buy=st.booleans(),
    cloid=st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32),
)
def test_msgpack_bytes_match_the_sdk_packer_for_any_values(
    asset: int, ntli: int, price: str, size: str, is_buy: bool, cloid: str | None
) -> None:
    order = OrderWire(
        a=asset,
        b=is_buy,
        p=price,
        s=size,
        r=not is_buy,
        t=OrderTypeWire(limit=LimitOrderType("Gtc")),
        c=UNSET if cloid is None else "0x" + cloid,
    )
    actions: list[Action] = [
        OrderAction(orders=[order], grouping="na"),
        UpdateIsolatedMarginAction(asset=asset, isBuy=is_buy, ntli=ntli),
    ]

    for action in actions:
        assert action_msgpack(action) == msgpack.packb(action_to_wire(action))


# --------------------------------------------------------------------------------------------
# Coverage of the protocol surface
# --------------------------------------------------------------------------------------------


def test_every_info_request_type_has_a_response_type() -> None:
    assert _tags(InfoRequest) == set(INFO_RESPONSE_TYPES)


def test_info_requests_encode_without_unset_parameters() -> None:
    assert INFO_JSON_ENCODER.encode(L2BookRequest(coin="ETH")) == b'{"type":"l2Book","coin":"ETH"}'
    sdk_body = b'{"type":"clearinghouseState","user":"0xabc","dex":""}'
    request = INFO_REQUEST_DECODER.decode(sdk_body)
    assert request == info_schemas.ClearinghouseStateRequest(user="0xabc", dex="")
    assert INFO_JSON_ENCODER.encode(request) == sdk_body


def test_ws_frame_union_covers_the_documented_channels() -> None:
    documented = {
        "subscriptionResponse", "error", "pong", "post", "l2Book", "bbo", "trades", "candle",
        "allMids", "activeAssetCtx", "activeSpotAssetCtx", "activeAssetData", "orderUpdates",
        "user", "userFills", "userFundings", "userNonFundingLedgerUpdates", "notification",
        "webData2", "webData3", "clearinghouseState", "openOrders", "spotState", "twapStates",
        "userTwapHistory", "userTwapSliceFills", "allDexsClearinghouseState",
        "allDexsAssetCtxs", "fastAssetCtxs", "outcomeMetaUpdates",
    }  # fmt: skip

    assert documented <= _tags(WsFrame)


def test_client_messages_encode_as_the_venue_expects() -> None:
    subscribe = SubscribeMessage(subscription=L2BookSubscription(coin="BTC"))
    unsubscribe = UnsubscribeMessage(subscription=L2BookSubscription(coin="BTC"))

    assert WS_JSON_ENCODER.encode(PingMessage()) == b'{"method":"ping"}'
    assert WS_JSON_ENCODER.encode(subscribe) == (
        b'{"method":"subscribe","subscription":{"type":"l2Book","coin":"BTC"}}'
    )
    assert WS_CLIENT_MESSAGE_DECODER.decode(WS_JSON_ENCODER.encode(unsubscribe)) == unsubscribe


def test_post_action_request_carries_a_full_signed_body() -> None:
    body = SIGNING_VECTORS.l1[0].exchange_request_body
    message = b'{"method":"post","id":9,"request":{"type":"action","payload":' + body + b"}}"

    decoded = WS_CLIENT_MESSAGE_DECODER.decode(message)

    assert isinstance(decoded, PostMessage)
    assert isinstance(decoded.request, ws_schemas.PostActionRequest)
    assert isinstance(decoded.request.payload, ExchangeRequest)
    assert decoded.request.payload == EXCHANGE_REQUEST_DECODER.decode(body)


def test_user_signed_action_types_match_the_user_signed_union() -> None:
    assert _tags(exchange_schemas.UserSignedAction) == USER_SIGNED_ACTION_TYPES
    assert not _tags(exchange_schemas.L1Action) & USER_SIGNED_ACTION_TYPES


def test_hot_types_are_frozen() -> None:
    book = _info("info_l2Book.json", "l2Book")

    with pytest.raises(AttributeError):
        book.levels[0][0].px = "1"  # type: ignore[misc]
    assert Trade.__struct_config__.frozen
