"""Request and response bodies of the HTTP API (separate from the domain types they carry).

Every model forbids unknown fields, so a typo is a 422 naming the field, not a silent default.
"""

from __future__ import annotations

from typing import Any
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import SecretStr
from pydantic import model_validator

__all__ = [
    "ID_PATTERN",
    "PLAIN_TEXT_PATTERN",
    "AccountRequest",
    "AccountResponse",
    "ControlRequest",
    "ControlResponse",
    "ErrorResponse",
    "FeedStreamView",
    "FillView",
    "HealthResponse",
    "InstrumentView",
    "IntentRequest",
    "OrderView",
    "PlanResponse",
    "PositionView",
    "ProblemItem",
    "StatusResponse",
    "StrategyCreateRequest",
    "StrategyDetail",
    "StrategyStatusView",
    "StrategySummary",
]

_STRICT = ConfigDict(extra="forbid")

# Ids the sidecar hands out (uuid4 strings); anything else is refused before it reaches a query.
ID_PATTERN = r"^[0-9A-Za-z_.:-]{1,64}$"


# Free text (intents, reasons) without control characters other than tab and newlines: PostgreSQL
# text cannot hold NUL, and nothing a trader writes needs them. A pattern, not a validator, so the
# OpenAPI schema says it too.
PLAIN_TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class ProblemItem(BaseModel):
    """One thing wrong with a request, with the field it concerns."""

    field: str = Field(examples=["limit_price_usd"])
    message: str = Field(examples=["60000.5 has more than 5 significant figures"])


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer: what went wrong, and for refused intents every problem found."""

    detail: str = Field(examples=["intent refused"])
    problems: list[ProblemItem] = Field(default_factory=list)


class IntentRequest(BaseModel):
    """An intent in words (``text``) or structured (``intent``), not both."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "buy 0.01 BTC at 60000"},
                {
                    "intent": {
                        "template": "direct",
                        "coin": "BTC",
                        "side": "BUY",
                        "size_coin": "0.01",
                        "order_kind": "LIMIT_GTC",
                        "limit_price_usd": "60000",
                    }
                },
            ]
        },
    )

    text: str | None = Field(
        default=None, min_length=1, max_length=2000, pattern=PLAIN_TEXT_PATTERN
    )
    intent: dict[str, Any] | None = Field(default=None)

    @model_validator(mode="after")
    def _one_of(self) -> IntentRequest:
        if (self.text is None) == (self.intent is None):
            raise ValueError("give exactly one of 'text' or 'intent'")
        return self


class PlanResponse(BaseModel):
    """A compiled plan, stored; nothing runs until a strategy is created from ``plan_id``."""

    plan_id: str = Field(examples=["6f1c7e0e-3a1b-4f7a-9a55-0d3a0c1e2b44"])
    intent_id: str
    template: str = Field(examples=["DirectBuy"])
    coin: str = Field(examples=["BTC"])
    instrument_id: str = Field(examples=["BTC-USD-PERP.HYPERLIQUID"])
    live: bool = Field(examples=[False])
    config_hash: str
    notional_usd: str = Field(examples=["600"])
    fees_usd: str = Field(examples=["0.27"])
    worst_case_loss: str
    leverage: str
    schedule: str
    notes: list[str]
    rendered: str = Field(description="the plan exactly as a user should read it before confirming")


class StrategyCreateRequest(BaseModel):
    """Confirm a plan: create a strategy from it (not started)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"plan_id": "6f1c7e0e-3a1b-4f7a-9a55-0d3a0c1e2b44"}]},
    )

    plan_id: str = Field(pattern=ID_PATTERN)


class StrategyCancelRequest(BaseModel):
    """Cancel: stop, cancel its orders, and close its position reduce-only if asked."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"close": True}]})

    close: bool = Field(default=False, description="also close the position reduce-only")


class StrategySummary(BaseModel):
    """One of the caller's strategies."""

    strategy_id: str
    plan_id: str
    coin: str
    account: str
    state: Literal["created", "running", "stopped", "cancelled"]
    node_strategy_id: str | None
    created_at_ms: int
    updated_at_ms: int


class StrategyDetail(StrategySummary):
    """A strategy with what the node knows of it right now."""

    regime_gate: str | None
    orders: list[dict[str, Any]]
    fills: list[dict[str, Any]]
    position: dict[str, Any] | None
    realized_pnl_usd: str | None
    unrealized_pnl_usd: str | None
    fees_usd: str | None
    budget_usd: str
    budget_used_usd: str | None
    budget_left_usd: str | None
    node_connected: bool
    interrupted: str | None = Field(
        default=None,
        description="set while the strategy's node is down: why, and that its orders are "
        "reconciled when the node returns",
    )


class ControlRequest(BaseModel):
    """An operator command for the whole node."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"mode": "HALT", "reason": "venue incident"}]},
    )

    mode: Literal["HALT", "REDUCE_ONLY", "RESUME"]
    reason: str = Field(min_length=3, max_length=500, pattern=PLAIN_TEXT_PATTERN)


class ControlResponse(BaseModel):
    """The node's trading mode and why."""

    mode: Literal["ACTIVE", "HALTED", "REDUCE_ONLY", "UNKNOWN"]
    reason: str | None
    node_connected: bool


class HealthResponse(BaseModel):
    """Liveness (``alive``) and readiness (``ready``: every check true)."""

    alive: bool
    ready: bool
    node_connected: bool
    feed_healthy: bool
    database_reachable: bool


class AccountRequest(BaseModel):
    """An agent wallet: your account's address and the API key it approved (never the master)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "account_address": "0x" + "ab" * 20,
                    "agent_private_key": "0x" + "00" * 31 + "01",
                }
            ]
        },
    )

    account_address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    agent_private_key: SecretStr = Field(description="write-only; never returned or logged")

    @model_validator(mode="after")
    def _key_shape(self) -> AccountRequest:
        key = self.agent_private_key.get_secret_value()
        hex_part = key[2:] if key.startswith("0x") else key
        if len(hex_part) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hex_part):
            raise ValueError("agent_private_key must be 32 bytes of hex (0x + 64 hex digits)")
        return self


class AccountResponse(BaseModel):
    """A registered agent wallet (the key is never returned)."""

    wallet_id: str
    account_address: str
    agent_address: str
    created_at_ms: int


class FeedStreamView(BaseModel):
    """One market-data stream's health as the data client last reported it."""

    stream: str = Field(examples=["l2Book:BTC"])
    status: str = Field(examples=["OK"], description="OK, STALE, GAP or RECONNECTING")
    reason: str


class InstrumentView(BaseModel):
    """An instrument the node watches: regime, mid price and feed health."""

    instrument_id: str = Field(examples=["BTC-USD-PERP.HYPERLIQUID"])
    coin: str
    regime: str | None = Field(description="the regime controller's verdict; None without one")
    mid: str | None
    feed_healthy: bool = Field(description="every stream of this coin is OK")
    feed: list[FeedStreamView]


class StrategyStatusView(BaseModel):
    """One strategy: the caller's (with its sidecar id) or, for operators, any on the node."""

    strategy_id: str | None = Field(description="the sidecar's id; None for the node's own")
    owner: str | None = Field(description="the token subject that owns it; None: the node's own")
    node_strategy_id: str | None
    coin: str | None
    state: str | None = Field(description="the sidecar's lifecycle state (created, running...)")
    component_state: str | None = Field(description="NautilusTrader's (RUNNING, STOPPED...)")
    rulebook_state: str | None = Field(description="the strategy's own last reported state")
    gate: str | None = Field(description="the regime controller's last gate")
    realized_pnl_usd: str | None
    unrealized_pnl_usd: str | None


class PositionView(BaseModel):
    """An open position on the node."""

    node_strategy_id: str
    instrument_id: str
    side: str
    quantity: str
    avg_px_open: str
    unrealized_pnl_usd: str | None


class OrderView(BaseModel):
    """One of the newest orders."""

    node_strategy_id: str
    client_order_id: str
    instrument_id: str
    side: str
    type: str
    status: str
    quantity: str
    filled_qty: str
    ts_last: int = Field(description="UNIX nanoseconds of the order's last event")


class FillView(BaseModel):
    """One of the newest fills."""

    node_strategy_id: str
    client_order_id: str
    instrument_id: str
    side: str
    px: str
    qty: str
    commission: str
    ts_event: int = Field(description="UNIX nanoseconds")


class StatusResponse(BaseModel):
    """Everything the status page shows; traders see only their own strategies, positions,
    orders and fills, operators everything on the node."""

    at_ms: int
    subject: str
    operator: bool
    node_connected: bool
    trading: ControlResponse
    risk_engine: str | None = Field(
        description="NautilusTrader's RiskEngine state (ACTIVE, REDUCING, HALTED): operators "
        "set it, and the feed-health gate holds it REDUCING while a needed stream is unhealthy"
    )
    instruments: list[InstrumentView]
    strategies: list[StrategyStatusView]
    positions: list[PositionView]
    orders: list[OrderView]
    fills: list[FillView]
