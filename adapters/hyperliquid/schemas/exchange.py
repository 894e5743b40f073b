"""`POST /exchange` actions, the signed request envelope and the exchange responses.

L1 actions are signed over `msgpack(action)` with keys in insertion order, so every action Struct
declares its fields in EXACTLY the venue's key order and the `type` tag is encoded first
(msgspec always writes the tag field first). Keys the venue wants absent when unused (`c` cloid,
`builder`, cancel `f`, modify `a`, `scheduleCancel.time`, ...) are `UNSET` by default and are then
left out of JSON, msgpack and `to_builtins` output alike; the boolean flags that must never be sent
as `false` are typed `Literal[True]`. `action_msgpack` gives the exact bytes the L1 hash covers and
`action_to_wire` the dict the hyperliquid SDK signing helpers take.

User-signed actions (EIP-712 over typed fields, key order irrelevant for the signature) declare
`signatureChainId` and `hyperliquidChain` first, then the signed fields in their EIP-712 order.
"""

from __future__ import annotations

from typing import Any
from typing import Literal

import msgspec
from msgspec import UNSET
from msgspec import UnsetType

Tif = Literal["Alo", "Ioc", "Gtc"]
Tpsl = Literal["tp", "sl"]
Grouping = Literal["na", "normalTpsl", "positionTpsl"]
HyperliquidChain = Literal["Mainnet", "Testnet"]

# --------------------------------------------------------------------------------------------
# Order wire
# --------------------------------------------------------------------------------------------


class LimitOrderType(msgspec.Struct, frozen=True):
    """Limit order behaviour: `Gtc` rests, `Ioc` never rests, `Alo` is post-only."""

    tif: Tif


class TriggerOrderType(msgspec.Struct, frozen=True):
    """Stop / take-profit trigger on mark price; `isMarket` executes as market when triggered."""

    isMarket: bool
    triggerPx: str
    tpsl: Tpsl


class OrderTypeWire(msgspec.Struct, frozen=True):
    """The order's `t`: exactly one of `{"limit": ...}` or `{"trigger": ...}`."""

    limit: LimitOrderType | UnsetType = UNSET
    trigger: TriggerOrderType | UnsetType = UNSET

    def __post_init__(self) -> None:
        """Reject `{}` and `{limit, trigger}`: the venue accepts exactly one kind."""
        if (self.limit is UNSET) == (self.trigger is UNSET):
            raise ValueError("order type must have exactly one of `limit` or `trigger`")


class OrderWire(msgspec.Struct, frozen=True, kw_only=True):
    """One order: `a` asset, `b` is buy, `p` price, `s` size, `r` reduce-only, `t` type,
    `c` optional cloid (`0x` + 32 hex chars). Key order a,b,p,s,r,t,c is hashed.
    """

    a: int
    b: bool
    p: str
    s: str
    r: bool
    t: OrderTypeWire
    c: str | UnsetType = UNSET


class BuilderInfo(msgspec.Struct, frozen=True):
    """Builder fee: `b` lowercase builder address, `f` fee in tenths of a basis point."""

    b: str
    f: int


class CancelWire(msgspec.Struct, frozen=True):
    """Cancel by venue order id: `a` asset, `o` oid."""

    a: int
    o: int


class CancelByCloidWire(msgspec.Struct, frozen=True):
    """Cancel by client order id (note the long key names, unlike `CancelWire`)."""

    asset: int
    cloid: str


class ModifyWire(msgspec.Struct, frozen=True):
    """One modification of a `batchModify`: the order (`oid` int or cloid str) and its new wire."""

    oid: int | str
    order: OrderWire


class TwapWire(msgspec.Struct, frozen=True):
    """TWAP parameters: `a` asset, `b` is buy, `s` size, `r` reduce-only, `m` minutes,
    `t` randomize.
    """

    a: int
    b: bool
    s: str
    r: bool
    m: int
    t: bool


# --------------------------------------------------------------------------------------------
# L1 actions (phantom-agent signature over msgpack)
# --------------------------------------------------------------------------------------------


class _Action(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Base of exchange actions: the venue's `type` is the tag and is encoded first."""


class OrderAction(_Action, frozen=True, kw_only=True, tag="order"):
    """Place one or more orders; `normalTpsl` makes the following orders TP/SL of the first."""

    orders: list[OrderWire]
    grouping: Grouping
    builder: BuilderInfo | UnsetType = UNSET


class CancelAction(_Action, frozen=True, kw_only=True, tag="cancel"):
    """Cancel orders by oid; `f` ("fast") must be absent unless true."""

    cancels: list[CancelWire]
    f: Literal[True] | UnsetType = UNSET


class CancelByCloidAction(_Action, frozen=True, kw_only=True, tag="cancelByCloid"):
    """Cancel orders by cloid; `f` ("fast") must be absent unless true."""

    cancels: list[CancelByCloidWire]
    f: Literal[True] | UnsetType = UNSET


class ModifyAction(_Action, frozen=True, kw_only=True, tag="modify"):
    """Replace one order; `a` (always place) must be absent unless true."""

    oid: int | str
    order: OrderWire
    a: Literal[True] | UnsetType = UNSET


class BatchModifyAction(_Action, frozen=True, kw_only=True, tag="batchModify"):
    """Replace several orders (what the SDK sends even for one); `a` absent unless true."""

    modifies: list[ModifyWire]
    a: Literal[True] | UnsetType = UNSET


class ScheduleCancelAction(_Action, frozen=True, kw_only=True, tag="scheduleCancel"):
    """Dead-man switch: cancel all orders at `time` (ms); without `time` it is cleared."""

    time: int | UnsetType = UNSET


class UpdateLeverageAction(_Action, frozen=True, kw_only=True, tag="updateLeverage"):
    """Set cross or isolated leverage (integer) on a perp."""

    asset: int
    isCross: bool
    leverage: int


class UpdateIsolatedMarginAction(_Action, frozen=True, kw_only=True, tag="updateIsolatedMargin"):
    """Add (+) or remove (-) isolated margin; `ntli` is USD x 1e6."""

    asset: int
    isBuy: bool
    ntli: int


class TopUpIsolatedOnlyMarginAction(
    _Action, frozen=True, kw_only=True, tag="topUpIsolatedOnlyMargin"
):
    """Set isolated margin by a target leverage (float string)."""

    asset: int
    leverage: str


class TwapOrderAction(_Action, frozen=True, kw_only=True, tag="twapOrder"):
    """Start a TWAP order."""

    twap: TwapWire


class TwapCancelAction(_Action, frozen=True, kw_only=True, tag="twapCancel"):
    """Cancel a TWAP: `a` asset, `t` TWAP id."""

    a: int
    t: int


class NoopAction(_Action, frozen=True, kw_only=True, tag="noop"):
    """Burn a nonce (invalidates an in-flight action signed with it)."""


class ReserveRequestWeightAction(_Action, frozen=True, kw_only=True, tag="reserveRequestWeight"):
    """Buy extra address-based request budget; `destination` is skipped when unset."""

    weight: int
    destination: str | UnsetType | None = UNSET


class CreateSubAccountAction(_Action, frozen=True, kw_only=True, tag="createSubAccount"):
    """Create a named sub-account."""

    name: str


class SubAccountTransferAction(_Action, frozen=True, kw_only=True, tag="subAccountTransfer"):
    """Move perp USDC to/from a sub-account; `usd` is USD x 1e6."""

    subAccountUser: str
    isDeposit: bool
    usd: int


class SubAccountSpotTransferAction(
    _Action, frozen=True, kw_only=True, tag="subAccountSpotTransfer"
):
    """Move a spot token to/from a sub-account."""

    subAccountUser: str
    isDeposit: bool
    token: str
    amount: str


class VaultTransferAction(_Action, frozen=True, kw_only=True, tag="vaultTransfer"):
    """Deposit into / withdraw from a vault; `usd` is USD x 1e6."""

    vaultAddress: str
    isDeposit: bool
    usd: int


class SetReferrerAction(_Action, frozen=True, kw_only=True, tag="setReferrer"):
    """Register a referral code."""

    code: str


class EvmUserModifyAction(_Action, frozen=True, kw_only=True, tag="evmUserModify"):
    """Switch the user's HyperEVM transactions to big blocks."""

    usingBigBlocks: bool


class DummyAction(_Action, frozen=True, kw_only=True, tag="dummy"):
    """The hyperliquid SDK test-suite's signing action (`{"type":"dummy","num":...}`).

    Not a venue action — kept so the SDK's published signing vectors decode typed; a venue or
    simulator must reject it like any unsupported action.
    """

    num: int


# --------------------------------------------------------------------------------------------
# User-signed actions (EIP-712 over typed fields)
# --------------------------------------------------------------------------------------------


class UsdSendAction(_Action, frozen=True, kw_only=True, tag="usdSend"):
    """Send perp USDC to another address (user-signed; `time` must equal the nonce)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    destination: str
    amount: str
    time: int


class SpotSendAction(_Action, frozen=True, kw_only=True, tag="spotSend"):
    """Send a spot token (`token` = `"NAME:0xtokenId"`) to another address (user-signed)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    destination: str
    token: str
    amount: str
    time: int


class Withdraw3Action(_Action, frozen=True, kw_only=True, tag="withdraw3"):
    """Withdraw USDC to Arbitrum (user-signed; $1 fee)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    destination: str
    amount: str
    time: int


class UsdClassTransferAction(_Action, frozen=True, kw_only=True, tag="usdClassTransfer"):
    """Move USDC between spot and perp (user-signed; amount may end `" subaccount:0x..."`)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    amount: str
    toPerp: bool
    nonce: int


class SendAssetAction(_Action, frozen=True, kw_only=True, tag="sendAsset"):
    """Move a token between dexs, spot, users and sub-accounts (user-signed)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    destination: str
    sourceDex: str
    destinationDex: str
    token: str
    amount: str
    fromSubAccount: str
    nonce: int


class ApproveAgentAction(_Action, frozen=True, kw_only=True, tag="approveAgent"):
    """Approve an API wallet (user-signed, master key only).

    The SDK signs an unnamed agent with `agentName: ""` and then drops the key, so `UNSET` here
    means `""` for the signature.
    """

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    agentAddress: str
    agentName: str | UnsetType = UNSET
    nonce: int


class ApproveBuilderFeeAction(_Action, frozen=True, kw_only=True, tag="approveBuilderFee"):
    """Approve a maximum builder fee (e.g. `"0.001%"`) for a builder (user-signed)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    maxFeeRate: str
    builder: str
    nonce: int


class TokenDelegateAction(_Action, frozen=True, kw_only=True, tag="tokenDelegate"):
    """Delegate or undelegate staked HYPE (user-signed)."""

    signatureChainId: str
    hyperliquidChain: HyperliquidChain
    validator: str
    wei: int
    isUndelegate: bool
    nonce: int


L1Action = (
    OrderAction
    | CancelAction
    | CancelByCloidAction
    | ModifyAction
    | BatchModifyAction
    | ScheduleCancelAction
    | UpdateLeverageAction
    | UpdateIsolatedMarginAction
    | TopUpIsolatedOnlyMarginAction
    | TwapOrderAction
    | TwapCancelAction
    | NoopAction
    | ReserveRequestWeightAction
    | CreateSubAccountAction
    | SubAccountTransferAction
    | SubAccountSpotTransferAction
    | VaultTransferAction
    | SetReferrerAction
    | EvmUserModifyAction
    | DummyAction
)
"""Actions signed with the L1 phantom-agent scheme."""

UserSignedAction = (
    UsdSendAction
    | SpotSendAction
    | Withdraw3Action
    | UsdClassTransferAction
    | SendAssetAction
    | ApproveAgentAction
    | ApproveBuilderFeeAction
    | TokenDelegateAction
)
"""Actions signed with the user-signed EIP-712 scheme."""

Action = L1Action | UserSignedAction
"""Any exchange action, discriminated by its `type`."""

USER_SIGNED_ACTION_TYPES: frozenset[str] = frozenset(
    {
        "usdSend",
        "spotSend",
        "withdraw3",
        "usdClassTransfer",
        "sendAsset",
        "approveAgent",
        "approveBuilderFee",
        "tokenDelegate",
    }
)
"""Action `type`s verified with the user-signed scheme; every other action is L1-signed."""


class Signature(msgspec.Struct, frozen=True):
    """ECDSA signature: `r`/`s` 0x-hex (not zero-padded by the SDK), `v` 27 or 28."""

    r: str
    s: str
    v: int


class ExchangeRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The `/exchange` body. `vaultAddress` and `expiresAfter` are written as `null` when unused,
    as the SDK does; both are part of the L1 hash.
    """

    action: Action
    nonce: int
    signature: Signature
    vaultAddress: str | None = None
    expiresAfter: int | None = None


# --------------------------------------------------------------------------------------------
# Responses
# --------------------------------------------------------------------------------------------

PendingOrderStatus = Literal["waitingForFill", "waitingForTrigger"]
"""Bare-string statuses of TP/SL children that have no oid yet."""


class RestingStatus(msgspec.Struct, frozen=True, omit_defaults=True):
    """The order rests on the book; `cloid` is echoed when one was sent."""

    oid: int
    cloid: str | None = None


class FilledStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The order filled immediately (fully, or IOC partially): total size and average price."""

    totalSz: str
    avgPx: str
    oid: int
    cloid: str | None = None


class OrderStatusEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    """One order's outcome: exactly one of `resting`, `filled` or `error` is set."""

    resting: RestingStatus | None = None
    filled: FilledStatus | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        """Fail closed on an unknown status shape instead of reading it as 'nothing happened'."""
        if (self.resting is not None) + (self.filled is not None) + (self.error is not None) != 1:
            raise ValueError("order status must have exactly one of `resting`, `filled`, `error`")


OrderResponseStatus = PendingOrderStatus | OrderStatusEntry
"""An entry of an order response's `statuses`, one per order in the batch (same order)."""


class ErrorStatus(msgspec.Struct, frozen=True):
    """A per-cancel (or per-TWAP) failure with the venue's text."""

    error: str


CancelResponseStatus = Literal["success"] | ErrorStatus
"""An entry of a cancel response's `statuses`."""


class OrderResponseData(msgspec.Struct, frozen=True):
    """Statuses of an `order` / `batchModify` action."""

    statuses: list[OrderResponseStatus]


class CancelResponseData(msgspec.Struct, frozen=True):
    """Statuses of a `cancel` / `cancelByCloid` action."""

    statuses: list[CancelResponseStatus]


class TwapRunning(msgspec.Struct, frozen=True):
    """A started TWAP."""

    twapId: int


class TwapOrderStatus(msgspec.Struct, frozen=True, omit_defaults=True):
    """Outcome of `twapOrder`: `running` or `error`."""

    running: TwapRunning | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        """Fail closed on an unknown status shape."""
        if (self.running is None) == (self.error is None):
            raise ValueError("TWAP status must have exactly one of `running` or `error`")


class TwapOrderResponseData(msgspec.Struct, frozen=True):
    """Data of a `twapOrder` response."""

    status: TwapOrderStatus


class TwapCancelResponseData(msgspec.Struct, frozen=True):
    """Data of a `twapCancel` response."""

    status: Literal["success"] | ErrorStatus


class _OkPayload(msgspec.Struct, frozen=True, tag_field="type"):
    """Base of the `response` object of a successful exchange answer."""


class OrderResponse(_OkPayload, frozen=True, tag="order"):
    """Answer to `order` and `batchModify`."""

    data: OrderResponseData


class CancelResponse(_OkPayload, frozen=True, tag="cancel"):
    """Answer to `cancel` and `cancelByCloid`."""

    data: CancelResponseData


class DefaultResponse(_OkPayload, frozen=True, tag="default"):
    """Answer without data (leverage, margin, transfers, approvals, scheduleCancel, ...)."""


class TwapOrderResponse(_OkPayload, frozen=True, tag="twapOrder"):
    """Answer to `twapOrder`."""

    data: TwapOrderResponseData


class TwapCancelResponse(_OkPayload, frozen=True, tag="twapCancel"):
    """Answer to `twapCancel`."""

    data: TwapCancelResponseData


class CreateSubAccountResponse(_OkPayload, frozen=True, tag="createSubAccount"):
    """Answer to `createSubAccount`: the new sub-account address."""

    data: str


OkPayload = (
    OrderResponse
    | CancelResponse
    | DefaultResponse
    | TwapOrderResponse
    | TwapCancelResponse
    | CreateSubAccountResponse
)


class ExchangeOk(msgspec.Struct, frozen=True, tag_field="status", tag="ok"):
    """HTTP 200 `status: ok`; individual orders/cancels may still carry errors."""

    response: OkPayload


class ExchangeErr(msgspec.Struct, frozen=True, tag_field="status", tag="err"):
    """HTTP 200 `status: err`: the whole action was refused, `response` is the venue's text."""

    response: str


ExchangeResponse = ExchangeOk | ExchangeErr
"""Any `/exchange` answer, discriminated by its `status`."""

# --------------------------------------------------------------------------------------------
# Codecs (built once)
# --------------------------------------------------------------------------------------------

ACTION_DECODER: msgspec.json.Decoder[Action] = msgspec.json.Decoder(Action)
EXCHANGE_REQUEST_DECODER: msgspec.json.Decoder[ExchangeRequest] = msgspec.json.Decoder(
    ExchangeRequest
)
EXCHANGE_RESPONSE_DECODER: msgspec.json.Decoder[ExchangeResponse] = msgspec.json.Decoder(
    ExchangeResponse
)
EXCHANGE_JSON_ENCODER = msgspec.json.Encoder()
ACTION_MSGPACK_ENCODER = msgspec.msgpack.Encoder()


def action_msgpack(action: Action) -> bytes:
    """The msgpack bytes an L1 signature hashes (same bytes as the SDK's `msgpack.packb`)."""
    return ACTION_MSGPACK_ENCODER.encode(action)


def action_to_wire(action: Action) -> dict[str, Any]:
    """The action as an insertion-ordered dict (tag first, `UNSET` keys absent), the form the
    hyperliquid SDK signing helpers take.
    """
    wire: dict[str, Any] = msgspec.to_builtins(action)
    return wire


__all__ = [
    "ACTION_DECODER",
    "ACTION_MSGPACK_ENCODER",
    "EXCHANGE_JSON_ENCODER",
    "EXCHANGE_REQUEST_DECODER",
    "EXCHANGE_RESPONSE_DECODER",
    "USER_SIGNED_ACTION_TYPES",
    "Action",
    "ApproveAgentAction",
    "ApproveBuilderFeeAction",
    "BatchModifyAction",
    "BuilderInfo",
    "CancelAction",
    "CancelByCloidAction",
    "CancelByCloidWire",
    "CancelResponse",
    "CancelResponseData",
    "CancelResponseStatus",
    "CancelWire",
    "CreateSubAccountAction",
    "CreateSubAccountResponse",
    "DefaultResponse",
    "DummyAction",
    "ErrorStatus",
    "EvmUserModifyAction",
    "ExchangeErr",
    "ExchangeOk",
    "ExchangeRequest",
    "ExchangeResponse",
    "FilledStatus",
    "Grouping",
    "HyperliquidChain",
    "L1Action",
    "LimitOrderType",
    "ModifyAction",
    "ModifyWire",
    "NoopAction",
    "OkPayload",
    "OrderAction",
    "OrderResponse",
    "OrderResponseData",
    "OrderResponseStatus",
    "OrderStatusEntry",
    "OrderTypeWire",
    "OrderWire",
    "PendingOrderStatus",
    "ReserveRequestWeightAction",
    "RestingStatus",
    "ScheduleCancelAction",
    "SendAssetAction",
    "SetReferrerAction",
    "Signature",
    "SpotSendAction",
    "SubAccountSpotTransferAction",
    "SubAccountTransferAction",
    "Tif",
    "TokenDelegateAction",
    "TopUpIsolatedOnlyMarginAction",
    "Tpsl",
    "TriggerOrderType",
    "TwapCancelAction",
    "TwapCancelResponse",
    "TwapCancelResponseData",
    "TwapOrderAction",
    "TwapOrderResponse",
    "TwapOrderResponseData",
    "TwapOrderStatus",
    "TwapRunning",
    "TwapWire",
    "UpdateIsolatedMarginAction",
    "UpdateLeverageAction",
    "UsdClassTransferAction",
    "UsdSendAction",
    "UserSignedAction",
    "VaultTransferAction",
    "Withdraw3Action",
    "action_msgpack",
    "action_to_wire",
]
