"""Hyperliquid wire schemas: msgspec Structs for every /info, /exchange and WebSocket payload.

Field names are exactly the venue's; decoders and encoders are built once, at import of the
submodule that defines them. Nothing else in the project parses venue JSON. Submodules: `common`
(shapes shared by info and WS), `info` (requests, response types, `INFO_RESPONSE_TYPES`),
`exchange` (actions in hashed key order, the request envelope, responses), `ws` (subscriptions,
client messages, the `WsFrame` union on `channel`).

Every public name is re-exported here (`from adapters.hyperliquid.schemas import WsFrame`). The
re-export is lazy (PEP 562 `__getattr__`) because the submodules import each other through this
package: an eager re-export would be an import cycle for the project's structural check.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from adapters.hyperliquid.schemas.common import ActiveAssetData
    from adapters.hyperliquid.schemas.common import AssetPosition
    from adapters.hyperliquid.schemas.common import BasicOrder
    from adapters.hyperliquid.schemas.common import Bbo
    from adapters.hyperliquid.schemas.common import Candle
    from adapters.hyperliquid.schemas.common import ClearinghouseState
    from adapters.hyperliquid.schemas.common import CumFunding
    from adapters.hyperliquid.schemas.common import Fill
    from adapters.hyperliquid.schemas.common import FillLiquidation
    from adapters.hyperliquid.schemas.common import FrontendOrder
    from adapters.hyperliquid.schemas.common import FrontendOrderStatus
    from adapters.hyperliquid.schemas.common import L2Book
    from adapters.hyperliquid.schemas.common import L2Level
    from adapters.hyperliquid.schemas.common import LedgerDelta
    from adapters.hyperliquid.schemas.common import LedgerUpdate
    from adapters.hyperliquid.schemas.common import Leverage
    from adapters.hyperliquid.schemas.common import LeverageType
    from adapters.hyperliquid.schemas.common import LiquidatedPosition
    from adapters.hyperliquid.schemas.common import MarginSummary
    from adapters.hyperliquid.schemas.common import OrderUpdate
    from adapters.hyperliquid.schemas.common import PerpAssetCtx
    from adapters.hyperliquid.schemas.common import Position
    from adapters.hyperliquid.schemas.common import Side
    from adapters.hyperliquid.schemas.common import SpotAssetCtx
    from adapters.hyperliquid.schemas.common import SpotBalance
    from adapters.hyperliquid.schemas.common import SpotClearinghouseState
    from adapters.hyperliquid.schemas.common import Trade
    from adapters.hyperliquid.schemas.common import TwapSliceFill
    from adapters.hyperliquid.schemas.common import TwapState
    from adapters.hyperliquid.schemas.common import TwapTrigger
    from adapters.hyperliquid.schemas.common import UserFunding
    from adapters.hyperliquid.schemas.exchange import ACTION_DECODER
    from adapters.hyperliquid.schemas.exchange import ACTION_MSGPACK_ENCODER
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
    from adapters.hyperliquid.schemas.exchange import CancelByCloidAction
    from adapters.hyperliquid.schemas.exchange import CancelByCloidWire
    from adapters.hyperliquid.schemas.exchange import CancelResponse
    from adapters.hyperliquid.schemas.exchange import CancelResponseData
    from adapters.hyperliquid.schemas.exchange import CancelResponseStatus
    from adapters.hyperliquid.schemas.exchange import CancelWire
    from adapters.hyperliquid.schemas.exchange import CreateSubAccountAction
    from adapters.hyperliquid.schemas.exchange import CreateSubAccountResponse
    from adapters.hyperliquid.schemas.exchange import DefaultResponse
    from adapters.hyperliquid.schemas.exchange import DummyAction
    from adapters.hyperliquid.schemas.exchange import ErrorStatus
    from adapters.hyperliquid.schemas.exchange import EvmUserModifyAction
    from adapters.hyperliquid.schemas.exchange import ExchangeErr
    from adapters.hyperliquid.schemas.exchange import ExchangeOk
    from adapters.hyperliquid.schemas.exchange import ExchangeRequest
    from adapters.hyperliquid.schemas.exchange import ExchangeResponse
    from adapters.hyperliquid.schemas.exchange import FilledStatus
    from adapters.hyperliquid.schemas.exchange import Grouping
    from adapters.hyperliquid.schemas.exchange import HyperliquidChain
    from adapters.hyperliquid.schemas.exchange import L1Action
    from adapters.hyperliquid.schemas.exchange import LimitOrderType
    from adapters.hyperliquid.schemas.exchange import ModifyAction
    from adapters.hyperliquid.schemas.exchange import ModifyWire
    from adapters.hyperliquid.schemas.exchange import NoopAction
    from adapters.hyperliquid.schemas.exchange import OkPayload
    from adapters.hyperliquid.schemas.exchange import OrderAction
    from adapters.hyperliquid.schemas.exchange import OrderResponse
    from adapters.hyperliquid.schemas.exchange import OrderResponseData
    from adapters.hyperliquid.schemas.exchange import OrderResponseStatus
    from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
    from adapters.hyperliquid.schemas.exchange import OrderTypeWire
    from adapters.hyperliquid.schemas.exchange import OrderWire
    from adapters.hyperliquid.schemas.exchange import PendingOrderStatus
    from adapters.hyperliquid.schemas.exchange import ReserveRequestWeightAction
    from adapters.hyperliquid.schemas.exchange import RestingStatus
    from adapters.hyperliquid.schemas.exchange import ScheduleCancelAction
    from adapters.hyperliquid.schemas.exchange import SendAssetAction
    from adapters.hyperliquid.schemas.exchange import SetReferrerAction
    from adapters.hyperliquid.schemas.exchange import Signature
    from adapters.hyperliquid.schemas.exchange import SpotSendAction
    from adapters.hyperliquid.schemas.exchange import SubAccountSpotTransferAction
    from adapters.hyperliquid.schemas.exchange import SubAccountTransferAction
    from adapters.hyperliquid.schemas.exchange import Tif
    from adapters.hyperliquid.schemas.exchange import TokenDelegateAction
    from adapters.hyperliquid.schemas.exchange import TopUpIsolatedOnlyMarginAction
    from adapters.hyperliquid.schemas.exchange import Tpsl
    from adapters.hyperliquid.schemas.exchange import TriggerOrderType
    from adapters.hyperliquid.schemas.exchange import TwapCancelAction
    from adapters.hyperliquid.schemas.exchange import TwapCancelResponse
    from adapters.hyperliquid.schemas.exchange import TwapCancelResponseData
    from adapters.hyperliquid.schemas.exchange import TwapOrderAction
    from adapters.hyperliquid.schemas.exchange import TwapOrderResponse
    from adapters.hyperliquid.schemas.exchange import TwapOrderResponseData
    from adapters.hyperliquid.schemas.exchange import TwapOrderStatus
    from adapters.hyperliquid.schemas.exchange import TwapRunning
    from adapters.hyperliquid.schemas.exchange import TwapWire
    from adapters.hyperliquid.schemas.exchange import UpdateIsolatedMarginAction
    from adapters.hyperliquid.schemas.exchange import UpdateLeverageAction
    from adapters.hyperliquid.schemas.exchange import UsdClassTransferAction
    from adapters.hyperliquid.schemas.exchange import UsdSendAction
    from adapters.hyperliquid.schemas.exchange import UserSignedAction
    from adapters.hyperliquid.schemas.exchange import VaultTransferAction
    from adapters.hyperliquid.schemas.exchange import Withdraw3Action
    from adapters.hyperliquid.schemas.exchange import action_msgpack
    from adapters.hyperliquid.schemas.exchange import action_to_wire
    from adapters.hyperliquid.schemas.info import INFO_JSON_ENCODER
    from adapters.hyperliquid.schemas.info import INFO_REQUEST_DECODER
    from adapters.hyperliquid.schemas.info import INFO_RESPONSE_DECODERS
    from adapters.hyperliquid.schemas.info import INFO_RESPONSE_TYPES
    from adapters.hyperliquid.schemas.info import ActiveAssetDataRequest
    from adapters.hyperliquid.schemas.info import AllMidsRequest
    from adapters.hyperliquid.schemas.info import AllPerpMetasRequest
    from adapters.hyperliquid.schemas.info import CandleSnapshotParams
    from adapters.hyperliquid.schemas.info import CandleSnapshotRequest
    from adapters.hyperliquid.schemas.info import ClearinghouseStateRequest
    from adapters.hyperliquid.schemas.info import DailyUserVolume
    from adapters.hyperliquid.schemas.info import EvmContract
    from adapters.hyperliquid.schemas.info import ExtraAgent
    from adapters.hyperliquid.schemas.info import ExtraAgentsRequest
    from adapters.hyperliquid.schemas.info import FeeSchedule
    from adapters.hyperliquid.schemas.info import FeeTiers
    from adapters.hyperliquid.schemas.info import FrontendOpenOrdersRequest
    from adapters.hyperliquid.schemas.info import FundingDelta
    from adapters.hyperliquid.schemas.info import FundingHistoryEntry
    from adapters.hyperliquid.schemas.info import FundingHistoryRequest
    from adapters.hyperliquid.schemas.info import HistoricalOrdersRequest
    from adapters.hyperliquid.schemas.info import InfoRequest
    from adapters.hyperliquid.schemas.info import L2BookRequest
    from adapters.hyperliquid.schemas.info import MakerFeeTier
    from adapters.hyperliquid.schemas.info import MarginTable
    from adapters.hyperliquid.schemas.info import MarginTier
    from adapters.hyperliquid.schemas.info import MaxBuilderFeeRequest
    from adapters.hyperliquid.schemas.info import Meta
    from adapters.hyperliquid.schemas.info import MetaAndAssetCtxs
    from adapters.hyperliquid.schemas.info import MetaAndAssetCtxsRequest
    from adapters.hyperliquid.schemas.info import MetaRequest
    from adapters.hyperliquid.schemas.info import OpenOrdersRequest
    from adapters.hyperliquid.schemas.info import OrderStatusFound
    from adapters.hyperliquid.schemas.info import OrderStatusRequest
    from adapters.hyperliquid.schemas.info import OrderStatusResponse
    from adapters.hyperliquid.schemas.info import OrderStatusUnknownOid
    from adapters.hyperliquid.schemas.info import PerpAssetMeta
    from adapters.hyperliquid.schemas.info import PerpDex
    from adapters.hyperliquid.schemas.info import PerpDexsRequest
    from adapters.hyperliquid.schemas.info import PredictedFunding
    from adapters.hyperliquid.schemas.info import PredictedFundings
    from adapters.hyperliquid.schemas.info import PredictedFundingsRequest
    from adapters.hyperliquid.schemas.info import SpotClearinghouseStateRequest
    from adapters.hyperliquid.schemas.info import SpotMeta
    from adapters.hyperliquid.schemas.info import SpotMetaAndAssetCtxs
    from adapters.hyperliquid.schemas.info import SpotMetaAndAssetCtxsRequest
    from adapters.hyperliquid.schemas.info import SpotMetaRequest
    from adapters.hyperliquid.schemas.info import SpotPair
    from adapters.hyperliquid.schemas.info import SpotToken
    from adapters.hyperliquid.schemas.info import UserFees
    from adapters.hyperliquid.schemas.info import UserFeesRequest
    from adapters.hyperliquid.schemas.info import UserFillsByTimeRequest
    from adapters.hyperliquid.schemas.info import UserFillsRequest
    from adapters.hyperliquid.schemas.info import UserFundingEntry
    from adapters.hyperliquid.schemas.info import UserFundingRequest
    from adapters.hyperliquid.schemas.info import UserNonFundingLedgerUpdatesRequest
    from adapters.hyperliquid.schemas.info import UserRateLimit
    from adapters.hyperliquid.schemas.info import UserRateLimitRequest
    from adapters.hyperliquid.schemas.info import UserRole
    from adapters.hyperliquid.schemas.info import UserRoleRequest
    from adapters.hyperliquid.schemas.info import UserTwapSliceFillsRequest
    from adapters.hyperliquid.schemas.info import VipFeeTier
    from adapters.hyperliquid.schemas.info import decode_info_response
    from adapters.hyperliquid.schemas.ws import WS_CLIENT_MESSAGE_DECODER
    from adapters.hyperliquid.schemas.ws import WS_FRAME_DECODER
    from adapters.hyperliquid.schemas.ws import WS_JSON_ENCODER
    from adapters.hyperliquid.schemas.ws import ActiveAssetCtx
    from adapters.hyperliquid.schemas.ws import ActiveAssetCtxFrame
    from adapters.hyperliquid.schemas.ws import ActiveAssetCtxSubscription
    from adapters.hyperliquid.schemas.ws import ActiveAssetDataFrame
    from adapters.hyperliquid.schemas.ws import ActiveAssetDataSubscription
    from adapters.hyperliquid.schemas.ws import ActiveSpotAssetCtx
    from adapters.hyperliquid.schemas.ws import ActiveSpotAssetCtxFrame
    from adapters.hyperliquid.schemas.ws import AllDexsAssetCtxs
    from adapters.hyperliquid.schemas.ws import AllDexsAssetCtxsFrame
    from adapters.hyperliquid.schemas.ws import AllDexsAssetCtxsSubscription
    from adapters.hyperliquid.schemas.ws import AllDexsClearinghouseState
    from adapters.hyperliquid.schemas.ws import AllDexsClearinghouseStateFrame
    from adapters.hyperliquid.schemas.ws import AllDexsClearinghouseStateSubscription
    from adapters.hyperliquid.schemas.ws import AllMids
    from adapters.hyperliquid.schemas.ws import AllMidsFrame
    from adapters.hyperliquid.schemas.ws import AllMidsSubscription
    from adapters.hyperliquid.schemas.ws import BboFrame
    from adapters.hyperliquid.schemas.ws import BboSubscription
    from adapters.hyperliquid.schemas.ws import CandleFrame
    from adapters.hyperliquid.schemas.ws import CandleSubscription
    from adapters.hyperliquid.schemas.ws import ClearinghouseStateData
    from adapters.hyperliquid.schemas.ws import ClearinghouseStateFrame
    from adapters.hyperliquid.schemas.ws import ClearinghouseStateSubscription
    from adapters.hyperliquid.schemas.ws import ErrorFrame
    from adapters.hyperliquid.schemas.ws import FastAssetCtx
    from adapters.hyperliquid.schemas.ws import FastAssetCtxsFrame
    from adapters.hyperliquid.schemas.ws import FastAssetCtxsSubscription
    from adapters.hyperliquid.schemas.ws import L2BookFrame
    from adapters.hyperliquid.schemas.ws import L2BookSubscription
    from adapters.hyperliquid.schemas.ws import NonUserCancel
    from adapters.hyperliquid.schemas.ws import Notification
    from adapters.hyperliquid.schemas.ws import NotificationFrame
    from adapters.hyperliquid.schemas.ws import NotificationSubscription
    from adapters.hyperliquid.schemas.ws import OpenOrdersData
    from adapters.hyperliquid.schemas.ws import OpenOrdersFrame
    from adapters.hyperliquid.schemas.ws import OpenOrdersSubscription
    from adapters.hyperliquid.schemas.ws import OrderUpdatesFrame
    from adapters.hyperliquid.schemas.ws import OrderUpdatesSubscription
    from adapters.hyperliquid.schemas.ws import OutcomeCreated
    from adapters.hyperliquid.schemas.ws import OutcomeMetaUpdate
    from adapters.hyperliquid.schemas.ws import OutcomeMetaUpdatesFrame
    from adapters.hyperliquid.schemas.ws import OutcomeMetaUpdatesSubscription
    from adapters.hyperliquid.schemas.ws import OutcomeSideSpec
    from adapters.hyperliquid.schemas.ws import PingMessage
    from adapters.hyperliquid.schemas.ws import PongFrame
    from adapters.hyperliquid.schemas.ws import PostActionRequest
    from adapters.hyperliquid.schemas.ws import PostActionResponse
    from adapters.hyperliquid.schemas.ws import PostErrorResponse
    from adapters.hyperliquid.schemas.ws import PostFrame
    from adapters.hyperliquid.schemas.ws import PostInfoPayload
    from adapters.hyperliquid.schemas.ws import PostInfoRequest
    from adapters.hyperliquid.schemas.ws import PostInfoResponse
    from adapters.hyperliquid.schemas.ws import PostMessage
    from adapters.hyperliquid.schemas.ws import PostRequest
    from adapters.hyperliquid.schemas.ws import PostResponse
    from adapters.hyperliquid.schemas.ws import PostResponseData
    from adapters.hyperliquid.schemas.ws import QuestionUpdated
    from adapters.hyperliquid.schemas.ws import SpotStateData
    from adapters.hyperliquid.schemas.ws import SpotStateFrame
    from adapters.hyperliquid.schemas.ws import SpotStateSubscription
    from adapters.hyperliquid.schemas.ws import SubscribeMessage
    from adapters.hyperliquid.schemas.ws import Subscription
    from adapters.hyperliquid.schemas.ws import SubscriptionResponseData
    from adapters.hyperliquid.schemas.ws import SubscriptionResponseFrame
    from adapters.hyperliquid.schemas.ws import TradesFrame
    from adapters.hyperliquid.schemas.ws import TradesSubscription
    from adapters.hyperliquid.schemas.ws import TwapHistoryEntry
    from adapters.hyperliquid.schemas.ws import TwapStatesData
    from adapters.hyperliquid.schemas.ws import TwapStatesFrame
    from adapters.hyperliquid.schemas.ws import TwapStatesSubscription
    from adapters.hyperliquid.schemas.ws import TwapStatus
    from adapters.hyperliquid.schemas.ws import UnsubscribeMessage
    from adapters.hyperliquid.schemas.ws import UserEvent
    from adapters.hyperliquid.schemas.ws import UserEventsFrame
    from adapters.hyperliquid.schemas.ws import UserEventsSubscription
    from adapters.hyperliquid.schemas.ws import UserFills
    from adapters.hyperliquid.schemas.ws import UserFillsFrame
    from adapters.hyperliquid.schemas.ws import UserFillsSubscription
    from adapters.hyperliquid.schemas.ws import UserFundings
    from adapters.hyperliquid.schemas.ws import UserFundingsFrame
    from adapters.hyperliquid.schemas.ws import UserFundingsSubscription
    from adapters.hyperliquid.schemas.ws import UserLiquidation
    from adapters.hyperliquid.schemas.ws import UserNonFundingLedgerUpdates
    from adapters.hyperliquid.schemas.ws import UserNonFundingLedgerUpdatesFrame
    from adapters.hyperliquid.schemas.ws import UserNonFundingLedgerUpdatesSubscription
    from adapters.hyperliquid.schemas.ws import UserTwapHistory
    from adapters.hyperliquid.schemas.ws import UserTwapHistoryFrame
    from adapters.hyperliquid.schemas.ws import UserTwapHistorySubscription
    from adapters.hyperliquid.schemas.ws import UserTwapSliceFills
    from adapters.hyperliquid.schemas.ws import UserTwapSliceFillsFrame
    from adapters.hyperliquid.schemas.ws import UserTwapSliceFillsSubscription
    from adapters.hyperliquid.schemas.ws import WebData2Frame
    from adapters.hyperliquid.schemas.ws import WebData2Subscription
    from adapters.hyperliquid.schemas.ws import WebData3
    from adapters.hyperliquid.schemas.ws import WebData3Frame
    from adapters.hyperliquid.schemas.ws import WebData3Subscription
    from adapters.hyperliquid.schemas.ws import WsClientMessage
    from adapters.hyperliquid.schemas.ws import WsFrame
    from adapters.hyperliquid.schemas.ws import decode_fast_asset_ctxs

_SUBMODULE_OF: dict[str, str] = {
    "ActiveAssetData": "common",
    "AssetPosition": "common",
    "BasicOrder": "common",
    "Bbo": "common",
    "Candle": "common",
    "ClearinghouseState": "common",
    "CumFunding": "common",
    "Fill": "common",
    "FillLiquidation": "common",
    "FrontendOrder": "common",
    "FrontendOrderStatus": "common",
    "L2Book": "common",
    "L2Level": "common",
    "LedgerDelta": "common",
    "LedgerUpdate": "common",
    "Leverage": "common",
    "LeverageType": "common",
    "LiquidatedPosition": "common",
    "MarginSummary": "common",
    "OrderUpdate": "common",
    "PerpAssetCtx": "common",
    "Position": "common",
    "Side": "common",
    "SpotAssetCtx": "common",
    "SpotBalance": "common",
    "SpotClearinghouseState": "common",
    "Trade": "common",
    "TwapSliceFill": "common",
    "TwapState": "common",
    "TwapTrigger": "common",
    "UserFunding": "common",
    "INFO_JSON_ENCODER": "info",
    "INFO_REQUEST_DECODER": "info",
    "INFO_RESPONSE_DECODERS": "info",
    "INFO_RESPONSE_TYPES": "info",
    "ActiveAssetDataRequest": "info",
    "AllMidsRequest": "info",
    "AllPerpMetasRequest": "info",
    "CandleSnapshotParams": "info",
    "CandleSnapshotRequest": "info",
    "ClearinghouseStateRequest": "info",
    "DailyUserVolume": "info",
    "EvmContract": "info",
    "ExtraAgent": "info",
    "ExtraAgentsRequest": "info",
    "FeeSchedule": "info",
    "FeeTiers": "info",
    "FrontendOpenOrdersRequest": "info",
    "FundingDelta": "info",
    "FundingHistoryEntry": "info",
    "FundingHistoryRequest": "info",
    "HistoricalOrdersRequest": "info",
    "InfoRequest": "info",
    "L2BookRequest": "info",
    "MakerFeeTier": "info",
    "MarginTable": "info",
    "MarginTier": "info",
    "MaxBuilderFeeRequest": "info",
    "Meta": "info",
    "MetaAndAssetCtxs": "info",
    "MetaAndAssetCtxsRequest": "info",
    "MetaRequest": "info",
    "OpenOrdersRequest": "info",
    "OrderStatusFound": "info",
    "OrderStatusRequest": "info",
    "OrderStatusResponse": "info",
    "OrderStatusUnknownOid": "info",
    "PerpAssetMeta": "info",
    "PerpDex": "info",
    "PerpDexsRequest": "info",
    "PredictedFunding": "info",
    "PredictedFundings": "info",
    "PredictedFundingsRequest": "info",
    "SpotClearinghouseStateRequest": "info",
    "SpotMeta": "info",
    "SpotMetaAndAssetCtxs": "info",
    "SpotMetaAndAssetCtxsRequest": "info",
    "SpotMetaRequest": "info",
    "SpotPair": "info",
    "SpotToken": "info",
    "UserFees": "info",
    "UserFeesRequest": "info",
    "UserFillsByTimeRequest": "info",
    "UserFillsRequest": "info",
    "UserFundingEntry": "info",
    "UserFundingRequest": "info",
    "UserNonFundingLedgerUpdatesRequest": "info",
    "UserRateLimit": "info",
    "UserRateLimitRequest": "info",
    "UserRole": "info",
    "UserRoleRequest": "info",
    "UserTwapSliceFillsRequest": "info",
    "VipFeeTier": "info",
    "decode_info_response": "info",
    "ACTION_DECODER": "exchange",
    "ACTION_MSGPACK_ENCODER": "exchange",
    "EXCHANGE_JSON_ENCODER": "exchange",
    "EXCHANGE_REQUEST_DECODER": "exchange",
    "EXCHANGE_RESPONSE_DECODER": "exchange",
    "USER_SIGNED_ACTION_TYPES": "exchange",
    "Action": "exchange",
    "ApproveAgentAction": "exchange",
    "ApproveBuilderFeeAction": "exchange",
    "BatchModifyAction": "exchange",
    "BuilderInfo": "exchange",
    "CancelAction": "exchange",
    "CancelByCloidAction": "exchange",
    "CancelByCloidWire": "exchange",
    "CancelResponse": "exchange",
    "CancelResponseData": "exchange",
    "CancelResponseStatus": "exchange",
    "CancelWire": "exchange",
    "CreateSubAccountAction": "exchange",
    "CreateSubAccountResponse": "exchange",
    "DefaultResponse": "exchange",
    "DummyAction": "exchange",
    "ErrorStatus": "exchange",
    "EvmUserModifyAction": "exchange",
    "ExchangeErr": "exchange",
    "ExchangeOk": "exchange",
    "ExchangeRequest": "exchange",
    "ExchangeResponse": "exchange",
    "FilledStatus": "exchange",
    "Grouping": "exchange",
    "HyperliquidChain": "exchange",
    "L1Action": "exchange",
    "LimitOrderType": "exchange",
    "ModifyAction": "exchange",
    "ModifyWire": "exchange",
    "NoopAction": "exchange",
    "OkPayload": "exchange",
    "OrderAction": "exchange",
    "OrderResponse": "exchange",
    "OrderResponseData": "exchange",
    "OrderResponseStatus": "exchange",
    "OrderStatusEntry": "exchange",
    "OrderTypeWire": "exchange",
    "OrderWire": "exchange",
    "PendingOrderStatus": "exchange",
    "ReserveRequestWeightAction": "exchange",
    "RestingStatus": "exchange",
    "ScheduleCancelAction": "exchange",
    "SendAssetAction": "exchange",
    "SetReferrerAction": "exchange",
    "Signature": "exchange",
    "SpotSendAction": "exchange",
    "SubAccountSpotTransferAction": "exchange",
    "SubAccountTransferAction": "exchange",
    "Tif": "exchange",
    "TokenDelegateAction": "exchange",
    "TopUpIsolatedOnlyMarginAction": "exchange",
    "Tpsl": "exchange",
    "TriggerOrderType": "exchange",
    "TwapCancelAction": "exchange",
    "TwapCancelResponse": "exchange",
    "TwapCancelResponseData": "exchange",
    "TwapOrderAction": "exchange",
    "TwapOrderResponse": "exchange",
    "TwapOrderResponseData": "exchange",
    "TwapOrderStatus": "exchange",
    "TwapRunning": "exchange",
    "TwapWire": "exchange",
    "UpdateIsolatedMarginAction": "exchange",
    "UpdateLeverageAction": "exchange",
    "UsdClassTransferAction": "exchange",
    "UsdSendAction": "exchange",
    "UserSignedAction": "exchange",
    "VaultTransferAction": "exchange",
    "Withdraw3Action": "exchange",
    "action_msgpack": "exchange",
    "action_to_wire": "exchange",
    "WS_CLIENT_MESSAGE_DECODER": "ws",
    "WS_FRAME_DECODER": "ws",
    "WS_JSON_ENCODER": "ws",
    "ActiveAssetCtx": "ws",
    "ActiveAssetCtxFrame": "ws",
    "ActiveAssetCtxSubscription": "ws",
    "ActiveAssetDataFrame": "ws",
    "ActiveAssetDataSubscription": "ws",
    "ActiveSpotAssetCtx": "ws",
    "ActiveSpotAssetCtxFrame": "ws",
    "AllDexsAssetCtxs": "ws",
    "AllDexsAssetCtxsFrame": "ws",
    "AllDexsAssetCtxsSubscription": "ws",
    "AllDexsClearinghouseState": "ws",
    "AllDexsClearinghouseStateFrame": "ws",
    "AllDexsClearinghouseStateSubscription": "ws",
    "AllMids": "ws",
    "AllMidsFrame": "ws",
    "AllMidsSubscription": "ws",
    "BboFrame": "ws",
    "BboSubscription": "ws",
    "CandleFrame": "ws",
    "CandleSubscription": "ws",
    "ClearinghouseStateData": "ws",
    "ClearinghouseStateFrame": "ws",
    "ClearinghouseStateSubscription": "ws",
    "ErrorFrame": "ws",
    "FastAssetCtx": "ws",
    "FastAssetCtxsFrame": "ws",
    "FastAssetCtxsSubscription": "ws",
    "L2BookFrame": "ws",
    "L2BookSubscription": "ws",
    "NonUserCancel": "ws",
    "Notification": "ws",
    "NotificationFrame": "ws",
    "NotificationSubscription": "ws",
    "OpenOrdersData": "ws",
    "OpenOrdersFrame": "ws",
    "OpenOrdersSubscription": "ws",
    "OrderUpdatesFrame": "ws",
    "OrderUpdatesSubscription": "ws",
    "OutcomeCreated": "ws",
    "OutcomeMetaUpdate": "ws",
    "OutcomeMetaUpdatesFrame": "ws",
    "OutcomeMetaUpdatesSubscription": "ws",
    "OutcomeSideSpec": "ws",
    "PingMessage": "ws",
    "PongFrame": "ws",
    "PostActionRequest": "ws",
    "PostActionResponse": "ws",
    "PostErrorResponse": "ws",
    "PostFrame": "ws",
    "PostInfoPayload": "ws",
    "PostInfoRequest": "ws",
    "PostInfoResponse": "ws",
    "PostMessage": "ws",
    "PostRequest": "ws",
    "PostResponse": "ws",
    "PostResponseData": "ws",
    "QuestionUpdated": "ws",
    "SpotStateData": "ws",
    "SpotStateFrame": "ws",
    "SpotStateSubscription": "ws",
    "SubscribeMessage": "ws",
    "Subscription": "ws",
    "SubscriptionResponseData": "ws",
    "SubscriptionResponseFrame": "ws",
    "TradesFrame": "ws",
    "TradesSubscription": "ws",
    "TwapHistoryEntry": "ws",
    "TwapStatesData": "ws",
    "TwapStatesFrame": "ws",
    "TwapStatesSubscription": "ws",
    "TwapStatus": "ws",
    "UnsubscribeMessage": "ws",
    "UserEvent": "ws",
    "UserEventsFrame": "ws",
    "UserEventsSubscription": "ws",
    "UserFills": "ws",
    "UserFillsFrame": "ws",
    "UserFillsSubscription": "ws",
    "UserFundings": "ws",
    "UserFundingsFrame": "ws",
    "UserFundingsSubscription": "ws",
    "UserLiquidation": "ws",
    "UserNonFundingLedgerUpdates": "ws",
    "UserNonFundingLedgerUpdatesFrame": "ws",
    "UserNonFundingLedgerUpdatesSubscription": "ws",
    "UserTwapHistory": "ws",
    "UserTwapHistoryFrame": "ws",
    "UserTwapHistorySubscription": "ws",
    "UserTwapSliceFills": "ws",
    "UserTwapSliceFillsFrame": "ws",
    "UserTwapSliceFillsSubscription": "ws",
    "WebData2Frame": "ws",
    "WebData2Subscription": "ws",
    "WebData3": "ws",
    "WebData3Frame": "ws",
    "WebData3Subscription": "ws",
    "WsClientMessage": "ws",
    "WsFrame": "ws",
    "decode_fast_asset_ctxs": "ws",
}
"""Public name -> the submodule that defines it."""


def __getattr__(name: str) -> Any:
    """Resolve a re-exported name on first use and cache it in the package namespace."""
    submodule = _SUBMODULE_OF.get(name)
    if submodule is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{submodule}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the lazily re-exported names too."""
    return sorted({*globals(), *_SUBMODULE_OF})


__all__ = [
    "ACTION_DECODER",
    "ACTION_MSGPACK_ENCODER",
    "EXCHANGE_JSON_ENCODER",
    "EXCHANGE_REQUEST_DECODER",
    "EXCHANGE_RESPONSE_DECODER",
    "INFO_JSON_ENCODER",
    "INFO_REQUEST_DECODER",
    "INFO_RESPONSE_DECODERS",
    "INFO_RESPONSE_TYPES",
    "USER_SIGNED_ACTION_TYPES",
    "WS_CLIENT_MESSAGE_DECODER",
    "WS_FRAME_DECODER",
    "WS_JSON_ENCODER",
    "Action",
    "ActiveAssetCtx",
    "ActiveAssetCtxFrame",
    "ActiveAssetCtxSubscription",
    "ActiveAssetData",
    "ActiveAssetDataFrame",
    "ActiveAssetDataRequest",
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
    "AllMidsRequest",
    "AllMidsSubscription",
    "AllPerpMetasRequest",
    "ApproveAgentAction",
    "ApproveBuilderFeeAction",
    "AssetPosition",
    "BasicOrder",
    "BatchModifyAction",
    "Bbo",
    "BboFrame",
    "BboSubscription",
    "BuilderInfo",
    "CancelAction",
    "CancelByCloidAction",
    "CancelByCloidWire",
    "CancelResponse",
    "CancelResponseData",
    "CancelResponseStatus",
    "CancelWire",
    "Candle",
    "CandleFrame",
    "CandleSnapshotParams",
    "CandleSnapshotRequest",
    "CandleSubscription",
    "ClearinghouseState",
    "ClearinghouseStateData",
    "ClearinghouseStateFrame",
    "ClearinghouseStateRequest",
    "ClearinghouseStateSubscription",
    "CreateSubAccountAction",
    "CreateSubAccountResponse",
    "CumFunding",
    "DailyUserVolume",
    "DefaultResponse",
    "DummyAction",
    "ErrorFrame",
    "ErrorStatus",
    "EvmContract",
    "EvmUserModifyAction",
    "ExchangeErr",
    "ExchangeOk",
    "ExchangeRequest",
    "ExchangeResponse",
    "ExtraAgent",
    "ExtraAgentsRequest",
    "FastAssetCtx",
    "FastAssetCtxsFrame",
    "FastAssetCtxsSubscription",
    "FeeSchedule",
    "FeeTiers",
    "Fill",
    "FillLiquidation",
    "FilledStatus",
    "FrontendOpenOrdersRequest",
    "FrontendOrder",
    "FrontendOrderStatus",
    "FundingDelta",
    "FundingHistoryEntry",
    "FundingHistoryRequest",
    "Grouping",
    "HistoricalOrdersRequest",
    "HyperliquidChain",
    "InfoRequest",
    "L1Action",
    "L2Book",
    "L2BookFrame",
    "L2BookRequest",
    "L2BookSubscription",
    "L2Level",
    "LedgerDelta",
    "LedgerUpdate",
    "Leverage",
    "LeverageType",
    "LimitOrderType",
    "LiquidatedPosition",
    "MakerFeeTier",
    "MarginSummary",
    "MarginTable",
    "MarginTier",
    "MaxBuilderFeeRequest",
    "Meta",
    "MetaAndAssetCtxs",
    "MetaAndAssetCtxsRequest",
    "MetaRequest",
    "ModifyAction",
    "ModifyWire",
    "NonUserCancel",
    "NoopAction",
    "Notification",
    "NotificationFrame",
    "NotificationSubscription",
    "OkPayload",
    "OpenOrdersData",
    "OpenOrdersFrame",
    "OpenOrdersRequest",
    "OpenOrdersSubscription",
    "OrderAction",
    "OrderResponse",
    "OrderResponseData",
    "OrderResponseStatus",
    "OrderStatusEntry",
    "OrderStatusFound",
    "OrderStatusRequest",
    "OrderStatusResponse",
    "OrderStatusUnknownOid",
    "OrderTypeWire",
    "OrderUpdate",
    "OrderUpdatesFrame",
    "OrderUpdatesSubscription",
    "OrderWire",
    "OutcomeCreated",
    "OutcomeMetaUpdate",
    "OutcomeMetaUpdatesFrame",
    "OutcomeMetaUpdatesSubscription",
    "OutcomeSideSpec",
    "PendingOrderStatus",
    "PerpAssetCtx",
    "PerpAssetMeta",
    "PerpDex",
    "PerpDexsRequest",
    "PingMessage",
    "PongFrame",
    "Position",
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
    "PredictedFunding",
    "PredictedFundings",
    "PredictedFundingsRequest",
    "QuestionUpdated",
    "ReserveRequestWeightAction",
    "RestingStatus",
    "ScheduleCancelAction",
    "SendAssetAction",
    "SetReferrerAction",
    "Side",
    "Signature",
    "SpotAssetCtx",
    "SpotBalance",
    "SpotClearinghouseState",
    "SpotClearinghouseStateRequest",
    "SpotMeta",
    "SpotMetaAndAssetCtxs",
    "SpotMetaAndAssetCtxsRequest",
    "SpotMetaRequest",
    "SpotPair",
    "SpotSendAction",
    "SpotStateData",
    "SpotStateFrame",
    "SpotStateSubscription",
    "SpotToken",
    "SubAccountSpotTransferAction",
    "SubAccountTransferAction",
    "SubscribeMessage",
    "Subscription",
    "SubscriptionResponseData",
    "SubscriptionResponseFrame",
    "Tif",
    "TokenDelegateAction",
    "TopUpIsolatedOnlyMarginAction",
    "Tpsl",
    "Trade",
    "TradesFrame",
    "TradesSubscription",
    "TriggerOrderType",
    "TwapCancelAction",
    "TwapCancelResponse",
    "TwapCancelResponseData",
    "TwapHistoryEntry",
    "TwapOrderAction",
    "TwapOrderResponse",
    "TwapOrderResponseData",
    "TwapOrderStatus",
    "TwapRunning",
    "TwapSliceFill",
    "TwapState",
    "TwapStatesData",
    "TwapStatesFrame",
    "TwapStatesSubscription",
    "TwapStatus",
    "TwapTrigger",
    "TwapWire",
    "UnsubscribeMessage",
    "UpdateIsolatedMarginAction",
    "UpdateLeverageAction",
    "UsdClassTransferAction",
    "UsdSendAction",
    "UserEvent",
    "UserEventsFrame",
    "UserEventsSubscription",
    "UserFees",
    "UserFeesRequest",
    "UserFills",
    "UserFillsByTimeRequest",
    "UserFillsFrame",
    "UserFillsRequest",
    "UserFillsSubscription",
    "UserFunding",
    "UserFundingEntry",
    "UserFundingRequest",
    "UserFundings",
    "UserFundingsFrame",
    "UserFundingsSubscription",
    "UserLiquidation",
    "UserNonFundingLedgerUpdates",
    "UserNonFundingLedgerUpdatesFrame",
    "UserNonFundingLedgerUpdatesRequest",
    "UserNonFundingLedgerUpdatesSubscription",
    "UserRateLimit",
    "UserRateLimitRequest",
    "UserRole",
    "UserRoleRequest",
    "UserSignedAction",
    "UserTwapHistory",
    "UserTwapHistoryFrame",
    "UserTwapHistorySubscription",
    "UserTwapSliceFills",
    "UserTwapSliceFillsFrame",
    "UserTwapSliceFillsRequest",
    "UserTwapSliceFillsSubscription",
    "VaultTransferAction",
    "VipFeeTier",
    "WebData2Frame",
    "WebData2Subscription",
    "WebData3",
    "WebData3Frame",
    "WebData3Subscription",
    "Withdraw3Action",
    "WsClientMessage",
    "WsFrame",
    "action_msgpack",
    "action_to_wire",
    "decode_fast_asset_ctxs",
    "decode_info_response",
]
