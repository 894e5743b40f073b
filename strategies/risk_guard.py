"""
The node-wide risk guard: the limits NautilusTrader's RiskEngine cannot express.

Where it sits, and why there: every order of the node — a rulebook strategy's, a user template's,
an execution algorithm's child, an emulated order on release — reaches NautilusTrader's
RiskEngine through ONE message-bus endpoint, ``"RiskEngine.execute"`` (``ExecutionManager
.send_risk_command``, ``ExecAlgorithm`` spawns, the ``OrderEmulator``; 1.231 ``execution/
manager.pyx``). ``install_risk_guard`` swaps that endpoint's handler for the guard's own, which
checks the command and then hands it to the RiskEngine's ``execute`` unchanged. So nothing can
submit an order around the guard, strategies need nothing special, and the RiskEngine stays in
front of the venue with its own checks (rate limits, trading state, precision). Cancels go
straight to the ExecEngine in NautilusTrader and are never blocked here either.

Rules (a refused order becomes ``OrderDenied`` with ``"RiskGuard: <why>"``):

* An order that opens or increases exposure (anything but an order on the other side of the
  account's net position that is reduce-only or no larger than it) must pass: the instrument
  allowlist, per-order minimum and maximum notional, the per-intent notional cap, the per-day
  notional caps per strategy and for the account, and the strategy's cooldown after a failure.
  Orders that only reduce are never capped: the guard never stands between a trader and a
  smaller position (except under HALT).
* REDUCE_ONLY (close-only): only reducing orders, and from flat nothing at all — unlike the
  RiskEngine's REDUCING, which lets a flat account open a position.
* The RiskEngine in REDUCING, whoever set it (the feed-health gate on a stale or gapped feed, the
  dead-man switch's hold, a hand-over that timed out, the breaker): the same close-only rule.
  NautilusTrader would let an order open a position from flat there (NAUTILUS_FACTS §5), so a
  user's market buy sent while the feeds are still stale at start-up would trade on no data.
* HALTED: nothing, except the orders the control module sends to flatten on request.
* Circuit breaker: ``max_consecutive_rejections`` venue rejections in a row (denials by the
  RiskEngine or the execution client included, the guard's own excluded) switch the guard to
  REDUCE_ONLY and the RiskEngine to REDUCING, with an error log line and a ``RiskGuardChange``.
* Dry-run: the guard refuses every order unless each execution client is a paper client
  (``adapters/hyperliquid/paper.py`` or a backtest venue) — ``jarvis node --dry-run`` swaps the
  config's clients for the paper one; the guard makes sure no live client slipped through.

Notional is counted when the guard lets an order through (not when it fills), so a cap can never
be exceeded by orders still in flight.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import NonNegativeInt
from nautilus_trader.config import PositiveFloat
from nautilus_trader.core.data import Data
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.model.data import DataType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.orders import Order

from common.nautilus import customdataclass_resolved

__all__ = [
    "FLATTEN_TAG",
    "GUARD_DENIAL_PREFIX",
    "INTENT_TAG_PREFIX",
    "RISK_GUARD_CHANGE_DATA_TYPE",
    "TRADING_STATE_CACHE_KEY",
    "GuardMode",
    "RiskGuard",
    "RiskGuardChange",
    "RiskGuardConfig",
    "install_risk_guard",
    "node_trading_state",
]

GUARD_DENIAL_PREFIX: Final[str] = "RiskGuard: "
INTENT_TAG_PREFIX: Final[str] = "intent:"
"""Orders tagged ``intent:<id>`` count toward one intent's notional cap together."""
FLATTEN_TAG: Final[str] = "jarvis:flatten"
"""The tag of the control module's flatten orders: the only orders a HALTED guard lets through."""
_RISK_ENDPOINT: Final[str] = "RiskEngine.execute"
TRADING_STATE_CACHE_KEY: Final[str] = "jarvis:trading_state"
"""The RiskEngine's trading state by name, kept current in the cache by the guard: a strategy
added while the node is already REDUCING saw no ``TradingStateChanged``, and strategies have no
handle on the RiskEngine to ask (``node_trading_state`` reads it)."""
_PAPER_CLIENT_CLASSES: Final[frozenset[str]] = frozenset(
    {"HyperliquidPaperExecutionClient", "SandboxExecutionClient", "BacktestExecClient"}
)
_NANOS_PER_SEC: Final[int] = 1_000_000_000


@unique
class GuardMode(StrEnum):
    """What the guard lets through (the operator's HALT / REDUCE_ONLY / RESUME)."""

    ACTIVE = "ACTIVE"
    REDUCE_ONLY = "REDUCE_ONLY"
    HALTED = "HALTED"


@customdataclass_resolved
class RiskGuardChange(Data):
    """The guard's mode changed (operator command or circuit breaker), with the reason."""

    previous: str = ""
    mode: str = ""
    reason: str = ""


RISK_GUARD_CHANGE_DATA_TYPE: Final = DataType(RiskGuardChange)


class RiskGuardConfig(ActorConfig, frozen=True, kw_only=True):
    """
    Limits of the node-wide risk guard (all notionals in USD).

    Parameters
    ----------
    min_order_notional_usd : float
        Smallest order that opens or increases exposure (the venue's own floor is $10).
    max_order_notional_usd : float
        Largest such order.
    max_intent_notional_usd : float
        Largest total of one intent's orders (orders tagged ``intent:<id>``; an untagged order
        is an intent of its own).
    max_daily_notional_usd_per_strategy : float
        Per UTC day and strategy: total notional of orders that open or increase exposure.
    max_daily_notional_usd : float
        Per UTC day, the same for the whole account.
    allowed_instruments : list[str], optional
        Instrument ids orders may open exposure on; ``None`` allows every instrument.
    failure_cooldown_secs : float
        After a strategy's order is rejected, its orders that open exposure are refused this long.
    max_consecutive_rejections : int
        Rejections in a row that trip the circuit breaker (guard REDUCE_ONLY, RiskEngine
        REDUCING); 0 disables the breaker.
    dry_run : bool
        Refuse every order unless every execution client is a paper client.
    """

    component_id: str = "RiskGuard"
    min_order_notional_usd: NonNegativeFloat = 10.0
    max_order_notional_usd: PositiveFloat = 100_000.0
    max_intent_notional_usd: PositiveFloat = 100_000.0
    max_daily_notional_usd_per_strategy: PositiveFloat = 1_000_000.0
    max_daily_notional_usd: PositiveFloat = 2_000_000.0
    allowed_instruments: list[str] | None = None
    failure_cooldown_secs: NonNegativeFloat = 30.0
    max_consecutive_rejections: NonNegativeInt = 5
    dry_run: bool = False

    def __post_init__(self) -> None:
        if self.max_order_notional_usd < self.min_order_notional_usd:
            raise ValueError(
                f"max_order_notional_usd ({self.max_order_notional_usd}) must not be below "
                f"min_order_notional_usd ({self.min_order_notional_usd})"
            )
        for name in self.allowed_instruments or ():
            try:
                InstrumentId.from_str(name)
            except ValueError:
                raise ValueError(
                    f"allowed_instruments: {name!r} is not an instrument id "
                    "(e.g. 'BTC-USD-PERP.HYPERLIQUID')"
                ) from None


def _usd(value: Decimal | float) -> str:
    return f"{float(value):,.2f}"


class RiskGuard(Actor):
    """
    Checks every order of the node before NautilusTrader's RiskEngine (see module notes).

    Added as an actor (``[[node.actors]]``, or by ``install_risk_guard`` with defaults) so it has
    the cache, the portfolio, the clock and the message bus; ``install_risk_guard`` then puts it
    on the RiskEngine's endpoint.
    """

    def __init__(self, config: RiskGuardConfig | None = None) -> None:
        config = config or RiskGuardConfig()
        super().__init__(config)
        self._cfg = config
        self._allowed: frozenset[InstrumentId] | None = (
            None
            if config.allowed_instruments is None
            else frozenset(InstrumentId.from_str(i) for i in config.allowed_instruments)
        )
        self._mode = GuardMode.ACTIVE
        self._forward: Callable[[Any], None] | None = None
        self._set_trading_state: Callable[[TradingState], None] | None = None
        self._trading_state: Callable[[], int] = lambda: TradingState.ACTIVE
        self._dry_run_problem: str | None = None
        self._intent_usd: dict[str, Decimal] = defaultdict(Decimal)
        self._day: int = -1
        self._day_strategy_usd: dict[str, Decimal] = defaultdict(Decimal)
        self._day_account_usd = Decimal(0)
        self._cooldown_until_ns: dict[str, tuple[int, str]] = {}
        self._consecutive_rejections = 0
        self.flatten_in_progress = False
        self._on_flat: list[Callable[[], None]] = []
        self.denials: list[str] = []  # every refusal's reason, for the demo and tests

    # -- installation -----------------------------------------------------------------------------

    def install(
        self,
        risk_engine: Any,
        exec_clients: Iterable[Any] = (),
    ) -> None:
        """Take over ``RiskEngine.execute`` (must be registered with the trader first)."""
        if self._forward is not None:
            raise RuntimeError("the risk guard is already installed")
        self.msgbus.deregister(_RISK_ENDPOINT, risk_engine.execute)
        self.msgbus.register(_RISK_ENDPOINT, self.execute)
        self._forward = risk_engine.execute
        self._set_trading_state = risk_engine.set_trading_state
        self._trading_state = lambda: risk_engine.trading_state
        if self._cfg.dry_run:
            live = sorted(
                f"{client.id} ({type(client).__name__})"
                for client in exec_clients
                if type(client).__name__ not in _PAPER_CLIENT_CLASSES
            )
            if live:
                self._dry_run_problem = (
                    f"dry_run is on but execution client(s) {', '.join(live)} would send to a "
                    "real venue; run with the paper execution client (jarvis node --dry-run)"
                )
                self.log.error(f"{self._dry_run_problem}: every order will be refused")

    @property
    def installed(self) -> bool:
        """Whether the guard sits on the RiskEngine's endpoint."""
        return self._forward is not None

    # -- lifecycle --------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Watch order events: rejections feed the cooldown and the circuit breaker."""
        self.msgbus.subscribe("events.order.*", self._on_order_event)
        self.msgbus.subscribe("events.position.*", self._on_position_event)
        self.msgbus.subscribe("events.risk", self._on_risk_event)
        self._keep_trading_state(TradingState(self._trading_state()))
        if not self.installed:
            self.log.error(
                "RiskGuard is not installed on RiskEngine.execute: call install_risk_guard "
                "(jarvis.node does) — orders are NOT being checked"
            )

    def on_stop(self) -> None:
        """Stop watching order events (the endpoint stays guarded while the node lives)."""
        self.msgbus.unsubscribe("events.order.*", self._on_order_event)
        self.msgbus.unsubscribe("events.position.*", self._on_position_event)
        self.msgbus.unsubscribe("events.risk", self._on_risk_event)

    def _on_risk_event(self, event: Any) -> None:
        state = getattr(event, "state", None)
        if state is not None:
            self._keep_trading_state(TradingState(state))

    def _keep_trading_state(self, state: TradingState) -> None:
        self.cache.add(TRADING_STATE_CACHE_KEY, str(state.name).encode())

    def on_flat(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once no position is open any more (the control module's flatten)."""
        self._on_flat.append(callback)

    def _on_position_event(self, event: Any) -> None:
        if self._on_flat and not self.cache.positions_open():
            callbacks, self._on_flat = self._on_flat, []
            for callback in callbacks:
                callback()

    # -- operator modes ---------------------------------------------------------------------------

    @property
    def mode(self) -> GuardMode:
        """The current mode."""
        return self._mode

    def daily_budget_used(self) -> float:
        """Share of the account's daily notional cap taken today (0 to 1 and past it)."""
        return float(self._day_account_usd) / self._cfg.max_daily_notional_usd

    @property
    def consecutive_rejections(self) -> int:
        """Rejections in a row since the last accepted or filled order."""
        return self._consecutive_rejections

    def set_mode(self, mode: GuardMode, reason: str) -> None:
        """Switch mode (and say so: one log line and a ``RiskGuardChange``)."""
        previous = self._mode
        self._mode = mode
        if mode == GuardMode.ACTIVE:
            self._consecutive_rejections = 0
        self.log.warning(f"RiskGuard {previous.value}->{mode.value}: {reason}")
        now = self.clock.timestamp_ns()
        ctor: Any = RiskGuardChange
        change = ctor(
            ts_event=now, ts_init=now, previous=previous.value, mode=mode.value, reason=reason
        )
        self.publish_data(RISK_GUARD_CHANGE_DATA_TYPE, change)

    # -- the endpoint -----------------------------------------------------------------------------

    def execute(self, command: Any) -> None:
        """The RiskEngine's endpoint: check, then forward (or deny) the command."""
        forward = self._forward
        assert forward is not None
        if isinstance(command, SubmitOrder):
            reason = self._check(command.order)
            if reason is not None:
                self._deny(command.order, reason, command)
                return
        elif isinstance(command, SubmitOrderList):
            for order in command.order_list.orders:
                reason = self._check(order)
                if reason is not None:
                    for each in command.order_list.orders:
                        self._deny(each, f"{order.client_order_id}: {reason}", command)
                    return
        forward(command)

    def check(self, order: Order) -> str | None:
        """Why ``order`` would be refused now (None: allowed); counts nothing."""
        return self._problem(order)

    def _check(self, order: Order) -> str | None:
        problem = self._problem(order)
        if problem is None and self._increases(order):
            notional = self._notional(order)
            assert notional is not None  # _problem refused unknown notional
            self._intent_usd[self._intent_of(order)] += notional
            self._day_strategy_usd[order.strategy_id.value] += notional
            self._day_account_usd += notional
        return problem

    def _problem(self, order: Order) -> str | None:
        if self._forward is None:
            return "not installed"
        if self._dry_run_problem is not None:
            return self._dry_run_problem
        if self._mode == GuardMode.HALTED:
            if (
                self.flatten_in_progress
                and FLATTEN_TAG in (order.tags or [])
                and self._reduces(order)
            ):
                return None
            return "trading is HALTED by the operator: no order is sent (cancels still are)"
        increases = self._increases(order)
        if self._mode == GuardMode.REDUCE_ONLY and (increases or not self._reduces(order)):
            return (
                f"close-only mode: {order.side_string()} {order.quantity} {order.instrument_id} "
                f"would open or increase exposure (net position {self._net(order)})"
            )
        if self._trading_state() == TradingState.REDUCING and (
            increases or not self._reduces(order)
        ):
            return (
                f"the node is REDUCING (close-only): {order.side_string()} {order.quantity} "
                f"{order.instrument_id} would open or increase exposure (net position "
                f"{self._net(order)}); the log says why the node went REDUCING"
            )
        if not increases:
            return None
        return self._cap_problem(order)

    def _cap_problem(self, order: Order) -> str | None:
        cfg = self._cfg
        if self._allowed is not None and order.instrument_id not in self._allowed:
            allowed = ", ".join(sorted(i.value for i in self._allowed))
            return f"{order.instrument_id} is not in allowed_instruments ({allowed})"
        now = self.clock.timestamp_ns()
        cooldown = self._cooldown_until_ns.get(order.strategy_id.value)
        if cooldown is not None and now < cooldown[0]:
            until = dt.datetime.fromtimestamp(cooldown[0] / _NANOS_PER_SEC, tz=dt.UTC)
            return (
                f"{order.strategy_id} is cooling down after a failure until "
                f"{until:%H:%M:%S} UTC (failure_cooldown_secs={cfg.failure_cooldown_secs:g}): "
                f"{cooldown[1]}"
            )
        notional = self._notional(order)
        if notional is None:
            return f"no price for {order.instrument_id} yet to value the order; try again shortly"
        if notional < Decimal(str(cfg.min_order_notional_usd)):
            return (
                f"order notional {_usd(notional)} USD is below min_order_notional_usd "
                f"{_usd(cfg.min_order_notional_usd)} USD"
            )
        if notional > Decimal(str(cfg.max_order_notional_usd)):
            return (
                f"order notional {_usd(notional)} USD is above max_order_notional_usd "
                f"{_usd(cfg.max_order_notional_usd)} USD"
            )
        intent = self._intent_of(order)
        total = self._intent_usd.get(intent, Decimal(0)) + notional
        if total > Decimal(str(cfg.max_intent_notional_usd)):
            return (
                f"intent {intent} would reach {_usd(total)} USD, above max_intent_notional_usd "
                f"{_usd(cfg.max_intent_notional_usd)} USD"
            )
        self._roll_day(now)
        strategy = order.strategy_id.value
        total = self._day_strategy_usd.get(strategy, Decimal(0)) + notional
        if total > Decimal(str(cfg.max_daily_notional_usd_per_strategy)):
            return (
                f"{strategy} would trade {_usd(total)} USD today, above "
                f"max_daily_notional_usd_per_strategy "
                f"{_usd(cfg.max_daily_notional_usd_per_strategy)} USD"
            )
        total = self._day_account_usd + notional
        if total > Decimal(str(cfg.max_daily_notional_usd)):
            return (
                f"the account would trade {_usd(total)} USD today, above max_daily_notional_usd "
                f"{_usd(cfg.max_daily_notional_usd)} USD"
            )
        return None

    # -- helpers ----------------------------------------------------------------------------------

    def _net(self, order: Order) -> Decimal:
        return Decimal(str(self.portfolio.net_position(order.instrument_id)))

    def _reduces(self, order: Order) -> bool:
        """On the other side of a non-zero net position, reduce-only or no larger than it."""
        net = self._net(order)
        if net == 0:
            return False
        opposite = (order.side == OrderSide.SELL) == (net > 0)
        return opposite and (order.is_reduce_only or order.quantity.as_decimal() <= abs(net))

    def _increases(self, order: Order) -> bool:
        return not order.is_reduce_only and not self._reduces(order)

    def _notional(self, order: Order) -> Decimal | None:
        price = None
        if order.has_price:
            price = order.price.as_decimal()
        elif order.has_trigger_price:
            price = order.trigger_price.as_decimal()
        else:
            quote = self.cache.quote_tick(order.instrument_id)
            if quote is not None:
                side = quote.ask_price if order.side == OrderSide.BUY else quote.bid_price
                price = side.as_decimal()
            else:
                book = self.cache.order_book(order.instrument_id)
                best = None
                if book is not None:
                    best = (
                        book.best_ask_price()
                        if order.side == OrderSide.BUY
                        else book.best_bid_price()
                    )
                price = best.as_decimal() if best is not None else None
        if price is None:
            return None
        return price * order.quantity.as_decimal()

    @staticmethod
    def _intent_of(order: Order) -> str:
        for tag in order.tags or ():
            if tag.startswith(INTENT_TAG_PREFIX):
                return tag[len(INTENT_TAG_PREFIX) :]
        return order.client_order_id.value

    def _roll_day(self, now_ns: int) -> None:
        day = now_ns // (86_400 * _NANOS_PER_SEC)
        if day != self._day:
            self._day = day
            self._day_strategy_usd.clear()
            self._day_account_usd = Decimal(0)

    def _deny(self, order: Order, reason: str, command: Any) -> None:
        text = f"{GUARD_DENIAL_PREFIX}{reason}"
        self.denials.append(text)
        self.log.warning(f"Order {order.client_order_id} DENIED: {text}")
        if order.status != OrderStatus.INITIALIZED:
            return  # already denied (a list's second check) or not ours to deny
        if not self.cache.order_exists(order.client_order_id):
            self.cache.add_order(order, command.position_id, command.client_id)
        denied = OrderDenied(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            reason=text,
            event_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
        )
        self.msgbus.send(endpoint="ExecEngine.process", msg=denied)

    # -- failures ---------------------------------------------------------------------------------

    def _on_order_event(self, event: Any) -> None:
        if isinstance(event, (OrderAccepted, OrderFilled)):
            self._consecutive_rejections = 0
            return
        ours = isinstance(event, OrderDenied) and event.reason.startswith(GUARD_DENIAL_PREFIX)
        if not isinstance(event, (OrderRejected, OrderDenied)) or ours:
            return
        reason = event.reason
        cfg = self._cfg
        now = self.clock.timestamp_ns()
        until = now + int(cfg.failure_cooldown_secs * _NANOS_PER_SEC)
        self._cooldown_until_ns[event.strategy_id.value] = (until, reason)
        self._consecutive_rejections += 1
        limit = cfg.max_consecutive_rejections
        if limit and self._consecutive_rejections >= limit and self._mode == GuardMode.ACTIVE:
            why = (
                f"circuit breaker: {self._consecutive_rejections} consecutive rejections "
                f"(max_consecutive_rejections={limit}), last: {reason}"
            )
            self.log.error(f"RiskGuard {why}; node goes REDUCING (close-only)")
            self.set_mode(GuardMode.REDUCE_ONLY, why)
            if self._set_trading_state is not None:
                self._set_trading_state(TradingState.REDUCING)


def install_risk_guard(kernel: Any, config: RiskGuardConfig | None = None) -> RiskGuard:
    """
    Put a ``RiskGuard`` on ``kernel``'s RiskEngine endpoint (a TradingNode's or a
    BacktestEngine's kernel, after build, before start).

    Uses the guard the config added as an actor when there is one, else adds one with
    ``config`` (default limits), so every node that trades is guarded.
    """
    trader = kernel.trader
    guards = [a for a in trader.actors() if isinstance(a, RiskGuard)]
    if len(guards) > 1:
        raise ValueError("more than one RiskGuard configured; a node has exactly one")
    if guards:
        guard = guards[0]
    else:
        guard = RiskGuard(config)
        trader.add_actor(guard)
    clients = list(kernel.exec_engine._clients.values())
    guard.install(kernel.risk_engine, clients)
    return guard


def node_trading_state(cache: Any) -> TradingState | None:
    """The node's trading state as the guard last kept it in ``cache`` (None: no guard yet)."""
    raw = cache.get(TRADING_STATE_CACHE_KEY)
    return None if raw is None else TradingState[bytes(raw).decode()]
