"""Payload shapes shared by /info responses and WebSocket channels.

The venue reuses the same objects (book levels, fills, orders, asset contexts, clearinghouse state)
in REST answers and in WebSocket pushes, so they are defined once here. Field names are exactly the
venue's; decimal quantities stay `str` because the venue sends strings and their exact text matters
(prices are checked on significant figures and hashed as sent); ids and millisecond timestamps are
`int`. A key the venue may leave out decodes to `None`. Unknown keys are ignored, so new venue
fields do not break decoding. Hot types (`L2Level`, `Trade`) do no work after decoding.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Side = Literal["A", "B"]
"""`"B"` = bid/buy, `"A"` = ask/sell; in trade prints the aggressor's side."""

LeverageType = Literal["cross", "isolated"]


class L2Level(msgspec.Struct, frozen=True, gc=False):
    """One aggregated price level: price, total size and number of orders."""

    px: str
    sz: str
    n: int


class L2Book(msgspec.Struct, frozen=True):
    """A full book snapshot (`l2Book` info answer and WS push; the venue never sends diffs).

    `levels` is `(bids best->worse, asks best->worse)`; `fast` is set on 5-level fast books.
    """

    coin: str
    time: int
    levels: tuple[list[L2Level], list[L2Level]]
    fast: bool = False


class Bbo(msgspec.Struct, frozen=True):
    """Top of book; either side is `None` when that side of the book is empty."""

    coin: str
    time: int
    bbo: tuple[L2Level | None, L2Level | None]


class Trade(msgspec.Struct, frozen=True, gc=False):
    """A public trade print; `users` is `(buyer, seller)` and `side` the aggressor's side."""

    coin: str
    side: Side
    px: str
    sz: str
    time: int
    hash: str
    tid: int
    users: tuple[str, str]


class Candle(msgspec.Struct, frozen=True):
    """One OHLCV candle: `t`/`T` open/close time (ms), `s` coin, `i` interval, `n` trade count."""

    t: int
    T: int
    s: str
    i: str
    o: str
    c: str
    h: str
    l: str  # noqa: E741 - the venue's key
    v: str
    n: int


class PerpAssetCtx(msgspec.Struct, frozen=True, kw_only=True):
    """Live perp market context (funding, open interest, oracle/mark/mid).

    `premium`, `midPx` and `impactPxs` are `None` for a market without a book.
    """

    funding: str
    openInterest: str
    prevDayPx: str
    dayNtlVlm: str
    premium: str | None = None
    oraclePx: str
    markPx: str
    midPx: str | None = None
    impactPxs: tuple[str, str] | None = None
    dayBaseVlm: str


class SpotAssetCtx(msgspec.Struct, frozen=True, kw_only=True):
    """Live spot market context; `coin` is the pair name (`"PURR/USDC"` or `"@107"`)."""

    prevDayPx: str
    dayNtlVlm: str
    markPx: str
    midPx: str | None = None
    circulatingSupply: str
    coin: str
    totalSupply: str | None = None
    dayBaseVlm: str | None = None


class Leverage(msgspec.Struct, frozen=True):
    """Position leverage; `rawUsd` is present for isolated margin only."""

    type: LeverageType
    value: int
    rawUsd: str | None = None


class ActiveAssetData(msgspec.Struct, frozen=True):
    """Per (user, coin) leverage and trade capacity; pairs are `(buy, sell)`."""

    user: str
    coin: str
    leverage: Leverage
    maxTradeSzs: tuple[str, str]
    availableToTrade: tuple[str, str]
    markPx: str


class BasicOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Order as in `openOrders` and WS `orderUpdates`; `sz` is the remaining size."""

    coin: str
    side: Side
    limitPx: str
    sz: str
    oid: int
    timestamp: int
    origSz: str | None = None
    cloid: str | None = None


class OrderUpdate(msgspec.Struct, frozen=True):
    """A WS `orderUpdates` entry: the order, its new status and when it changed."""

    order: BasicOrder
    status: str
    statusTimestamp: int


class FrontendOrder(msgspec.Struct, frozen=True, kw_only=True):
    """Order with trigger/TP-SL detail (`frontendOpenOrders`, `orderStatus`, `historicalOrders`).

    `children` holds the TP/SL orders attached to a parent; `tif` is `None` for trigger orders.
    """

    coin: str
    side: Side
    limitPx: str
    sz: str
    oid: int
    timestamp: int
    triggerCondition: str
    isTrigger: bool
    triggerPx: str
    children: list[FrontendOrder] = []
    isPositionTpsl: bool
    reduceOnly: bool
    orderType: str
    origSz: str
    tif: str | None = None
    cloid: str | None = None


class FrontendOrderStatus(msgspec.Struct, frozen=True):
    """An order with its status (`orderStatus` and `historicalOrders` entries)."""

    order: FrontendOrder
    status: str
    statusTimestamp: int


class FillLiquidation(msgspec.Struct, frozen=True, kw_only=True):
    """Liquidation detail attached to a fill that was part of a liquidation."""

    liquidatedUser: str | None = None
    markPx: str
    method: str


class Fill(msgspec.Struct, frozen=True, kw_only=True):
    """One of the user's fills (`userFills`, WS `userFills` / `user`).

    `crossed` is true for the taker side; a negative `fee` is a maker rebate; `builderFee` is
    included in `fee`. `tid`, `feeToken`, `twapId` are absent from old (2023) captures.
    """

    coin: str
    px: str
    sz: str
    side: Side
    time: int
    startPosition: str
    dir: str
    closedPnl: str
    hash: str
    oid: int
    crossed: bool
    fee: str
    tid: int | None = None
    cloid: str | None = None
    feeToken: str | None = None
    twapId: int | None = None
    builderFee: str | None = None
    liquidation: FillLiquidation | None = None


class UserFunding(msgspec.Struct, frozen=True, kw_only=True):
    """A funding payment (WS `userFundings` entry and `user` funding event)."""

    time: int
    coin: str
    usdc: str
    szi: str
    fundingRate: str
    nSamples: int | None = None


class LiquidatedPosition(msgspec.Struct, frozen=True):
    """A position closed by a liquidation ledger update."""

    coin: str
    szi: str


class LedgerDelta(msgspec.Struct, frozen=True, kw_only=True):
    """A non-funding ledger change, loosely typed on purpose.

    The venue keeps adding delta kinds (`deposit`, `withdraw`, `accountClassTransfer`,
    `internalTransfer`, `subAccountTransfer`, `liquidation`, `vault*`, `spotTransfer`, ...); a
    closed tagged union would reject a whole ledger page for one new kind, so `type` is a plain
    string and the known fields are optional.
    """

    type: str
    usdc: str | None = None
    toPerp: bool | None = None
    nonce: int | None = None
    fee: str | None = None
    token: str | None = None
    amount: str | None = None
    usdcValue: str | None = None
    user: str | None = None
    destination: str | None = None
    nativeTokenFee: str | None = None
    feeToken: str | None = None
    vault: str | None = None
    liquidatedNtlPos: str | None = None
    accountValue: str | None = None
    leverageType: str | None = None
    liquidatedPositions: list[LiquidatedPosition] | None = None


class LedgerUpdate(msgspec.Struct, frozen=True):
    """A timestamped non-funding ledger change (`userNonFundingLedgerUpdates`)."""

    time: int
    hash: str
    delta: LedgerDelta


class MarginSummary(msgspec.Struct, frozen=True):
    """Account-level margin totals (USD strings)."""

    accountValue: str
    totalNtlPos: str
    totalRawUsd: str
    totalMarginUsed: str


class CumFunding(msgspec.Struct, frozen=True):
    """Cumulative funding of a position: all time, since open, since the last size change."""

    allTime: str
    sinceOpen: str
    sinceChange: str


class Position(msgspec.Struct, frozen=True, kw_only=True):
    """A perp position; `szi` is signed (+long / -short)."""

    coin: str
    szi: str
    leverage: Leverage
    entryPx: str | None = None
    positionValue: str
    unrealizedPnl: str
    returnOnEquity: str
    liquidationPx: str | None = None
    marginUsed: str
    maxLeverage: int | None = None
    cumFunding: CumFunding | None = None
    maxTradeSzs: tuple[str, str] | None = None


class AssetPosition(msgspec.Struct, frozen=True):
    """A position with its mode (`"oneWay"`)."""

    type: str
    position: Position


class ClearinghouseState(msgspec.Struct, frozen=True, kw_only=True):
    """Perp account state (`clearinghouseState` info answer and WS channel)."""

    marginSummary: MarginSummary
    crossMarginSummary: MarginSummary
    crossMaintenanceMarginUsed: str | None = None
    withdrawable: str
    assetPositions: list[AssetPosition]
    time: int | None = None


class SpotBalance(msgspec.Struct, frozen=True, kw_only=True):
    """One spot token balance; `hold` is reserved by open orders."""

    coin: str
    token: int
    total: str
    hold: str
    entryNtl: str | None = None


class SpotClearinghouseState(msgspec.Struct, frozen=True):
    """Spot account state (`spotClearinghouseState` info answer, WS `spotState`)."""

    balances: list[SpotBalance]
    tokenToAvailableAfterMaintenance: list[tuple[int, str]] | None = None


class TwapTrigger(msgspec.Struct, frozen=True):
    """Price condition that starts a TWAP."""

    px: str
    above: bool


class TwapState(msgspec.Struct, frozen=True, kw_only=True):
    """Progress of a TWAP order (`twapStates`, `userTwapHistory`)."""

    coin: str
    user: str
    side: Side
    sz: str
    executedSz: str
    executedNtl: str
    minutes: int
    reduceOnly: bool
    randomize: bool
    timestamp: int
    trigger: TwapTrigger | None = None
    stopPx: str | None = None


class TwapSliceFill(msgspec.Struct, frozen=True):
    """A fill produced by a TWAP slice."""

    fill: Fill
    twapId: int


__all__ = [
    "ActiveAssetData",
    "AssetPosition",
    "BasicOrder",
    "Bbo",
    "Candle",
    "ClearinghouseState",
    "CumFunding",
    "Fill",
    "FillLiquidation",
    "FrontendOrder",
    "FrontendOrderStatus",
    "L2Book",
    "L2Level",
    "LedgerDelta",
    "LedgerUpdate",
    "Leverage",
    "LeverageType",
    "LiquidatedPosition",
    "MarginSummary",
    "OrderUpdate",
    "PerpAssetCtx",
    "Position",
    "Side",
    "SpotAssetCtx",
    "SpotBalance",
    "SpotClearinghouseState",
    "Trade",
    "TwapSliceFill",
    "TwapState",
    "TwapTrigger",
    "UserFunding",
]
