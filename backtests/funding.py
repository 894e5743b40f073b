"""Hourly perpetual funding, booked in a backtest (NautilusTrader's backtest books none).

Why a ``SimulationModule`` and not an actor: funding is the venue's doing, not a strategy's. A
simulation module is NautilusTrader's own hook for exactly this (its FX rollover-interest module
is one): it lives in the simulated exchange, is called once per time step after the step's
orders are settled (``process(ts_now)``), sees the exchange's cache and may move the account
balance (``SimulatedExchange.adjust_account``). An actor could do neither without reaching into
the engine.

The venue's rule (Hyperliquid docs, "Funding"): at the top of every hour each open perpetual
position pays ``size * oracle_price * rate``, longs paying shorts when the rate is positive.
Here ``rate`` is the last recorded ``FundingRateUpdate`` stamped *before* the hour boundary (the
rate of the hour that just ended), and the price is the last oracle (index) price before it, else
the mark, else the quote mid; both are read from the cache's history when the first step at or
after the boundary is processed. The size is the position's size after that step (a fill in the
very step that crosses the boundary counts as before it); positions opened at or after the
boundary pay nothing. Each payment is booked twice, consistently:

* on the account (``adjust_account``), so balances, returns and the tearsheet include it;
* on the position (``Position.apply_adjustment`` with a ``FUNDING`` ``PositionAdjusted``), so the
  position's realized PnL -- and so per-strategy and per-regime PnL -- include it too.

Every payment is also published as a ``FundingPayment`` on ``FUNDING_TOPIC`` so a run journal
can report how much PnL came from funding.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.backtest.config import SimulationModuleConfig
from nautilus_trader.backtest.modules import SimulationModule
from nautilus_trader.common.component import Logger
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.enums import PositionAdjustmentType
from nautilus_trader.model.events import PositionAdjusted
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Money

__all__ = [
    "FUNDING_TOPIC",
    "NANOS_PER_HOUR",
    "FundingModule",
    "FundingModuleConfig",
    "FundingPayment",
    "funding_payment",
]

NANOS_PER_HOUR: Final[int] = 3_600_000_000_000
FUNDING_TOPIC: Final[str] = "jarvis.backtest.funding"
"""Message-bus topic of every ``FundingPayment`` booked (one message per position and hour)."""


def funding_payment(signed_qty: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """
    The PnL a position receives at one funding time (negative: it pays).

    ``signed_qty`` is positive for a long, negative for a short. A long pays ``qty * price *
    rate`` when the rate is positive and receives it when negative; a short the opposite.
    """
    return -(signed_qty * price * rate)


@dataclass(frozen=True)
class FundingPayment:
    """One position's funding at one funding time (``amount`` > 0: received)."""

    ts_ns: int
    instrument_id: str
    strategy_id: str
    position_id: str
    signed_qty: Decimal
    price: Decimal
    rate: Decimal
    amount: Decimal
    currency: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (decimals as strings, exactly)."""
        return {
            "ts_ns": self.ts_ns,
            "instrument_id": self.instrument_id,
            "strategy_id": self.strategy_id,
            "position_id": self.position_id,
            "signed_qty": str(self.signed_qty),
            "price": str(self.price),
            "rate": str(self.rate),
            "amount": str(self.amount),
            "currency": self.currency,
        }


class FundingModuleConfig(SimulationModuleConfig, frozen=True):
    """
    Configuration of ``FundingModule``.

    Parameters
    ----------
    interval_secs : int
        Time between funding payments (Hyperliquid: every hour, on the hour).
    """

    interval_secs: int = 3_600

    def __post_init__(self) -> None:
        if self.interval_secs <= 0:
            raise ValueError(f"interval_secs: must be > 0, was {self.interval_secs}")


class FundingModule(SimulationModule):  # type: ignore[misc]
    """Books hourly funding on open perpetual positions (see module notes)."""

    def __init__(self, config: FundingModuleConfig | None = None) -> None:
        config = config or FundingModuleConfig()
        super().__init__(config)
        self._interval_ns = config.interval_secs * 1_000_000_000
        self._next_ns: int | None = None
        self.payments: list[FundingPayment] = []

    def process(self, ts_now: int) -> None:
        """At each step: book funding for every boundary passed (nothing else: this runs once
        per time step of the whole backtest, so it must cost next to nothing between hours)."""
        if self._next_ns is None:
            self._next_ns = (ts_now // self._interval_ns + 1) * self._interval_ns
            return
        while ts_now >= self._next_ns:
            self._book(self._next_ns)
            self._next_ns += self._interval_ns

    def _book(self, ts_ns: int) -> None:
        cache = self.exchange.cache
        for position in cache.positions_open():
            instrument_id = position.instrument_id
            if instrument_id.venue != self.exchange.id or position.ts_opened >= ts_ns:
                continue
            instrument = self.exchange.instruments.get(instrument_id)
            if not isinstance(instrument, CryptoPerpetual):
                continue
            rate = _rate_before(cache, instrument_id, ts_ns)
            price = _price_before(cache, instrument_id, ts_ns)
            if rate is None or price is None:
                continue
            signed_qty = Decimal(str(position.signed_qty)) * instrument.multiplier.as_decimal()
            amount = funding_payment(signed_qty, price, rate)
            currency = instrument.settlement_currency
            money = Money(amount, currency)
            self.exchange.adjust_account(money)
            position.apply_adjustment(
                PositionAdjusted(
                    trader_id=position.trader_id,
                    strategy_id=position.strategy_id,
                    instrument_id=instrument_id,
                    position_id=position.id,
                    account_id=position.account_id,
                    adjustment_type=PositionAdjustmentType.FUNDING,
                    quantity_change=None,
                    pnl_change=money,
                    reason=f"funding rate={rate} price={price}",
                    event_id=UUID4(),
                    ts_event=ts_ns,
                    ts_init=ts_ns,
                ),
            )
            payment = FundingPayment(
                ts_ns=ts_ns,
                instrument_id=str(instrument_id),
                strategy_id=str(position.strategy_id),
                position_id=str(position.id),
                signed_qty=signed_qty,
                price=price,
                rate=rate,
                amount=amount,
                currency=currency.code,
            )
            self.payments.append(payment)
            self.msgbus.publish(FUNDING_TOPIC, payment)

    def log_diagnostics(self, logger: Logger) -> None:
        """Total funding booked per currency (called by the engine at the end of a run)."""
        totals: dict[str, Decimal] = {}
        for payment in self.payments:
            totals[payment.currency] = totals.get(payment.currency, Decimal(0)) + payment.amount
        text = ", ".join(f"{v} {k}" for k, v in sorted(totals.items())) or "none"
        logger.info(f"Funding booked (totals): {text}")

    def reset(self) -> None:
        """Forget the schedule and the ledger (a new run)."""
        self._next_ns = None
        self.payments.clear()


def _before(updates: list[Any], ts_ns: int) -> Any | None:
    """The newest update stamped before ``ts_ns`` (the cache lists newest first)."""
    for update in updates:
        if update.ts_init < ts_ns:
            return update
    return None


def _rate_before(cache: Any, instrument_id: InstrumentId, ts_ns: int) -> Decimal | None:
    funding = _before(cache.funding_rates(instrument_id), ts_ns)
    return None if funding is None else Decimal(str(funding.rate))


def _price_before(cache: Any, instrument_id: InstrumentId, ts_ns: int) -> Decimal | None:
    """Oracle (index) price before ``ts_ns``, else the mark, else the current quote's mid."""
    for updates in (cache.index_prices(instrument_id), cache.mark_prices(instrument_id)):
        update = _before(updates, ts_ns)
        if update is not None:
            return Decimal(str(update.value))
    quote = cache.quote_tick(instrument_id)
    if quote is not None:
        return (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2
    return None
