"""WebSocket messages: subscriptions, client messages and server frames.

Server frames are `{"channel": ..., "data": ...}`; `WsFrame` is a tagged union on `channel` with one
Struct per channel and a typed `data`, decoded by `WS_FRAME_DECODER` in one pass (no dict step).
Client messages (`subscribe`, `unsubscribe`, `ping`, `post`) are a tagged union on `method`, and
subscription objects a tagged union on `type`; their optional keys are `UNSET` and left out on
encode, because an unsubscribe must repeat the subscription exactly. The plain-text greeting
`Websocket connection established.` is not JSON and is not a frame: skip it before decoding.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any
from typing import Literal

import msgspec
from msgspec import UNSET
from msgspec import UnsetType

from adapters.hyperliquid.schemas.common import ActiveAssetData
from adapters.hyperliquid.schemas.common import Bbo
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import LedgerUpdate
from adapters.hyperliquid.schemas.common import OrderUpdate
from adapters.hyperliquid.schemas.common import PerpAssetCtx
from adapters.hyperliquid.schemas.common import SpotAssetCtx
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.common import Trade
from adapters.hyperliquid.schemas.common import TwapSliceFill
from adapters.hyperliquid.schemas.common import TwapState
from adapters.hyperliquid.schemas.common import UserFunding
from adapters.hyperliquid.schemas.exchange import ExchangeRequest
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.info import InfoRequest

# --------------------------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------------------------


class _Subscription(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of subscription objects: the venue's `type` is the tag and is encoded first."""


class AllMidsSubscription(_Subscription, frozen=True, kw_only=True, tag="allMids"):
    """Mids of every coin of a dex."""

    dex: str | UnsetType = UNSET


class L2BookSubscription(_Subscription, frozen=True, kw_only=True, tag="l2Book"):
    """Book snapshots; `fast` gives 5 levels, `nSigFigs`/`mantissa` aggregate."""

    coin: str
    nSigFigs: int | UnsetType | None = UNSET
    mantissa: int | UnsetType | None = UNSET
    fast: bool | UnsetType = UNSET


class BboSubscription(_Subscription, frozen=True, kw_only=True, tag="bbo"):
    """Top of book, pushed when it changes within a block."""

    coin: str


class TradesSubscription(_Subscription, frozen=True, kw_only=True, tag="trades"):
    """Public trades of a coin (recent prints are replayed on subscribe)."""

    coin: str


class CandleSubscription(_Subscription, frozen=True, kw_only=True, tag="candle"):
    """The current candle of a coin and interval."""

    coin: str
    interval: str


class ActiveAssetCtxSubscription(_Subscription, frozen=True, kw_only=True, tag="activeAssetCtx"):
    """Asset context of a coin (channel `activeSpotAssetCtx` for spot coins)."""

    coin: str


class ActiveAssetDataSubscription(_Subscription, frozen=True, kw_only=True, tag="activeAssetData"):
    """Leverage and trade capacity of a user on a perp coin."""

    user: str
    coin: str


class OrderUpdatesSubscription(_Subscription, frozen=True, kw_only=True, tag="orderUpdates"):
    """Status changes of the user's orders (frames carry no user id)."""

    user: str


class UserEventsSubscription(_Subscription, frozen=True, kw_only=True, tag="userEvents"):
    """Fills, funding, liquidations, non-user cancels (channel `user`, no user id)."""

    user: str


class UserFillsSubscription(_Subscription, frozen=True, kw_only=True, tag="userFills"):
    """The user's fills (snapshot first)."""

    user: str
    aggregateByTime: bool | UnsetType = UNSET


class UserFundingsSubscription(_Subscription, frozen=True, kw_only=True, tag="userFundings"):
    """The user's funding payments (snapshot first)."""

    user: str


class UserNonFundingLedgerUpdatesSubscription(
    _Subscription, frozen=True, kw_only=True, tag="userNonFundingLedgerUpdates"
):
    """The user's deposits, withdrawals, transfers and liquidations (snapshot first)."""

    user: str


class NotificationSubscription(_Subscription, frozen=True, kw_only=True, tag="notification"):
    """Human-readable notifications for the user."""

    user: str


class WebData2Subscription(_Subscription, frozen=True, kw_only=True, tag="webData2"):
    """Frontend aggregate (undocumented; superseded by webData3)."""

    user: str


class WebData3Subscription(_Subscription, frozen=True, kw_only=True, tag="webData3"):
    """Frontend aggregate of user state and per-dex state."""

    user: str


class ClearinghouseStateSubscription(
    _Subscription, frozen=True, kw_only=True, tag="clearinghouseState"
):
    """Perp account state of the user on a dex."""

    user: str
    dex: str | UnsetType = UNSET


class OpenOrdersSubscription(_Subscription, frozen=True, kw_only=True, tag="openOrders"):
    """Open orders (frontend shape) of the user on a dex."""

    user: str
    dex: str | UnsetType = UNSET


class SpotStateSubscription(_Subscription, frozen=True, kw_only=True, tag="spotState"):
    """Spot balances of the user."""

    user: str


class TwapStatesSubscription(_Subscription, frozen=True, kw_only=True, tag="twapStates"):
    """Running TWAPs of the user on a dex."""

    user: str
    dex: str | UnsetType = UNSET


class UserTwapSliceFillsSubscription(
    _Subscription, frozen=True, kw_only=True, tag="userTwapSliceFills"
):
    """Fills produced by the user's TWAP slices (snapshot first)."""

    user: str


class UserTwapHistorySubscription(_Subscription, frozen=True, kw_only=True, tag="userTwapHistory"):
    """History of the user's TWAPs (snapshot first; `time` in seconds)."""

    user: str


class AllDexsClearinghouseStateSubscription(
    _Subscription, frozen=True, kw_only=True, tag="allDexsClearinghouseState"
):
    """Perp account state of the user on every dex."""

    user: str


class AllDexsAssetCtxsSubscription(
    _Subscription, frozen=True, kw_only=True, tag="allDexsAssetCtxs"
):
    """Asset contexts of every perp on every dex."""


class FastAssetCtxsSubscription(_Subscription, frozen=True, kw_only=True, tag="fastAssetCtxs"):
    """Compressed mark/mid updates of every coin (snapshot then deltas)."""


class OutcomeMetaUpdatesSubscription(
    _Subscription, frozen=True, kw_only=True, tag="outcomeMetaUpdates"
):
    """Creation and settlement of prediction outcomes and questions."""


Subscription = (
    AllMidsSubscription
    | L2BookSubscription
    | BboSubscription
    | TradesSubscription
    | CandleSubscription
    | ActiveAssetCtxSubscription
    | ActiveAssetDataSubscription
    | OrderUpdatesSubscription
    | UserEventsSubscription
    | UserFillsSubscription
    | UserFundingsSubscription
    | UserNonFundingLedgerUpdatesSubscription
    | NotificationSubscription
    | WebData2Subscription
    | WebData3Subscription
    | ClearinghouseStateSubscription
    | OpenOrdersSubscription
    | SpotStateSubscription
    | TwapStatesSubscription
    | UserTwapSliceFillsSubscription
    | UserTwapHistorySubscription
    | AllDexsClearinghouseStateSubscription
    | AllDexsAssetCtxsSubscription
    | FastAssetCtxsSubscription
    | OutcomeMetaUpdatesSubscription
)
"""Any subscription object, discriminated by its `type`."""

# --------------------------------------------------------------------------------------------
# Client -> server messages
# --------------------------------------------------------------------------------------------


class _PostRequestBody(msgspec.Struct, frozen=True, tag_field="type"):
    """Base of the `request` of a WS post."""


class PostInfoRequest(_PostRequestBody, frozen=True, tag="info"):
    """A WS post carrying an `/info` body."""

    payload: InfoRequest


class PostActionRequest(_PostRequestBody, frozen=True, tag="action"):
    """A WS post carrying a full signed `/exchange` body."""

    payload: ExchangeRequest


PostRequest = PostInfoRequest | PostActionRequest


class _ClientMessage(msgspec.Struct, frozen=True, tag_field="method"):
    """Base of client messages: the tag is the venue's `method`."""


class SubscribeMessage(_ClientMessage, frozen=True, tag="subscribe"):
    """Start a subscription."""

    subscription: Subscription


class UnsubscribeMessage(_ClientMessage, frozen=True, tag="unsubscribe"):
    """Stop a subscription (must repeat the subscription object exactly)."""

    subscription: Subscription


class PingMessage(_ClientMessage, frozen=True, tag="ping"):
    """Heartbeat; the server answers with a `pong` frame. Send before 60 s of silence."""


class PostMessage(_ClientMessage, frozen=True, tag="post"):
    """An info or action request over the socket; `id` matches the `post` answer."""

    id: int
    request: PostRequest


WsClientMessage = SubscribeMessage | UnsubscribeMessage | PingMessage | PostMessage
"""Anything a client sends, discriminated by its `method`."""

# --------------------------------------------------------------------------------------------
# Channel data
# --------------------------------------------------------------------------------------------


class SubscriptionResponseData(msgspec.Struct, frozen=True):
    """Subscribe/unsubscribe ack; the echoed subscription includes server-filled defaults."""

    method: Literal["subscribe", "unsubscribe"]
    subscription: Subscription


class PostInfoPayload(msgspec.Struct, frozen=True):
    """An info answer over WS: decode `data` with `decode_info_response(type, data)`."""

    type: str
    data: msgspec.Raw


class _PostResponseBody(msgspec.Struct, frozen=True, tag_field="type"):
    """Base of the `response` of a `post` frame."""


class PostInfoResponse(_PostResponseBody, frozen=True, tag="info"):
    """Answer to a posted info request."""

    payload: PostInfoPayload


class PostActionResponse(_PostResponseBody, frozen=True, tag="action"):
    """Answer to a posted action: the normal `/exchange` answer."""

    payload: ExchangeResponse


class PostErrorResponse(_PostResponseBody, frozen=True, tag="error"):
    """A posted request failed; `payload` describes the HTTP status REST would have returned."""

    payload: str


PostResponse = PostInfoResponse | PostActionResponse | PostErrorResponse


class PostResponseData(msgspec.Struct, frozen=True):
    """The `data` of a `post` frame."""

    id: int
    response: PostResponse


class AllMids(msgspec.Struct, frozen=True):
    """Mid price per coin; `dex` is set for a HIP-3 dex push."""

    mids: dict[str, str]
    dex: str | None = None


class ActiveAssetCtx(msgspec.Struct, frozen=True):
    """A perp asset context push (no timestamp; about 1 s cadence)."""

    coin: str
    ctx: PerpAssetCtx


class ActiveSpotAssetCtx(msgspec.Struct, frozen=True):
    """A spot asset context push."""

    coin: str
    ctx: SpotAssetCtx


class UserLiquidation(msgspec.Struct, frozen=True):
    """The user was liquidated (snake_case keys are the venue's)."""

    lid: int
    liquidator: str
    liquidated_user: str
    liquidated_ntl_pos: str
    liquidated_account_value: str


class NonUserCancel(msgspec.Struct, frozen=True):
    """An order the venue cancelled (not the user)."""

    coin: str
    oid: int


class UserEvent(msgspec.Struct, frozen=True):
    """A `user` channel push: one of the fields is set (all `None` = an event kind not modelled
    here; not rejected, so a new kind never breaks the fills path).
    """

    fills: list[Fill] | None = None
    funding: UserFunding | None = None
    liquidation: UserLiquidation | None = None
    nonUserCancel: list[NonUserCancel] | None = None
    twapSliceFills: list[TwapSliceFill] | None = None


class UserFills(msgspec.Struct, frozen=True, kw_only=True):
    """The user's fills; the first push after subscribing has `isSnapshot` true."""

    isSnapshot: bool = False
    user: str
    fills: list[Fill]


class UserFundings(msgspec.Struct, frozen=True, kw_only=True):
    """The user's funding payments; the first push has `isSnapshot` true."""

    isSnapshot: bool = False
    user: str
    fundings: list[UserFunding]


class UserNonFundingLedgerUpdates(msgspec.Struct, frozen=True, kw_only=True):
    """The user's ledger updates; the first push has `isSnapshot` true."""

    isSnapshot: bool = False
    user: str
    nonFundingLedgerUpdates: list[LedgerUpdate]


class Notification(msgspec.Struct, frozen=True):
    """UI notification text."""

    notification: str


class WebData3(msgspec.Struct, frozen=True):
    """Frontend aggregate, loosely typed: not used for trading decisions."""

    userState: dict[str, Any]
    perpDexStates: list[dict[str, Any]]


class ClearinghouseStateData(msgspec.Struct, frozen=True, kw_only=True):
    """Perp account state push for one dex (`""` = default dex)."""

    dex: str = ""
    user: str
    clearinghouseState: ClearinghouseState


class OpenOrdersData(msgspec.Struct, frozen=True, kw_only=True):
    """Open orders push for one dex."""

    dex: str = ""
    user: str
    orders: list[FrontendOrder]


class SpotStateData(msgspec.Struct, frozen=True):
    """Spot balances push."""

    user: str
    spotState: SpotClearinghouseState


class TwapStatesData(msgspec.Struct, frozen=True, kw_only=True):
    """Running TWAPs as `[[twapId, state], ...]`."""

    dex: str = ""
    user: str
    states: list[tuple[int, TwapState]]


class TwapStatus(msgspec.Struct, frozen=True):
    """Final or current status of a TWAP (`activated`, `finished`, `terminated`, `error`)."""

    status: str
    description: str


class TwapHistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """A TWAP history row; `time` is in SECONDS, unlike everywhere else."""

    time: int
    state: TwapState
    status: TwapStatus
    twapId: int | None = None


class UserTwapHistory(msgspec.Struct, frozen=True, kw_only=True):
    """The user's TWAP history; the first push has `isSnapshot` true."""

    isSnapshot: bool = False
    user: str
    history: list[TwapHistoryEntry]


class UserTwapSliceFills(msgspec.Struct, frozen=True, kw_only=True):
    """Fills of the user's TWAP slices; the first push has `isSnapshot` true."""

    isSnapshot: bool = False
    user: str
    twapSliceFills: list[TwapSliceFill]


class AllDexsClearinghouseState(msgspec.Struct, frozen=True):
    """Perp account state per dex as `[[dex, state], ...]`."""

    user: str
    clearinghouseStates: list[tuple[str, ClearinghouseState]]


class AllDexsAssetCtxs(msgspec.Struct, frozen=True):
    """Perp asset contexts per dex as `[[dex, [ctx, ...]], ...]` (universe order)."""

    ctxs: list[tuple[str, list[PerpAssetCtx]]]


class OutcomeSideSpec(msgspec.Struct, frozen=True):
    """One side of a prediction outcome."""

    name: str


class OutcomeCreated(msgspec.Struct, frozen=True, kw_only=True):
    """A new prediction outcome."""

    outcome: int
    name: str
    description: str
    sideSpecs: list[OutcomeSideSpec]
    quoteToken: str | None = None
    venue: str | None = None
    deployerFeeScale: str | None = None


class QuestionUpdated(msgspec.Struct, frozen=True, kw_only=True):
    """A prediction question grouping outcomes was created or changed."""

    question: int
    name: str
    description: str
    fallbackOutcome: int | None = None
    namedOutcomes: list[int] = []
    settledNamedOutcomes: list[int] = []


class OutcomeMetaUpdate(msgspec.Struct, frozen=True):
    """One outcome-meta event: exactly one of the fields is set."""

    outcomeCreated: OutcomeCreated | None = None
    outcomeSettled: int | None = None
    questionUpdated: QuestionUpdated | None = None
    questionSettled: int | None = None


class FastAssetCtx(msgspec.Struct, frozen=True):
    """Mark and/or mid of one coin inside a decompressed `fastAssetCtxs` push."""

    markPx: str | None = None
    midPx: str | None = None


# --------------------------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------------------------


class _Frame(msgspec.Struct, frozen=True, tag_field="channel"):
    """Base of server frames: the tag is the venue's `channel`."""


class SubscriptionResponseFrame(_Frame, frozen=True, tag="subscriptionResponse"):
    """Subscribe/unsubscribe acknowledgement."""

    data: SubscriptionResponseData


class ErrorFrame(_Frame, frozen=True, tag="error"):
    """Server-side error text (e.g. `Already unsubscribed: {...}`)."""

    data: str


class PongFrame(_Frame, frozen=True, tag="pong"):
    """Answer to a ping."""


class PostFrame(_Frame, frozen=True, tag="post"):
    """Answer to a WS post request."""

    data: PostResponseData


class L2BookFrame(_Frame, frozen=True, tag="l2Book"):
    """Full book snapshot."""

    data: L2Book


class BboFrame(_Frame, frozen=True, tag="bbo"):
    """Top of book."""

    data: Bbo


class TradesFrame(_Frame, frozen=True, tag="trades"):
    """Public trades."""

    data: list[Trade]


class CandleFrame(_Frame, frozen=True, tag="candle"):
    """The current candle (one object per push)."""

    data: Candle


class AllMidsFrame(_Frame, frozen=True, tag="allMids"):
    """Mids of every coin of a dex."""

    data: AllMids


class ActiveAssetCtxFrame(_Frame, frozen=True, tag="activeAssetCtx"):
    """Perp asset context."""

    data: ActiveAssetCtx


class ActiveSpotAssetCtxFrame(_Frame, frozen=True, tag="activeSpotAssetCtx"):
    """Spot asset context."""

    data: ActiveSpotAssetCtx


class ActiveAssetDataFrame(_Frame, frozen=True, tag="activeAssetData"):
    """Leverage and trade capacity of a user on a coin."""

    data: ActiveAssetData


class OrderUpdatesFrame(_Frame, frozen=True, tag="orderUpdates"):
    """Order status changes (no user id)."""

    data: list[OrderUpdate]


class UserEventsFrame(_Frame, frozen=True, tag="user"):
    """A `userEvents` push (channel name `user`)."""

    data: UserEvent


class UserFillsFrame(_Frame, frozen=True, tag="userFills"):
    """The user's fills."""

    data: UserFills


class UserFundingsFrame(_Frame, frozen=True, tag="userFundings"):
    """The user's funding payments."""

    data: UserFundings


class UserNonFundingLedgerUpdatesFrame(_Frame, frozen=True, tag="userNonFundingLedgerUpdates"):
    """The user's ledger updates."""

    data: UserNonFundingLedgerUpdates


class NotificationFrame(_Frame, frozen=True, tag="notification"):
    """A UI notification."""

    data: Notification


class WebData2Frame(_Frame, frozen=True, tag="webData2"):
    """Undocumented frontend aggregate, kept as a dict."""

    data: dict[str, Any]


class WebData3Frame(_Frame, frozen=True, tag="webData3"):
    """Frontend aggregate."""

    data: WebData3


class ClearinghouseStateFrame(_Frame, frozen=True, tag="clearinghouseState"):
    """Perp account state of one dex."""

    data: ClearinghouseStateData


class OpenOrdersFrame(_Frame, frozen=True, tag="openOrders"):
    """Open orders of one dex."""

    data: OpenOrdersData


class SpotStateFrame(_Frame, frozen=True, tag="spotState"):
    """Spot balances."""

    data: SpotStateData


class TwapStatesFrame(_Frame, frozen=True, tag="twapStates"):
    """Running TWAPs."""

    data: TwapStatesData


class UserTwapHistoryFrame(_Frame, frozen=True, tag="userTwapHistory"):
    """TWAP history."""

    data: UserTwapHistory


class UserTwapSliceFillsFrame(_Frame, frozen=True, tag="userTwapSliceFills"):
    """TWAP slice fills."""

    data: UserTwapSliceFills


class AllDexsClearinghouseStateFrame(_Frame, frozen=True, tag="allDexsClearinghouseState"):
    """Perp account state of every dex."""

    data: AllDexsClearinghouseState


class AllDexsAssetCtxsFrame(_Frame, frozen=True, tag="allDexsAssetCtxs"):
    """Perp asset contexts of every dex."""

    data: AllDexsAssetCtxs


class FastAssetCtxsFrame(_Frame, frozen=True, tag="fastAssetCtxs"):
    """Base64 raw-DEFLATE JSON of `{coin: {markPx?, midPx?}}`; see `decode_fast_asset_ctxs`."""

    data: str


class OutcomeMetaUpdatesFrame(_Frame, frozen=True, tag="outcomeMetaUpdates"):
    """Prediction outcome and question events."""

    data: list[OutcomeMetaUpdate]


WsFrame = (
    SubscriptionResponseFrame
    | ErrorFrame
    | PongFrame
    | PostFrame
    | L2BookFrame
    | BboFrame
    | TradesFrame
    | CandleFrame
    | AllMidsFrame
    | ActiveAssetCtxFrame
    | ActiveSpotAssetCtxFrame
    | ActiveAssetDataFrame
    | OrderUpdatesFrame
    | UserEventsFrame
    | UserFillsFrame
    | UserFundingsFrame
    | UserNonFundingLedgerUpdatesFrame
    | NotificationFrame
    | WebData2Frame
    | WebData3Frame
    | ClearinghouseStateFrame
    | OpenOrdersFrame
    | SpotStateFrame
    | TwapStatesFrame
    | UserTwapHistoryFrame
    | UserTwapSliceFillsFrame
    | AllDexsClearinghouseStateFrame
    | AllDexsAssetCtxsFrame
    | FastAssetCtxsFrame
    | OutcomeMetaUpdatesFrame
)
"""Any server frame, discriminated by its `channel`."""

# --------------------------------------------------------------------------------------------
# Codecs (built once)
# --------------------------------------------------------------------------------------------

WS_FRAME_DECODER: msgspec.json.Decoder[WsFrame] = msgspec.json.Decoder(WsFrame)
WS_CLIENT_MESSAGE_DECODER: msgspec.json.Decoder[WsClientMessage] = msgspec.json.Decoder(
    WsClientMessage
)
WS_JSON_ENCODER = msgspec.json.Encoder()
_FAST_ASSET_CTXS_DECODER: msgspec.json.Decoder[dict[str, FastAssetCtx]] = msgspec.json.Decoder(
    dict[str, FastAssetCtx]
)


def decode_fast_asset_ctxs(data: str) -> dict[str, FastAssetCtx]:
    """Unpack a `fastAssetCtxs` payload: base64 -> raw DEFLATE (no zlib header) -> JSON."""
    raw = zlib.decompress(base64.b64decode(data, validate=True), wbits=-15)
    return _FAST_ASSET_CTXS_DECODER.decode(raw)


__all__ = [
    "WS_CLIENT_MESSAGE_DECODER",
    "WS_FRAME_DECODER",
    "WS_JSON_ENCODER",
    "ActiveAssetCtx",
    "ActiveAssetCtxFrame",
    "ActiveAssetCtxSubscription",
    "ActiveAssetDataFrame",
    "ActiveAssetDataSubscription",
    "ActiveSpotAssetCtx",
    "ActiveSpotAssetCtxFrame",
    "AllDexsAssetCtxs",
    "AllDexsAssetCtxsFrame",
    "AllDexsAssetCtxsSubscription",
    "AllDexsClearinghouseState",
    "AllDexsClearinghouseStateFrame",
    "AllDexsClearinghouseStateSubscription",
    "AllMids",
    "AllMidsFrame",
    "AllMidsSubscription",
    "BboFrame",
    "BboSubscription",
    "CandleFrame",
    "CandleSubscription",
    "ClearinghouseStateData",
    "ClearinghouseStateFrame",
    "ClearinghouseStateSubscription",
    "ErrorFrame",
    "FastAssetCtx",
    "FastAssetCtxsFrame",
    "FastAssetCtxsSubscription",
    "L2BookFrame",
    "L2BookSubscription",
    "NonUserCancel",
    "Notification",
    "NotificationFrame",
    "NotificationSubscription",
    "OpenOrdersData",
    "OpenOrdersFrame",
    "OpenOrdersSubscription",
    "OrderUpdatesFrame",
    "OrderUpdatesSubscription",
    "OutcomeCreated",
    "OutcomeMetaUpdate",
    "OutcomeMetaUpdatesFrame",
    "OutcomeMetaUpdatesSubscription",
    "OutcomeSideSpec",
    "PingMessage",
    "PongFrame",
    "PostActionRequest",
    "PostActionResponse",
    "PostErrorResponse",
    "PostFrame",
    "PostInfoPayload",
    "PostInfoRequest",
    "PostInfoResponse",
    "PostMessage",
    "PostRequest",
    "PostResponse",
    "PostResponseData",
    "QuestionUpdated",
    "SpotStateData",
    "SpotStateFrame",
    "SpotStateSubscription",
    "SubscribeMessage",
    "Subscription",
    "SubscriptionResponseData",
    "SubscriptionResponseFrame",
    "TradesFrame",
    "TradesSubscription",
    "TwapHistoryEntry",
    "TwapStatesData",
    "TwapStatesFrame",
    "TwapStatesSubscription",
    "TwapStatus",
    "UnsubscribeMessage",
    "UserEvent",
    "UserEventsFrame",
    "UserEventsSubscription",
    "UserFills",
    "UserFillsFrame",
    "UserFillsSubscription",
    "UserFundings",
    "UserFundingsFrame",
    "UserFundingsSubscription",
    "UserLiquidation",
    "UserNonFundingLedgerUpdates",
    "UserNonFundingLedgerUpdatesFrame",
    "UserNonFundingLedgerUpdatesSubscription",
    "UserTwapHistory",
    "UserTwapHistoryFrame",
    "UserTwapHistorySubscription",
    "UserTwapSliceFills",
    "UserTwapSliceFillsFrame",
    "UserTwapSliceFillsSubscription",
    "WebData2Frame",
    "WebData2Subscription",
    "WebData3",
    "WebData3Frame",
    "WebData3Subscription",
    "WsClientMessage",
    "WsFrame",
    "decode_fast_asset_ctxs",
]
