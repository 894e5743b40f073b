"""Paper trading on live Hyperliquid market data: NautilusTrader's sandbox, with the venue's rules.

Why not ``SandboxExecutionClient`` as shipped: it is venue-neutral, so on its own it would paper
trade Hyperliquid with the wrong economics. This module keeps its machinery (a
``SimulatedExchange`` inside the live node, fed from the message bus) and fixes what a trader
would otherwise get wrong:

* **Fees** come from the Hyperliquid instruments (``MakerTakerFeeModel`` on the instruments'
  ``maker_fee`` / ``taker_fee``: the base tier, or the account's own tier when the data client
  has ``fee_user``), so every fill pays what it would on the venue — never zero.
* **Margin** follows the venue (``HyperliquidMarginModel``): orders and positions reserve
  notional / leverage, leverage per coin from config (20x by default, the venue's default),
  capped at each instrument's ``maxLeverage``. NautilusTrader's default model would divide the
  instrument's margin rate by the leverage a second time.
* **The account** is what Hyperliquid has: one USDC margin account, one-way (netting) positions.
* **Fills walk the real book**: the simulated exchange runs on the venue's L2 book (whoever in
  the node subscribed to its deltas), and ``liquidity_consumption`` stops two orders from taking
  the same displayed size. An order for an instrument whose book has not arrived is rejected
  with a reason saying so, instead of filling against nothing. GTD orders are rejected (the
  venue has no GTD).

  Why the client does not subscribe the books itself: NautilusTrader 1.231 replaces the cached
  book with an empty one on every *managed* book subscription, and the data client sends no
  new snapshot for a stream already running, so a book stream started early by this client
  would leave every strategy's managed book without the levels that never changed.
* The shipped sandbox passes its ``leverages`` (strings and floats) straight to the account,
  which expects instrument ids and decimals; here leverages are typed before they are used.
* **Per-order leverage** (``params={"leverage": 5}``, what DirectBuy sends) is set on the
  account for that coin before the order, and stays (the venue's ``updateLeverage`` is sticky
  too); one above the coin's ``maxLeverage``, or not a whole number, rejects the order as the
  venue refuses it. Paper margin is cross only: an isolated ``margin_mode`` is said, not
  simulated.

Nothing here signs or sends anything: no key is read, no order reaches the venue.
Not simulated (yet): funding payments, liquidation, the venue's order-margin check at placement.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any
from typing import Final

from nautilus_trader.accounting.margin_models import MarginModel
from nautilus_trader.adapters.sandbox.execution import SandboxExecutionClient
from nautilus_trader.backtest.engine import SimulatedExchange
from nautilus_trader.backtest.execution_client import BacktestExecClient
from nautilus_trader.backtest.models import FillModel
from nautilus_trader.backtest.models import LatencyModel
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.core.data import Data
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.live.factories import LiveExecClientFactory
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import PositionSide
from nautilus_trader.model.identifiers import AccountId
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order
from nautilus_trader.portfolio.base import PortfolioFacade

__all__ = [
    "DEFAULT_LEVERAGE",
    "PAPER_ACCOUNT_ID",
    "HyperliquidMarginModel",
    "HyperliquidPaperExecClientConfig",
    "HyperliquidPaperExecClientFactory",
    "HyperliquidPaperExecutionClient",
    "effective_leverage",
    "max_leverage",
]

HYPERLIQUID: Final[str] = "HYPERLIQUID"
SETTLEMENT_CURRENCY: Final[str] = "USDC"
DEFAULT_LEVERAGE: Final[int] = 20
"""The venue's default cross leverage for an asset nobody set a leverage for."""
PAPER_ACCOUNT_ID: Final[str] = f"{HYPERLIQUID}-PAPER"
"""The simulated account's id: visibly not a venue account in every log line and report."""


class HyperliquidPaperExecClientConfig(LiveExecClientConfig, frozen=True):
    """
    Paper trading on Hyperliquid market data (the venue, account type and currency are fixed).

    Parameters
    ----------
    starting_balance_usdc : Decimal
        USDC the paper account starts with.
    default_leverage : int
        Leverage of every coin not in ``leverages`` (capped at the coin's ``maxLeverage``).
    leverages : dict[str, int]
        Venue coin name (``"BTC"``) -> leverage, as ``updateLeverage`` would set it.
    trade_execution : bool
        Let venue trades fill resting paper orders they trade through.
    liquidity_consumption : bool
        Displayed size taken by one paper fill is not available to the next until the book
        level changes.
    reject_stop_orders : bool
        Reject stop orders whose trigger is already in the market (as the sandbox does).
    use_reduce_only : bool
        Honour reduce-only on paper orders, as the venue does.
    """

    starting_balance_usdc: Decimal = Decimal(10_000)
    default_leverage: int = DEFAULT_LEVERAGE
    leverages: dict[str, int] = {}
    trade_execution: bool = True
    liquidity_consumption: bool = True
    reject_stop_orders: bool = True
    use_reduce_only: bool = True

    def __post_init__(self) -> None:
        if self.starting_balance_usdc <= 0:
            raise ValueError(
                f"starting_balance_usdc: must be positive, was {self.starting_balance_usdc}"
            )
        for coin, leverage in {"default_leverage": self.default_leverage, **self.leverages}.items():
            if isinstance(leverage, bool) or not isinstance(leverage, int) or leverage < 1:
                raise ValueError(
                    f"leverage of {coin}: must be a whole number >= 1 (as the venue's "
                    f"updateLeverage takes it), was {leverage!r}"
                )

    def leverage_by_instrument(self) -> dict[InstrumentId, Decimal]:
        """``leverages`` keyed by the perp instrument ids the data client publishes."""
        return {
            InstrumentId(Symbol(f"{coin}-USD-PERP"), Venue(HYPERLIQUID)): Decimal(leverage)
            for coin, leverage in self.leverages.items()
        }


def max_leverage(instrument: Instrument) -> Decimal:
    """The venue's maximum leverage of ``instrument``: ``margin_init`` of a Hyperliquid perp is
    ``1 / maxLeverage``; an instrument without one (spot) is not leveraged (1)."""
    margin_init = Decimal(instrument.margin_init)
    return Decimal(1) if margin_init <= 0 else 1 / margin_init


def effective_leverage(instrument: Instrument, leverage: Decimal) -> Decimal:
    """The leverage the venue would apply: the configured one, capped at ``maxLeverage``
    (``max_leverage``); a spot instrument is not leveraged."""
    if Decimal(instrument.margin_init) <= 0:
        return Decimal(1)
    return min(Decimal(leverage), max_leverage(instrument))


class HyperliquidMarginModel(MarginModel):
    """Hyperliquid's margin: notional / leverage, for resting orders and for positions alike.

    Why positions too: NautilusTrader locks a position's "maintenance" margin out of the free
    balance, while the venue keeps the position's initial margin (``marginUsed``) out of what
    can still be traded; using notional / leverage for both keeps the paper account's free
    balance equal to the venue's available-to-trade. The liquidation threshold (half the initial
    margin at max leverage, the instrument's ``margin_maint``) is not simulated.
    """

    def calculate_margin_init(
        self,
        instrument: Instrument,
        quantity: Quantity,
        price: Price,
        leverage: Decimal,
        use_quote_for_inverse: bool = False,
    ) -> Money:
        """Margin an open order reserves: its notional at the order price / leverage."""
        return self._margin(instrument, quantity, price, leverage, use_quote_for_inverse)

    def calculate_margin_maint(
        self,
        instrument: Instrument,
        side: PositionSide,
        quantity: Quantity,
        price: Price,
        leverage: Decimal,
        use_quote_for_inverse: bool = False,
    ) -> Money:
        """Margin a position uses: its notional at the entry price / leverage."""
        return self._margin(instrument, quantity, price, leverage, use_quote_for_inverse)

    @staticmethod
    def _margin(
        instrument: Instrument,
        quantity: Quantity,
        price: Price,
        leverage: Decimal,
        use_quote_for_inverse: bool,
    ) -> Money:
        notional = instrument.notional_value(quantity, price, use_quote_for_inverse).as_decimal()
        margin = notional / effective_leverage(instrument, leverage)
        if instrument.is_inverse and not use_quote_for_inverse:
            return Money(margin, instrument.get_base_currency())
        return Money(margin, instrument.quote_currency)


class HyperliquidPaperExecutionClient(SandboxExecutionClient):
    """NautilusTrader's sandbox client set up as a Hyperliquid account (see module notes).

    Order handling, market-data intake and reports are the sandbox's own; the simulated exchange
    it runs differs, and orders for an instrument without book data are rejected at once.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        portfolio: PortfolioFacade,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        config: HyperliquidPaperExecClientConfig,
        name: str | None = None,
    ) -> None:
        venue = Venue(HYPERLIQUID)
        usdc = Currency.from_str(SETTLEMENT_CURRENCY)
        self.test_clock = TestClock()
        # The sandbox's own __init__ is skipped on purpose: it builds the exchange with a
        # venue-neutral margin model and untyped leverages (module notes).
        LiveExecutionClient.__init__(
            self,
            loop=loop,
            client_id=ClientId(name or HYPERLIQUID),
            venue=venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            base_currency=usdc,
            instrument_provider=InstrumentProvider(),
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        self._set_account_id(AccountId(PAPER_ACCOUNT_ID))
        self._paper_config = config
        self._instruments_seen: set[InstrumentId] = set()
        self._books_seen: set[InstrumentId] = set()
        self.exchange = SimulatedExchange(
            venue=venue,
            oms_type=OmsType.NETTING,
            account_type=AccountType.MARGIN,
            starting_balances=[Money(config.starting_balance_usdc, usdc)],
            base_currency=usdc,
            default_leverage=Decimal(config.default_leverage),
            leverages=config.leverage_by_instrument(),
            modules=[],
            portfolio=portfolio,
            msgbus=msgbus,
            cache=cache,
            clock=self.test_clock,
            fill_model=FillModel(),
            fee_model=MakerTakerFeeModel(),
            latency_model=LatencyModel(0),
            margin_model=HyperliquidMarginModel(),
            book_type=BookType.L2_MBP,
            frozen_account=False,
            reject_stop_orders=config.reject_stop_orders,
            support_gtd_orders=False,
            support_contingent_orders=True,
            use_position_ids=True,
            use_random_ids=False,
            use_reduce_only=config.use_reduce_only,
            use_message_queue=False,  # real time: act on each command as it comes
            bar_execution=False,  # bars are venue candles: the book and trades already moved
            trade_execution=config.trade_execution,
            liquidity_consumption=config.liquidity_consumption,
        )
        self._client = BacktestExecClient(
            exchange=self.exchange,
            msgbus=msgbus,
            cache=cache,
            clock=self.test_clock,
        )
        # Every event the simulated exchange emits carries the backtest client's account id.
        self._client._set_account_id(AccountId(PAPER_ACCOUNT_ID))
        self.exchange.register_client(self._client)
        self.exchange.initialize_account()

    def connect(self) -> None:
        """Start taking market data from the bus (the sandbox's job) and say what this is."""
        super().connect()
        for instrument in self._cache.instruments(venue=self.venue):
            self._on_instrument(instrument)
        self._log.info(
            f"Paper trading: account {PAPER_ACCOUNT_ID}, "
            f"{self._paper_config.starting_balance_usdc} {SETTLEMENT_CURRENCY}, "
            f"default leverage {self._paper_config.default_leverage}x; no order reaches the venue"
        )

    def on_data(self, data: Data) -> None:
        """Feed the simulated exchange (the sandbox's job), noting instruments and books seen."""
        if isinstance(data, OrderBookDeltas):
            self._books_seen.add(data.instrument_id)
        elif isinstance(data, Instrument):
            self._on_instrument(data)
        super().on_data(data)

    def submit_order(self, command: SubmitOrder) -> None:
        """Fill against the book, or reject at once when the book has not arrived; set the
        leverage the order asks for first (rejecting it when the venue would)."""
        if self._reject_without_book([command.order]):
            return
        params = command.params or {}
        if params.get("leverage") is not None:
            refused = self._set_order_leverage(command.order, params)
            if refused is not None:
                self._reject([command.order], refused)
                return
        super().submit_order(command)

    def _set_order_leverage(self, order: Order, params: dict[str, Any]) -> str | None:
        """The order's leverage on the paper account; why the venue would refuse it, or None."""
        leverage = params["leverage"]
        instrument = self._cache.instrument(order.instrument_id)
        if instrument is None or isinstance(leverage, bool) or not isinstance(leverage, int):
            return f"cannot set leverage {leverage!r} for {order.instrument_id}"
        maximum = max_leverage(instrument)
        if leverage < 1 or leverage > maximum:
            return (
                f"leverage {leverage}x refused: {order.instrument_id} takes 1x to {maximum:f}x "
                "on the venue"
            )
        if params.get("margin_mode") == "isolated":
            self._log.warning(
                f"paper margin is cross only: {order.instrument_id} isolated margin is not "
                "simulated"
            )
        account = self.exchange.get_account()
        if account is not None:
            account.set_leverage(order.instrument_id, Decimal(leverage))
        self.exchange.leverages[order.instrument_id] = Decimal(leverage)
        self._log.info(f"{order.instrument_id} paper leverage set to {leverage}x for an order")
        return None

    def submit_order_list(self, command: SubmitOrderList) -> None:
        """As ``submit_order``, for every order of the list (all or none)."""
        if self._reject_without_book(command.order_list.orders):
            return
        super().submit_order_list(command)

    def _reject_without_book(self, orders: list[Order]) -> bool:
        missing = sorted(str(i) for i in {o.instrument_id for o in orders} - self._books_seen)
        if not missing:
            return False
        reason = (
            f"paper fills walk the venue's L2 book and none has arrived for {', '.join(missing)}: "
            "subscribe to its order book deltas (e.g. subscribe_order_book_deltas in on_start)"
        )
        self._reject(orders, reason)
        return True

    def _reject(self, orders: list[Order], reason: str) -> None:
        self._log.error(reason)
        ts_event = self._clock.timestamp_ns()
        for order in orders:
            self._client.generate_order_submitted(
                order.strategy_id, order.instrument_id, order.client_order_id, ts_event
            )
            self._client.generate_order_rejected(
                order.strategy_id, order.instrument_id, order.client_order_id, reason, ts_event
            )

    def _on_instrument(self, instrument: Instrument) -> None:
        instrument_id = instrument.id
        if instrument_id in self._instruments_seen:
            return
        self._instruments_seen.add(instrument_id)
        configured = self.exchange.leverages.get(instrument_id, self.exchange.default_leverage)
        applied = effective_leverage(instrument, configured)
        if applied != configured:
            self._log.warning(
                f"{instrument_id}: leverage {configured}x is above the venue's maximum; "
                f"paper margin uses {applied}x"
            )


class HyperliquidPaperExecClientFactory(LiveExecClientFactory):
    """Builds a ``HyperliquidPaperExecutionClient`` from its config (what ``TradingNode.build``
    calls).

    NautilusTrader's node builder (1.231) reads ``factory.__name__`` off the factory *instance*
    a config file's ``factory.path`` creates, and hands the portfolio (which the simulated
    exchange gives its simulation modules) only when that name is its sandbox factory's. The
    class attribute below answers that check; ``TradingNode.add_exec_client_factory`` with the
    class works too (then no portfolio is passed and an inert one stands in: no modules run).
    """

    __name__ = "SandboxLiveExecClientFactory"

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: HyperliquidPaperExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        portfolio: PortfolioFacade | None = None,
        **_: Any,
    ) -> HyperliquidPaperExecutionClient:
        """A paper execution client named ``name`` (its client id)."""
        if not isinstance(config, HyperliquidPaperExecClientConfig):
            raise TypeError(
                f"expected HyperliquidPaperExecClientConfig, was {type(config).__name__}"
            )
        return HyperliquidPaperExecutionClient(
            loop,
            portfolio if portfolio is not None else PortfolioFacade(),
            msgbus,
            cache,
            clock,
            config,
            name=name,
        )
