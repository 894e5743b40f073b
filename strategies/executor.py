"""
The one intent executor every strategy uses: an ``Intent`` in, protected orders out.

Order of work (STRATEGIES.md, Intents):

1. ``submit``: size from account equity, the venue's rules and the stop's side (``plan_intent``)
   checked before anything is sent; a refusal is reported at once and nothing is sent.
2. The entry: a MARKET order (the execution client sends it as a slippage-capped IOC).
3. Once the entry is done (filled, or partly filled and the IOC rest cancelled), the protective
   stop (STOP_MARKET) and the target (MARKET_IF_TOUCHED), both reduce-only, for the position's
   quantity, sent as venue trigger orders: they rest AT THE VENUE, so the position stays
   protected if the node dies. A protective order the venue refuses triggers the emergency
   exit: a position is never left unprotected on purpose.
4. When the position is flat (stop, target or exit), the other protective order is cancelled
   (once the venue has it, if it is still on its way: ``strategies.late_cancels``).
5. ``emergency_exit``: cancel the strategy's orders on the instrument, then reduce-only IOC
   limit orders priced from the best opposite price moved by ``exit_slippage_bps[n]`` — a market
   close whose worst price is bounded and widens attempt after attempt — until flat or out of
   attempts (then ``EXIT_FAILED``; the strategy decides whether to start another round);
   attempts after the first wait ``exit_retry_delay_secs`` for the last one's fills.

Every outcome goes back to the strategy through its ``on_intent_outcome``. Orders carry the tag
``intent:<id>`` so the risk guard counts one intent's orders together.

Why not NautilusTrader's ``bracket`` + ``market_exit``: a bracket is sent as one venue
``normalTpsl`` group whose children the venue sizes from the entry, not from what filled, and
``market_exit`` sends plain MARKET orders at the execution client's single slippage cap with
no widening; both also report nothing back in intent terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Any

from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.events import OrderAccepted
from nautilus_trader.model.events import OrderCanceled
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderExpired
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderRejected
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid.numbers import slippage_price
from strategies.intents import Direction
from strategies.intents import Intent
from strategies.intents import IntentOutcome
from strategies.intents import IntentOutcomeKind
from strategies.intents import IntentPlan
from strategies.intents import IntentRefused
from strategies.intents import plan_intent
from strategies.late_cancels import LateCancels
from strategies.risk_guard import INTENT_TAG_PREFIX

__all__ = ["ExecutorPhase", "IntentExecutor"]

_K = IntentOutcomeKind
_TERMINAL = (OrderCanceled, OrderExpired, OrderRejected, OrderDenied)


@unique
class ExecutorPhase(StrEnum):
    """Where the executor is with the current intent."""

    IDLE = "IDLE"
    ENTERING = "ENTERING"
    PROTECTING = "PROTECTING"
    PROTECTED = "PROTECTED"
    EXITING = "EXITING"


class IntentExecutor:
    """
    Turns one strategy's intents into orders on one instrument and reports every outcome.

    Parameters
    ----------
    strategy : Strategy
        The strategy whose order factory, cache and portfolio are used; its orders are its own.
    instrument : Instrument
        The instrument traded.
    report : Callable[[IntentOutcome], None]
        Receives every outcome.
    exit_slippage_bps : Sequence[float]
        One emergency-exit attempt per entry, each priced this far through the best opposite
        price (widening); their count bounds the attempts.
    exit_retry_delay_secs : float
        Pause between an exit attempt that left a position and the next one. The venue reports
        an IOC's end (its cancelled rest) before its fills reach the node, so an attempt sent at
        once would be sized from a stale position; and a thin book needs a moment to refill.
    """

    def __init__(
        self,
        strategy: Strategy,
        instrument: Instrument,
        report: Callable[[IntentOutcome], None],
        exit_slippage_bps: Sequence[float] = (25.0, 50.0, 100.0, 200.0, 400.0),
        exit_retry_delay_secs: float = 0.25,
    ) -> None:
        if not exit_slippage_bps or any(not 0 < b < 10_000 for b in exit_slippage_bps):
            raise ValueError(
                f"exit_slippage_bps must be non-empty, each in (0, 10000): {exit_slippage_bps}"
            )
        self._strategy = strategy
        self._instrument = instrument
        self._report = report
        self._exit_steps = tuple(exit_slippage_bps)
        if exit_retry_delay_secs < 0:
            raise ValueError(f"exit_retry_delay_secs must be >= 0, was {exit_retry_delay_secs}")
        self._exit_retry_delay_ns = round(exit_retry_delay_secs * 1e9)
        info = instrument.info or {}
        self._sz_decimals = int(info.get("szDecimals", instrument.size_precision))
        self._is_spot = False
        self.phase = ExecutorPhase.IDLE
        self.plan: IntentPlan | None = None
        self.reference_mid = math.nan  # kept fresh by the strategy (its MarketState mid)
        self._intent_seq = 0
        self._tag = ""
        self._entry: ClientOrderId | None = None
        self._stop: ClientOrderId | None = None
        self._target: ClientOrderId | None = None
        self._exit: ClientOrderId | None = None
        self._exit_attempt = 0
        self._exit_reason = ""
        self._entry_reported = False
        self._protected: set[ClientOrderId] = set()
        # Orders cancelled before the venue acknowledged them are cancelled once it does.
        self.late_cancels = LateCancels(strategy)

    # -- queries ----------------------------------------------------------------------------------

    def position_qty(self) -> Decimal:
        """The strategy's signed open quantity on the instrument (0 when flat)."""
        total = Decimal(0)
        for position in self._strategy.cache.positions_open(
            instrument_id=self._instrument.id, strategy_id=self._strategy.id
        ):
            total += Decimal(str(position.signed_qty))
        return total

    def open_orders(self) -> int:
        """The strategy's open (or in-flight) orders on the instrument."""
        cache = self._strategy.cache
        iid = self._instrument.id
        sid = self._strategy.id
        return len(cache.orders_open(instrument_id=iid, strategy_id=sid)) + len(
            cache.orders_inflight(instrument_id=iid, strategy_id=sid)
        )

    def is_flat(self) -> bool:
        """No position and no open order."""
        return self.position_qty() == 0 and self.open_orders() == 0

    # -- intents ----------------------------------------------------------------------------------

    def submit(self, intent: Intent) -> IntentOutcome | None:
        """Check and send ``intent``'s entry; a refusal is returned (and reported)."""
        if self.phase != ExecutorPhase.IDLE:
            return self._refuse(f"an intent is already being executed ({self.phase.value})")
        equity = self._equity()
        if equity is None:
            return self._refuse(f"no account for {self._instrument.id.venue} yet: cannot size")
        # The decision's price may be a second old: check the stop's side and size against the
        # price the entry will actually meet (the best opposite quote), when there is one.
        live = self._reference(intent.direction == Direction.LONG, quote_only=True)
        if live is not None:
            intent = replace(intent, reference_price=float(live))
        try:
            plan = plan_intent(intent, equity, self._sz_decimals, is_spot=self._is_spot)
        except IntentRefused as exc:
            return self._refuse(str(exc))
        self._intent_seq += 1
        self._tag = f"{INTENT_TAG_PREFIX}{self._strategy.id}-{self._intent_seq}"
        self.plan = plan
        self.phase = ExecutorPhase.ENTERING
        self._entry_reported = False
        side = OrderSide.BUY if plan.direction == Direction.LONG else OrderSide.SELL
        order = self._strategy.order_factory.market(
            self._instrument.id,
            side,
            self._instrument.make_qty(plan.quantity),
            tags=[self._tag, "entry"],
        )
        self._entry = order.client_order_id
        self._strategy.log.info(
            f"Intent {self._tag} {plan.direction.value} {plan.quantity} @~{plan.reference_price} "
            f"stop {plan.stop_price} target {plan.target_price} "
            f"({plan.notional_usd:.2f} USD): {intent.reason}"
        )
        self._strategy.submit_order(order)
        return None

    def adopt(self, stop_price: float, target_price: float) -> None:
        """Manage an open position again after a restart: its stop and target are the
        strategy's open STOP_MARKET / MARKET_IF_TOUCHED orders (reconciled from the venue).
        Without a resting stop the position is closed at once: never left unprotected."""
        qty = self.position_qty()
        if qty == 0:
            return
        direction = Direction.LONG if qty > 0 else Direction.SHORT
        self.plan = IntentPlan(
            direction=direction,
            quantity=abs(qty),
            stop_price=Decimal(str(stop_price)),
            target_price=Decimal(str(target_price)),
            reference_price=Decimal(0),
            notional_usd=Decimal(0),
        )
        self._intent_seq += 1
        self._tag = f"{INTENT_TAG_PREFIX}{self._strategy.id}-restored-{self._intent_seq}"
        self.phase = ExecutorPhase.PROTECTED
        for order in self._strategy.cache.orders_open(
            instrument_id=self._instrument.id, strategy_id=self._strategy.id
        ):
            if order.order_type == OrderType.STOP_MARKET and order.is_reduce_only:
                self._stop = order.client_order_id
            elif order.order_type == OrderType.MARKET_IF_TOUCHED and order.is_reduce_only:
                self._target = order.client_order_id
        if self._stop is None:
            self.emergency_exit("restarted with a position but no resting stop")

    def emergency_exit(self, reason: str) -> None:
        """Cancel every order of the strategy on the instrument, then close at market."""
        self._strategy.log.warning(f"Emergency exit {self._tag or '(no intent)'}: {reason}")
        self._exit_reason = reason
        self.phase = ExecutorPhase.EXITING
        self._exit_attempt = 0
        self.cancel_own_orders()
        self._next_exit_attempt()

    def cancel_own_orders(self) -> None:
        """Cancel this strategy's orders on the instrument, one by one, those the venue has not
        acknowledged yet included (``late_cancels``).

        Not ``cancel_all_orders``: the Hyperliquid client cancels every order on the coin
        there, other strategies' and the user's own included.
        """
        cache = self._strategy.cache
        for order in cache.orders(instrument_id=self._instrument.id, strategy_id=self._strategy.id):
            self.late_cancels.cancel(order)

    def cancel_entry(self) -> None:
        """Cancel the entry order if it is still open (ARMED -> DISABLED)."""
        if self._entry is None:
            return
        order = self._strategy.cache.order(self._entry)
        if order is not None and order.is_open:
            self._strategy.cancel_order(order)

    # -- events -----------------------------------------------------------------------------------

    def on_order_event(self, event: Any) -> None:
        """Feed every order event of the strategy here."""
        self.late_cancels.on_event(event)
        cid = event.client_order_id
        if cid == self._entry:
            self._on_entry_event(event)
        elif cid in (self._stop, self._target):
            self._on_protective_event(event)
        elif cid == self._exit:
            self._on_exit_event(event)

    def on_position_event(self, event: Any) -> None:
        """Feed every position event of the strategy here (flat detection)."""
        if event.instrument_id == self._instrument.id:
            self._check_flat(None)

    # -- internals --------------------------------------------------------------------------------

    def _equity(self) -> Decimal | None:
        account = self._strategy.portfolio.account(self._instrument.id.venue)
        if account is None:
            return None
        currency = self._instrument.settlement_currency
        total = account.balance_total(currency)
        if total is None and account.base_currency is not None:
            total = account.balance_total(account.base_currency)
        return None if total is None else total.as_decimal()

    def _refuse(self, reason: str) -> IntentOutcome:
        outcome = IntentOutcome(_K.REFUSED, reason)
        self._strategy.log.warning(f"Intent refused: {reason}")
        self._report(outcome)
        return outcome

    def _on_entry_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            if not self._entry_reported:
                self._entry_reported = True
                self._report(IntentOutcome(_K.FILLED, "entry filled", float(event.last_px)))
            order = self._strategy.cache.order(event.client_order_id)
            if order is not None and order.is_closed:
                self._protect()
        elif isinstance(event, OrderAccepted):
            self._report(IntentOutcome(_K.ACCEPTED, "entry accepted"))
        elif isinstance(event, _TERMINAL):
            order = self._strategy.cache.order(event.client_order_id)
            filled = order is not None and order.filled_qty.as_decimal() > 0
            if filled:
                self._protect()
            elif self.phase == ExecutorPhase.ENTERING:
                self.phase = ExecutorPhase.IDLE
                reason = getattr(event, "reason", None) or type(event).__name__
                self._report(IntentOutcome(_K.REJECTED, f"entry not filled: {reason}"))

    def _protect(self) -> None:
        if self.phase != ExecutorPhase.ENTERING:
            return  # an exit started meanwhile, or already protecting
        plan = self.plan
        assert plan is not None
        qty = abs(self.position_qty())
        if qty == 0:
            self.phase = ExecutorPhase.IDLE
            self._report(IntentOutcome(_K.EXITED, "entry filled but the position is flat"))
            return
        entry = self._strategy.cache.order(self._entry) if self._entry is not None else None
        avg_px = Decimal(str(entry.avg_px)) if entry is not None and entry.avg_px else None
        if avg_px is not None and not (
            plan.stop_price < avg_px < plan.target_price
            if plan.direction == Direction.LONG
            else plan.target_price < avg_px < plan.stop_price
        ):
            # The market ran through a level while the entry was in flight: protective orders
            # would trigger at once (a target at a loss). Close instead.
            self.phase = ExecutorPhase.PROTECTING
            self.emergency_exit(
                f"entry filled at {avg_px}, outside stop {plan.stop_price} / target "
                f"{plan.target_price}"
            )
            return
        self.phase = ExecutorPhase.PROTECTING
        side = OrderSide.SELL if plan.direction == Direction.LONG else OrderSide.BUY
        quantity = self._instrument.make_qty(qty)
        factory = self._strategy.order_factory
        stop = factory.stop_market(
            self._instrument.id,
            side,
            quantity,
            trigger_price=self._price(plan.stop_price),
            reduce_only=True,
            tags=[self._tag, "stop"],
        )
        target = factory.market_if_touched(
            self._instrument.id,
            side,
            quantity,
            trigger_price=self._price(plan.target_price),
            reduce_only=True,
            tags=[self._tag, "target"],
        )
        self._stop = stop.client_order_id
        self._target = target.client_order_id
        self._protected = set()
        self._strategy.submit_order(stop)
        self._strategy.submit_order(target)

    def _price(self, value: Decimal) -> Price:
        return Price(float(value), self._instrument.price_precision)

    def _on_protective_event(self, event: Any) -> None:
        if isinstance(event, OrderAccepted):
            self._protected.add(event.client_order_id)
            if self.phase == ExecutorPhase.PROTECTING and self._protected == {
                self._stop,
                self._target,
            }:
                self.phase = ExecutorPhase.PROTECTED
                self._report(IntentOutcome(_K.PROTECTED, "stop and target rest at the venue"))
        elif isinstance(event, OrderFilled):
            which = "stop" if event.client_order_id == self._stop else "target"
            self._check_flat(which)
        elif isinstance(event, (OrderRejected, OrderDenied)) and self.phase in (
            ExecutorPhase.PROTECTING,
            ExecutorPhase.PROTECTED,
        ):
            which = "stop" if event.client_order_id == self._stop else "target"
            self.emergency_exit(f"the {which} order was refused: {event.reason}")
        elif (
            isinstance(event, (OrderCanceled, OrderExpired))
            and self.phase in (ExecutorPhase.PROTECTING, ExecutorPhase.PROTECTED)
            and self.position_qty() != 0
        ):
            # A protective order cancelled outside our control (e.g. the venue) while the
            # position is open: the position must not stay unprotected.
            self.emergency_exit("a protective order was cancelled while positioned")

    def _next_exit_attempt(self) -> None:
        qty = self.position_qty()
        if qty == 0:
            self._check_flat(self._exit_reason or "exit")
            return
        if self._exit_attempt >= len(self._exit_steps):
            self.phase = ExecutorPhase.IDLE if qty == 0 else ExecutorPhase.EXITING
            reason = (
                f"emergency exit: still {qty} after {self._exit_attempt} attempts "
                f"(up to {self._exit_steps[-1]:g} bps): position NOT flat"
            )
            self._strategy.log.error(reason)
            self._report(IntentOutcome(_K.EXIT_FAILED, reason))
            return
        is_buy = qty < 0
        reference = self._reference(is_buy)
        if reference is None:
            reason = f"emergency exit: no price for {self._instrument.id} to close at"
            self._strategy.log.error(reason)
            self._report(IntentOutcome(_K.EXIT_FAILED, reason))
            return
        bps = Decimal(str(self._exit_steps[self._exit_attempt]))
        self._exit_attempt += 1
        px = slippage_price(
            reference,
            bps / Decimal(10_000),
            self._sz_decimals,
            is_spot=self._is_spot,
            is_buy=is_buy,
        )
        order = self._strategy.order_factory.limit(
            self._instrument.id,
            OrderSide.BUY if is_buy else OrderSide.SELL,
            self._instrument.make_qty(abs(qty)),
            self._price(px),
            time_in_force=TimeInForce.IOC,
            reduce_only=True,
            tags=[self._tag or f"{INTENT_TAG_PREFIX}{self._strategy.id}-exit", "exit"],
        )
        self._exit = order.client_order_id
        self._strategy.log.warning(
            f"Emergency exit attempt {self._exit_attempt}/{len(self._exit_steps)}: "
            f"{order.side_string()} {abs(qty)} IOC @ {px} ({bps} bps through {reference})"
        )
        self._strategy.submit_order(order)

    def _reference(self, is_buy: bool, quote_only: bool = False) -> Decimal | None:
        cache = self._strategy.cache
        quote = cache.quote_tick(self._instrument.id)
        if quote is not None:
            return (quote.ask_price if is_buy else quote.bid_price).as_decimal()
        if quote_only:
            return None
        book = cache.order_book(self._instrument.id)
        if book is not None:
            best = book.best_ask_price() if is_buy else book.best_bid_price()
            if best is not None:
                return best.as_decimal()
        if not math.isnan(self.reference_mid) and self.reference_mid > 0:
            return Decimal(str(self.reference_mid))
        return None

    def _on_exit_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            self._check_flat(self._exit_reason)
        order = self._strategy.cache.order(event.client_order_id)
        done = isinstance(event, _TERMINAL) or (order is not None and order.is_closed)
        if done and self.phase == ExecutorPhase.EXITING and self.position_qty() != 0:
            self._retry_exit_later(event.client_order_id)

    def _retry_exit_later(self, after: ClientOrderId) -> None:
        """The next attempt after ``exit_retry_delay_secs`` (see the class notes); by then the
        ended attempt's fills are in and the position is re-read."""
        if self._exit_retry_delay_ns <= 0:
            self._next_exit_attempt()
            return
        clock = self._strategy.clock
        clock.set_time_alert_ns(
            f"{self._strategy.id}-exit-retry-{after}",
            clock.timestamp_ns() + self._exit_retry_delay_ns,
            self._on_exit_retry,
        )

    def _on_exit_retry(self, event: Any) -> None:
        if self.phase == ExecutorPhase.EXITING:
            self._next_exit_attempt()

    def _check_flat(self, reason: str | None) -> None:
        if self.phase in (ExecutorPhase.IDLE, ExecutorPhase.ENTERING):
            return
        if self.position_qty() != 0:
            return
        for cid in (self._stop, self._target):
            order = self._strategy.cache.order(cid) if cid is not None else None
            if order is not None:
                self.late_cancels.cancel(order)  # open, or still on its way to the venue
        why = reason or "flat"
        self.phase = ExecutorPhase.IDLE
        self._stop = self._target = self._exit = self._entry = None
        self._report(IntentOutcome(_K.EXITED, why))
