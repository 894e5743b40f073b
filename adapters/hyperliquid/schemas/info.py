"""`POST /info` request bodies and the response type of every info request.

Requests are a tagged union on `type` (`INFO_REQUEST_DECODER` turns any info body into its
Struct — the simulator's entry point); optional parameters are `UNSET` and left out on encode, as
the venue expects. Responses have no tag of their own, so `INFO_RESPONSE_TYPES` maps a request
`type` to its response type and `decode_info_response` decodes a body knowing only that `type`
(decoders are built once, here).
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET
from msgspec import UnsetType

from adapters.hyperliquid.schemas.common import ActiveAssetData
from adapters.hyperliquid.schemas.common import BasicOrder
from adapters.hyperliquid.schemas.common import Candle
from adapters.hyperliquid.schemas.common import ClearinghouseState
from adapters.hyperliquid.schemas.common import Fill
from adapters.hyperliquid.schemas.common import FrontendOrder
from adapters.hyperliquid.schemas.common import FrontendOrderStatus
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.common import LedgerUpdate
from adapters.hyperliquid.schemas.common import PerpAssetCtx
from adapters.hyperliquid.schemas.common import SpotAssetCtx
from adapters.hyperliquid.schemas.common import SpotClearinghouseState
from adapters.hyperliquid.schemas.common import TwapSliceFill

# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


class _InfoRequest(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of info request bodies: the tag is the venue's `type` and is encoded first."""


class MetaRequest(_InfoRequest, frozen=True, kw_only=True, tag="meta"):
    """Perp universe of one dex (`dex` omitted or `""` = default dex)."""

    dex: str | UnsetType = UNSET


class MetaAndAssetCtxsRequest(_InfoRequest, frozen=True, kw_only=True, tag="metaAndAssetCtxs"):
    """Perp universe plus the live context of every asset, same order."""

    dex: str | UnsetType = UNSET


class AllPerpMetasRequest(_InfoRequest, frozen=True, kw_only=True, tag="allPerpMetas"):
    """Perp universes of every dex (default dex first, then HIP-3 dexs)."""


class SpotMetaRequest(_InfoRequest, frozen=True, kw_only=True, tag="spotMeta"):
    """Spot tokens and pairs."""


class SpotMetaAndAssetCtxsRequest(
    _InfoRequest, frozen=True, kw_only=True, tag="spotMetaAndAssetCtxs"
):
    """Spot tokens and pairs plus the live context of every pair."""


class PerpDexsRequest(_InfoRequest, frozen=True, kw_only=True, tag="perpDexs"):
    """The list of perp dexs (index 0 is the default dex, sent as `null`)."""


class AllMidsRequest(_InfoRequest, frozen=True, kw_only=True, tag="allMids"):
    """Mid price of every coin of a dex."""

    dex: str | UnsetType = UNSET


class L2BookRequest(_InfoRequest, frozen=True, kw_only=True, tag="l2Book"):
    """Book snapshot; `nSigFigs` (2-5) and `mantissa` (1/2/5) aggregate levels."""

    coin: str
    nSigFigs: int | UnsetType | None = UNSET
    mantissa: int | UnsetType | None = UNSET


class CandleSnapshotParams(msgspec.Struct, frozen=True, kw_only=True):
    """The `req` object of a candle snapshot request (times in ms)."""

    coin: str
    interval: str
    startTime: int
    endTime: int | UnsetType = UNSET


class CandleSnapshotRequest(_InfoRequest, frozen=True, kw_only=True, tag="candleSnapshot"):
    """Candles for a coin and interval; the venue keeps only the newest 5000."""

    req: CandleSnapshotParams


class ClearinghouseStateRequest(_InfoRequest, frozen=True, kw_only=True, tag="clearinghouseState"):
    """Perp account state of `user` on a dex."""

    user: str
    dex: str | UnsetType = UNSET


class SpotClearinghouseStateRequest(
    _InfoRequest, frozen=True, kw_only=True, tag="spotClearinghouseState"
):
    """Spot balances of `user`."""

    user: str


class OpenOrdersRequest(_InfoRequest, frozen=True, kw_only=True, tag="openOrders"):
    """Resting orders of `user` (basic shape)."""

    user: str
    dex: str | UnsetType = UNSET


class FrontendOpenOrdersRequest(_InfoRequest, frozen=True, kw_only=True, tag="frontendOpenOrders"):
    """Resting orders of `user` with trigger and TP/SL detail."""

    user: str
    dex: str | UnsetType = UNSET


class OrderStatusRequest(_InfoRequest, frozen=True, kw_only=True, tag="orderStatus"):
    """Status of one order by venue `oid` (int) or cloid (`0x` + 32 hex chars)."""

    user: str
    oid: int | str


class HistoricalOrdersRequest(_InfoRequest, frozen=True, kw_only=True, tag="historicalOrders"):
    """The newest 2000 orders of `user` with their final status."""

    user: str


class UserFillsRequest(_InfoRequest, frozen=True, kw_only=True, tag="userFills"):
    """The newest 2000 fills of `user`."""

    user: str
    aggregateByTime: bool | UnsetType = UNSET


class UserFillsByTimeRequest(_InfoRequest, frozen=True, kw_only=True, tag="userFillsByTime"):
    """Fills of `user` in a time window (ms), at most 2000 per call."""

    user: str
    startTime: int
    endTime: int | UnsetType | None = UNSET
    aggregateByTime: bool | UnsetType = UNSET


class UserFundingRequest(_InfoRequest, frozen=True, kw_only=True, tag="userFunding"):
    """Funding payments of `user` in a time window (ms)."""

    user: str
    startTime: int
    endTime: int | UnsetType | None = UNSET


class UserNonFundingLedgerUpdatesRequest(
    _InfoRequest, frozen=True, kw_only=True, tag="userNonFundingLedgerUpdates"
):
    """Deposits, withdrawals, transfers and liquidations of `user` in a time window (ms)."""

    user: str
    startTime: int
    endTime: int | UnsetType | None = UNSET


class FundingHistoryRequest(_InfoRequest, frozen=True, kw_only=True, tag="fundingHistory"):
    """Hourly funding rates of a coin in a time window (ms)."""

    coin: str
    startTime: int
    endTime: int | UnsetType | None = UNSET


class PredictedFundingsRequest(_InfoRequest, frozen=True, kw_only=True, tag="predictedFundings"):
    """Next funding rate per coin on Hyperliquid and other venues."""


class UserRateLimitRequest(_InfoRequest, frozen=True, kw_only=True, tag="userRateLimit"):
    """Address-based request budget of `user`."""

    user: str


class ActiveAssetDataRequest(_InfoRequest, frozen=True, kw_only=True, tag="activeAssetData"):
    """Leverage and trade capacity of `user` on a perp coin."""

    user: str
    coin: str


class UserFeesRequest(_InfoRequest, frozen=True, kw_only=True, tag="userFees"):
    """Fee schedule and the rates that apply to `user`."""

    user: str


class MaxBuilderFeeRequest(_InfoRequest, frozen=True, kw_only=True, tag="maxBuilderFee"):
    """The builder fee `user` approved for `builder` (tenths of a basis point)."""

    user: str
    builder: str


class UserRoleRequest(_InfoRequest, frozen=True, kw_only=True, tag="userRole"):
    """Whether an address is a user, agent, vault or sub-account."""

    user: str


class ExtraAgentsRequest(_InfoRequest, frozen=True, kw_only=True, tag="extraAgents"):
    """Named API wallets approved by `user`."""

    user: str


class UserTwapSliceFillsRequest(_InfoRequest, frozen=True, kw_only=True, tag="userTwapSliceFills"):
    """The newest TWAP slice fills of `user`."""

    user: str


InfoRequest = (
    MetaRequest
    | MetaAndAssetCtxsRequest
    | AllPerpMetasRequest
    | SpotMetaRequest
    | SpotMetaAndAssetCtxsRequest
    | PerpDexsRequest
    | AllMidsRequest
    | L2BookRequest
    | CandleSnapshotRequest
    | ClearinghouseStateRequest
    | SpotClearinghouseStateRequest
    | OpenOrdersRequest
    | FrontendOpenOrdersRequest
    | OrderStatusRequest
    | HistoricalOrdersRequest
    | UserFillsRequest
    | UserFillsByTimeRequest
    | UserFundingRequest
    | UserNonFundingLedgerUpdatesRequest
    | FundingHistoryRequest
    | PredictedFundingsRequest
    | UserRateLimitRequest
    | ActiveAssetDataRequest
    | UserFeesRequest
    | MaxBuilderFeeRequest
    | UserRoleRequest
    | ExtraAgentsRequest
    | UserTwapSliceFillsRequest
)
"""Any `/info` body, discriminated by its `type`."""

# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------


class MarginTier(msgspec.Struct, frozen=True):
    """Leverage allowed above a notional lower bound."""

    lowerBound: str
    maxLeverage: int


class MarginTable(msgspec.Struct, frozen=True):
    """Tiered leverage limits referenced by `PerpAssetMeta.marginTableId`."""

    description: str
    marginTiers: list[MarginTier]


class PerpAssetMeta(msgspec.Struct, frozen=True, kw_only=True):
    """One perp of a universe; its index in the universe is its asset id (offset for HIP-3)."""

    szDecimals: int
    name: str
    maxLeverage: int
    marginTableId: int | None = None
    onlyIsolated: bool = False
    isDelisted: bool = False
    marginMode: str | None = None
    growthMode: str | None = None


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """A perp dex universe; `marginTables` is `[[id, table], ...]` (absent in 2023 answers)."""

    universe: list[PerpAssetMeta]
    marginTables: list[tuple[int, MarginTable]] = []
    collateralToken: int | None = None


class EvmContract(msgspec.Struct, frozen=True):
    """The HyperEVM contract linked to a spot token."""

    address: str
    evm_extra_wei_decimals: int


class SpotToken(msgspec.Struct, frozen=True, kw_only=True):
    """A spot token; `index` is the token index (not the pair index used in asset ids)."""

    name: str
    szDecimals: int
    weiDecimals: int
    index: int
    tokenId: str
    isCanonical: bool
    evmContract: EvmContract | None = None
    fullName: str | None = None
    deployerTradingFeeShare: str | None = None


class SpotPair(msgspec.Struct, frozen=True):
    """A spot pair; `tokens` is `(base, quote)` token indices, asset id = 10000 + `index`."""

    name: str
    tokens: tuple[int, int]
    index: int
    isCanonical: bool


class SpotMeta(msgspec.Struct, frozen=True):
    """Spot tokens and pairs."""

    tokens: list[SpotToken]
    universe: list[SpotPair]


class PerpDex(msgspec.Struct, frozen=True, kw_only=True):
    """A builder-deployed (HIP-3) perp dex."""

    name: str
    fullName: str | None = None
    deployer: str | None = None
    oracleUpdater: str | None = None
    feeRecipient: str | None = None


class OrderStatusFound(msgspec.Struct, frozen=True, tag_field="status", tag="order"):
    """`orderStatus` answer for a known order."""

    order: FrontendOrderStatus


class OrderStatusUnknownOid(msgspec.Struct, frozen=True, tag_field="status", tag="unknownOid"):
    """`orderStatus` answer for an oid/cloid the venue does not know."""


OrderStatusResponse = OrderStatusFound | OrderStatusUnknownOid
"""The `orderStatus` answer, discriminated by its `status`."""


class FundingDelta(msgspec.Struct, frozen=True, kw_only=True):
    """The funding payment inside a `userFunding` entry (`type` is `"funding"`)."""

    type: str
    coin: str
    usdc: str
    szi: str
    fundingRate: str
    nSamples: int | None = None


class UserFundingEntry(msgspec.Struct, frozen=True):
    """One `userFunding` row."""

    time: int
    hash: str
    delta: FundingDelta


class FundingHistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One hourly funding row of a coin (`premium` is missing on some rows)."""

    coin: str
    fundingRate: str
    premium: str | None = None
    time: int


class PredictedFunding(msgspec.Struct, frozen=True, kw_only=True):
    """Next funding of a coin on one venue (`"HlPerp"` = Hyperliquid)."""

    fundingRate: str
    nextFundingTime: int
    fundingIntervalHours: int | None = None


class UserRateLimit(msgspec.Struct, frozen=True, kw_only=True):
    """Address-based request budget: used vs cap (cap grows with traded volume)."""

    cumVlm: str
    nRequestsUsed: int
    nRequestsCap: int
    nRequestsSurplus: int | None = None


class DailyUserVolume(msgspec.Struct, frozen=True):
    """A day of the user's taker (`userCross`) and maker (`userAdd`) volume."""

    date: str
    userCross: str
    userAdd: str
    exchange: str


class VipFeeTier(msgspec.Struct, frozen=True, kw_only=True):
    """Volume tier: taker (`cross`) and maker (`add`) rates above a notional cutoff."""

    ntlCutoff: str
    cross: str
    add: str
    spotCross: str | None = None
    spotAdd: str | None = None


class MakerFeeTier(msgspec.Struct, frozen=True):
    """Market-maker tier: maker rate above a maker volume share."""

    makerFractionCutoff: str
    add: str


class FeeTiers(msgspec.Struct, frozen=True):
    """VIP and market-maker fee tiers."""

    vip: list[VipFeeTier]
    mm: list[MakerFeeTier]


class FeeSchedule(msgspec.Struct, frozen=True, kw_only=True):
    """Base fee schedule: `cross` = taker, `add` = maker."""

    cross: str
    add: str
    spotCross: str | None = None
    spotAdd: str | None = None
    tiers: FeeTiers
    referralDiscount: str


class UserFees(msgspec.Struct, frozen=True, kw_only=True):
    """Fee schedule and the taker/maker rates that apply to the user."""

    dailyUserVlm: list[DailyUserVolume]
    feeSchedule: FeeSchedule
    userCrossRate: str
    userAddRate: str
    activeReferralDiscount: str


class UserRole(msgspec.Struct, frozen=True):
    """Role of an address (`user`, `agent`, `vault`, `subAccount`, `missing`)."""

    role: str
    data: dict[str, Any] | None = None


class ExtraAgent(msgspec.Struct, frozen=True):
    """A named API wallet and its expiry (ms)."""

    name: str
    address: str
    validUntil: int


MetaAndAssetCtxs = tuple[Meta, list[PerpAssetCtx]]
SpotMetaAndAssetCtxs = tuple[SpotMeta, list[SpotAssetCtx]]
PredictedFundings = list[tuple[str, list[tuple[str, PredictedFunding | None]]]]

INFO_RESPONSE_TYPES: dict[str, Any] = {
    "meta": Meta,
    "metaAndAssetCtxs": MetaAndAssetCtxs,
    "allPerpMetas": list[Meta],
    "spotMeta": SpotMeta,
    "spotMetaAndAssetCtxs": SpotMetaAndAssetCtxs,
    "perpDexs": list[PerpDex | None],
    "allMids": dict[str, str],
    "l2Book": L2Book,
    "candleSnapshot": list[Candle],
    "clearinghouseState": ClearinghouseState,
    "spotClearinghouseState": SpotClearinghouseState,
    "openOrders": list[BasicOrder],
    "frontendOpenOrders": list[FrontendOrder],
    "orderStatus": OrderStatusResponse,
    "historicalOrders": list[FrontendOrderStatus],
    "userFills": list[Fill],
    "userFillsByTime": list[Fill],
    "userFunding": list[UserFundingEntry],
    "userNonFundingLedgerUpdates": list[LedgerUpdate],
    "fundingHistory": list[FundingHistoryEntry],
    "predictedFundings": PredictedFundings,
    "userRateLimit": UserRateLimit,
    "activeAssetData": ActiveAssetData,
    "userFees": UserFees,
    "maxBuilderFee": int,
    "userRole": UserRole,
    "extraAgents": list[ExtraAgent],
    "userTwapSliceFills": list[TwapSliceFill],
}
"""Info request `type` -> the type its response decodes to (a Struct, list, tuple or dict)."""

INFO_REQUEST_DECODER: msgspec.json.Decoder[InfoRequest] = msgspec.json.Decoder(InfoRequest)
INFO_RESPONSE_DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    info_type: msgspec.json.Decoder(response_type)
    for info_type, response_type in INFO_RESPONSE_TYPES.items()
}
INFO_JSON_ENCODER = msgspec.json.Encoder()


def decode_info_response(info_type: str, body: bytes | str) -> Any:
    """Decode an `/info` response body knowing only the request's `type`.

    Raises `KeyError` for an info type without a schema and `msgspec.ValidationError` (naming the
    offending path) when the body does not match.
    """
    return INFO_RESPONSE_DECODERS[info_type].decode(body)


__all__ = [
    "INFO_JSON_ENCODER",
    "INFO_REQUEST_DECODER",
    "INFO_RESPONSE_DECODERS",
    "INFO_RESPONSE_TYPES",
    "ActiveAssetDataRequest",
    "AllMidsRequest",
    "AllPerpMetasRequest",
    "CandleSnapshotParams",
    "CandleSnapshotRequest",
    "ClearinghouseStateRequest",
    "DailyUserVolume",
    "EvmContract",
    "ExtraAgent",
    "ExtraAgentsRequest",
    "FeeSchedule",
    "FeeTiers",
    "FrontendOpenOrdersRequest",
    "FundingDelta",
    "FundingHistoryEntry",
    "FundingHistoryRequest",
    "HistoricalOrdersRequest",
    "InfoRequest",
    "L2BookRequest",
    "MakerFeeTier",
    "MarginTable",
    "MarginTier",
    "MaxBuilderFeeRequest",
    "Meta",
    "MetaAndAssetCtxs",
    "MetaAndAssetCtxsRequest",
    "MetaRequest",
    "OpenOrdersRequest",
    "OrderStatusFound",
    "OrderStatusRequest",
    "OrderStatusResponse",
    "OrderStatusUnknownOid",
    "PerpAssetMeta",
    "PerpDex",
    "PerpDexsRequest",
    "PredictedFunding",
    "PredictedFundings",
    "PredictedFundingsRequest",
    "SpotClearinghouseStateRequest",
    "SpotMeta",
    "SpotMetaAndAssetCtxs",
    "SpotMetaAndAssetCtxsRequest",
    "SpotMetaRequest",
    "SpotPair",
    "SpotToken",
    "UserFees",
    "UserFeesRequest",
    "UserFillsByTimeRequest",
    "UserFillsRequest",
    "UserFundingEntry",
    "UserFundingRequest",
    "UserNonFundingLedgerUpdatesRequest",
    "UserRateLimit",
    "UserRateLimitRequest",
    "UserRole",
    "UserRoleRequest",
    "UserTwapSliceFillsRequest",
    "VipFeeTier",
    "decode_info_response",
]
