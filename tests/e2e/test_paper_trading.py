"""End to end: paper trading from config/paper.toml on live (simulated) Hyperliquid market data.

The node is built from the shipped ``config/paper.toml``, only pointed at the local simulator
(``NodeOverrides(http_url=...)``, as a trader would point it at mainnet). A tiny strategy trades
through the paper execution client once data arrives:

1. a market BUY sized to walk two levels of the ask side,
2. a limit BUY resting below the bid (margin reserved for it),
3. the venue's price falls through the limit: it fills as a maker,
4. a reduce-only market SELL closes the position at a loss.

The market is paused before the first order, so the simulator's book is the truth every fill is
checked against; the only moves after that are the oracle jumps the harness makes. Expected
prices, fees, margins and balances are computed here from that truth and the venue's published
fee rates, never read back from the code under test. A spy on the simulator's transport counts
every request: market data comes over /info and the WebSocket, nothing reaches /exchange.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_DOWN
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.accounting.accounts.margin import MarginAccount
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import LiquiditySide
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.enums import TradingState
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Quantity
from nautilus_trader.model.orders import Order
from nautilus_trader.trading.strategy import Strategy

from jarvis.node import NodeOverrides
from jarvis.node import build_node
from jarvis.node import load_for_run
from jarvis.testkit import file_logging
from jarvis.testkit import new_event_loop
from jarvis.testkit import replace_node
from jarvis.testkit import run_node
from jarvis.testkit import sim_admin_async
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

REPO_ROOT = Path(__file__).resolve().parents[2]
PAPER_TOML = REPO_ROOT / "config" / "paper.toml"
COIN = "BTC"
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
VENUE = Venue("HYPERLIQUID")
USDC = Currency.from_str("USDC")
# What the venue publishes (PROTOCOL.md §8, base tier) and what paper.toml sets for BTC.
TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
BTC_LEVERAGE = Decimal(10)
STARTING_USDC = Decimal(10_000)
ONE_CENT_MICRO = Decimal("0.000001")  # tolerance: USDC amounts are rounded per fill
SZ = Decimal("0.00001")  # BTC lot on the simulator (szDecimals 5)


class PaperProbeConfig(StrategyConfig, frozen=True):
    """Nothing to configure: the probe trades BTC when the harness tells it to."""


class PaperProbe(Strategy):
    """Subscribes to BTC's book and quotes, submits the orders the harness asks for and keeps
    every fill."""

    def __init__(self) -> None:
        super().__init__(PaperProbeConfig())
        self.quotes = 0
        self.fills: list[OrderFilled] = []

    def on_start(self) -> None:
        """The L2 book the paper fills walk, and quotes to know that data arrives."""
        self.subscribe_order_book_deltas(INSTRUMENT_ID, managed=False)
        self.subscribe_quote_ticks(INSTRUMENT_ID)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.quotes += 1

    def on_order_filled(self, event: OrderFilled) -> None:
        self.fills.append(event)

    def market(self, side: OrderSide, qty: Decimal, reduce_only: bool = False) -> Order:
        """Submit a market order now."""
        order = self.order_factory.market(
            INSTRUMENT_ID, side, Quantity.from_str(str(qty)), reduce_only=reduce_only
        )
        self.submit_order(order)
        return order

    def limit(self, side: OrderSide, qty: Decimal, price: Decimal) -> Order:
        """Submit a GTC limit order now."""
        instrument = self.cache.instrument(INSTRUMENT_ID)
        order = self.order_factory.limit(
            INSTRUMENT_ID,
            side,
            Quantity.from_str(str(qty)),
            instrument.make_price(price),
            time_in_force=TimeInForce.GTC,
        )
        self.submit_order(order)
        return order

    def on_stop(self) -> None:
        """Nothing to undo: the harness closes the position itself."""


@dataclass
class AccountView:
    """The paper account at one moment (read on the node's loop)."""

    total: Decimal
    free: Decimal
    locked: Decimal
    margin_init: Decimal
    margin_maint: Decimal


@dataclass
class PaperRun:
    """What the scenario saw; truth from the simulator, observations from the node."""

    fills: dict[str, list[OrderFilled]] = field(default_factory=dict)
    statuses: dict[str, OrderStatus] = field(default_factory=dict)
    books: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, AccountView] = field(default_factory=dict)
    quantities: dict[str, Decimal] = field(default_factory=dict)
    limit_px: Decimal = Decimal(0)
    taker_fee: Decimal = Decimal(0)
    maker_fee: Decimal = Decimal(0)
    position_qty_after_entry: Decimal = Decimal(0)
    position_open_at_end: bool = True
    requests: dict[str, int] = field(default_factory=dict)
    accounts_before: frozenset[str] = frozenset()
    accounts_after: frozenset[str] = frozenset()
    venue_orders_of_new_accounts: int = 0
    account_id: str = ""


def _levels(side: list[dict[str, Any]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(level["px"]), Decimal(level["sz"])) for level in side]


def _spy_requests(sim: SimThread) -> dict[str, int]:
    """Count every HTTP request the simulator serves and every action it applies, by path."""
    server = sim.server
    assert server is not None
    venue = server.venue
    counts = {"info": 0, "exchange": 0, "exchange_actions": 0}
    take_http_error = venue.faults.take_http_error
    apply_exchange = venue.exchange

    def counting_take_http_error(path: str) -> Any:
        counts[path] = counts.get(path, 0) + 1
        return take_http_error(path)

    def counting_exchange(body: dict[str, Any]) -> dict[str, Any]:
        counts["exchange_actions"] += 1  # HTTP and WebSocket `post` actions both land here
        return apply_exchange(body)

    setattr(venue.faults, "take_http_error", counting_take_http_error)  # noqa: B010
    setattr(venue, "exchange", counting_exchange)  # noqa: B010
    return counts


def _account_view(account: MarginAccount) -> AccountView:
    balance = account.balance(USDC)
    assert balance is not None
    margin_init = account.margin_init(INSTRUMENT_ID)
    margin_maint = account.margin_maint(INSTRUMENT_ID)
    return AccountView(
        total=balance.total.as_decimal(),
        free=balance.free.as_decimal(),
        locked=balance.locked.as_decimal(),
        margin_init=Decimal(0) if margin_init is None else margin_init.as_decimal(),
        margin_maint=Decimal(0) if margin_maint is None else margin_maint.as_decimal(),
    )


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PaperRun]:
    """Run the whole scenario once (module notes) and hand the observations to the tests."""
    run = PaperRun()
    log_dir = tmp_path_factory.mktemp("paper_logs")
    with SimThread(SimConfig(coins=("BTC", "ETH", "SOL"), seed=23)) as sim:
        server = sim.server
        assert server is not None
        engine = server.venue.engine
        run.requests = _spy_requests(sim)
        run.accounts_before = frozenset(sim.call(lambda: list(engine.accounts)))
        # The shipped file, pointed at the simulator (as `jarvis node` would be); only the log
        # goes to a file instead of the terminal.
        loaded = load_for_run(PAPER_TOML, NodeOverrides(http_url=sim.base_url), environ={})
        logging = file_logging(log_dir, "paper", level_file="INFO")
        node = build_node(replace_node(loaded, logging=logging), new_event_loop())
        probe = PaperProbe()
        node.trader.add_strategy(probe)
        cache = node.kernel.cache

        def account() -> MarginAccount:
            found = cache.account_for_venue(VENUE)
            assert isinstance(found, MarginAccount)
            return found

        def book() -> dict[str, Any]:
            return sim.call(lambda: engine.l2_book(COIN, None, None, 20))

        def node_book_equals(truth: dict[str, Any]) -> bool:
            node_book = cache.order_book(INSTRUMENT_ID)
            if node_book is None:
                return False
            bids = [(p.price.as_decimal(), Decimal(f"{p.size():.5f}")) for p in node_book.bids()]
            asks = [(p.price.as_decimal(), Decimal(f"{p.size():.5f}")) for p in node_book.asks()]
            levels = truth["levels"]
            return bids == _levels(levels[0]) and asks == _levels(levels[1])

        def fills_of(order: Order) -> list[OrderFilled]:
            return [f for f in probe.fills if f.client_order_id == order.client_order_id]

        async def move_oracle_and_settle(px: float) -> dict[str, Any]:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, sim.set_oracle, COIN, px)
            truth = await loop.run_in_executor(None, book)
            await wait_for(lambda: node_book_equals(truth), 10, "the node's book to catch up")
            return truth

        async def scenario() -> None:
            loop = asyncio.get_running_loop()
            await wait_for(lambda: probe.quotes >= 3, 10, "quotes for the strategy")
            # The feed-health gate holds new risk until every needed stream has been healthy
            # for a while; paper orders go through the same RiskEngine as real ones.
            risk_engine = node.kernel.risk_engine
            await wait_for(
                lambda: risk_engine.trading_state == TradingState.ACTIVE, 15, "trading ACTIVE"
            )
            instrument = cache.instrument(INSTRUMENT_ID)
            run.taker_fee = instrument.taker_fee
            run.maker_fee = instrument.maker_fee
            run.accounts["start"] = _account_view(account())
            run.account_id = account().id.value
            # Freeze the market: from here the simulator's book is the truth.
            await sim_admin_async(sim.base_url, "fault/pause-market")  # frozen once answered
            truth = await loop.run_in_executor(None, book)
            await wait_for(lambda: node_book_equals(truth), 10, "the node's book = venue")
            run.books["entry"] = truth

            # 1) Market BUY through the best ask into the second level.
            asks = _levels(truth["levels"][1])
            entry_qty = asks[0][1] + (asks[1][1] / 2).quantize(SZ, rounding=ROUND_DOWN)
            run.quantities["entry"] = entry_qty
            events = account().event_count
            entry = probe.market(OrderSide.BUY, entry_qty)
            await wait_for(lambda: entry.status == OrderStatus.FILLED, 5, "the market fill")
            await wait_for(  # account state follows the fill event
                lambda: account().event_count > events, 5, "the account after the entry"
            )
            position = cache.positions_open(instrument_id=INSTRUMENT_ID)
            run.position_qty_after_entry = (
                position[0].quantity.as_decimal() if position else Decimal(0)
            )
            run.accounts["after_entry"] = _account_view(account())

            # 2) Limit BUY resting two levels under the best bid.
            bids = _levels(truth["levels"][0])
            run.limit_px = bids[2][0]
            limit_qty = (asks[0][1] / 2).quantize(SZ, rounding=ROUND_DOWN)
            run.quantities["limit"] = limit_qty
            events = account().event_count
            limit = probe.limit(OrderSide.BUY, limit_qty, run.limit_px)
            await wait_for(lambda: limit.status == OrderStatus.ACCEPTED, 5, "the limit order")
            await wait_for(
                lambda: account().event_count > events, 5, "the account with the limit resting"
            )
            run.accounts["limit_resting"] = _account_view(account())

            # 3) The venue's price falls through the limit: the resting order fills (maker).
            oracle = float(Decimal(truth["levels"][0][0]["px"])) * 0.998
            events = account().event_count
            run.books["after_drop"] = await move_oracle_and_settle(oracle)
            await wait_for(lambda: limit.status == OrderStatus.FILLED, 5, "the maker fill")
            await wait_for(
                lambda: account().event_count > events, 5, "the account after the maker fill"
            )
            run.accounts["after_maker"] = _account_view(account())

            # 4) Close at market, reduce-only, into the lower bids.
            close_qty = entry_qty + limit_qty
            run.quantities["close"] = close_qty
            events = account().event_count
            close = probe.market(OrderSide.SELL, close_qty, reduce_only=True)
            await wait_for(lambda: close.status == OrderStatus.FILLED, 5, "the closing fill")
            await wait_for(lambda: account().event_count > events, 5, "the account at the end")
            run.accounts["end"] = _account_view(account())
            run.position_open_at_end = bool(cache.positions_open(instrument_id=INSTRUMENT_ID))
            for name, order in (("entry", entry), ("limit", limit), ("close", close)):
                run.fills[name] = fills_of(order)
                run.statuses[name] = order.status

            def venue_accounts() -> tuple[frozenset[str], int]:
                users = frozenset(engine.accounts)
                new = users - run.accounts_before
                return users, sum(len(engine.open_orders_of(user)) for user in new)

            users, new_orders = await loop.run_in_executor(None, sim.call, venue_accounts)
            run.accounts_after = users
            run.venue_orders_of_new_accounts = new_orders

        run_node(node, scenario, timeout_secs=45)
    yield run


def _fill_view(fills: list[OrderFilled]) -> list[tuple[Decimal, Decimal]]:
    return [(f.last_px.as_decimal(), f.last_qty.as_decimal()) for f in fills]


def _walk(levels: list[tuple[Decimal, Decimal]], qty: Decimal) -> list[tuple[Decimal, Decimal]]:
    """The (price, size) slices a market order of ``qty`` takes from book levels, best first."""
    taken: list[tuple[Decimal, Decimal]] = []
    left = qty
    for px, sz in levels:
        if left <= 0:
            break
        take = min(sz, left)
        taken.append((px, take))
        left -= take
    assert left == 0, "the book is too thin for the test's order"
    return taken


def _fee(px: Decimal, qty: Decimal, rate: Decimal) -> Decimal:
    return px * qty * rate


def _close(a: Decimal, b: Decimal, tolerance: Decimal = ONE_CENT_MICRO) -> bool:
    return abs(a - b) <= tolerance


def test_instruments_carry_the_venues_fees(paper_run: PaperRun) -> None:
    assert paper_run.taker_fee == TAKER_FEE
    assert paper_run.maker_fee == MAKER_FEE


def test_market_order_walks_the_venues_live_ask_side_as_taker(paper_run: PaperRun) -> None:
    asks = _levels(paper_run.books["entry"]["levels"][1])
    fills = paper_run.fills["entry"]

    assert _fill_view(fills) == _walk(asks, paper_run.quantities["entry"])
    assert len(fills) == 2  # sized to take the whole best level and part of the next
    assert all(f.liquidity_side == LiquiditySide.TAKER for f in fills)
    assert paper_run.position_qty_after_entry == paper_run.quantities["entry"]


def test_commissions_are_the_taker_and_maker_fee_times_notional(paper_run: PaperRun) -> None:
    for name, rate in (("entry", TAKER_FEE), ("limit", MAKER_FEE), ("close", TAKER_FEE)):
        for fill in paper_run.fills[name]:
            expected = _fee(fill.last_px.as_decimal(), fill.last_qty.as_decimal(), rate)
            assert fill.commission.currency == USDC
            assert fill.commission.as_decimal() > 0
            assert _close(fill.commission.as_decimal(), expected), (name, fill)


def test_resting_limit_reserves_margin_and_fills_at_its_price_as_maker(
    paper_run: PaperRun,
) -> None:
    resting = paper_run.accounts["limit_resting"]
    fills = paper_run.fills["limit"]
    after = paper_run.accounts["after_maker"]

    notional = paper_run.limit_px * paper_run.quantities["limit"]
    assert _close(resting.margin_init, notional / BTC_LEVERAGE)
    assert _fill_view(fills) == [(paper_run.limit_px, paper_run.quantities["limit"])]
    assert fills[0].liquidity_side == LiquiditySide.MAKER
    assert after.margin_init == 0  # nothing resting any more


def test_position_reserves_notional_over_leverage_out_of_the_free_balance(
    paper_run: PaperRun,
) -> None:
    entry = paper_run.accounts["after_entry"]
    taken = _fill_view(paper_run.fills["entry"])
    qty = sum((q for _, q in taken), Decimal(0))
    avg_px = sum((p * q for p, q in taken), Decimal(0)) / qty

    # NautilusTrader values the position at its average price rounded to the price tick (0.1).
    expected_margin = qty * avg_px.quantize(Decimal("0.1")) / BTC_LEVERAGE
    assert entry.margin_maint > 0
    assert _close(entry.margin_maint, expected_margin, Decimal("0.01"))
    assert _close(entry.locked, entry.margin_maint)
    assert _close(entry.free, entry.total - entry.locked)


def test_balance_changes_by_fees_and_realized_pnl_only(paper_run: PaperRun) -> None:
    accounts = paper_run.accounts
    entry_fills = _fill_view(paper_run.fills["entry"]) + _fill_view(paper_run.fills["limit"])
    close_fills = _fill_view(paper_run.fills["close"])
    bids_after_drop = _levels(paper_run.books["after_drop"]["levels"][0])
    entry_fees = sum(
        (_fee(p, q, TAKER_FEE) for p, q in _fill_view(paper_run.fills["entry"])), Decimal(0)
    )

    assert accounts["start"].total == STARTING_USDC
    assert accounts["start"].locked == 0
    # Opening pays fees only.
    assert _close(accounts["after_entry"].total, STARTING_USDC - entry_fees)
    # The close walks the bids the venue showed after the drop.
    assert close_fills == _walk(bids_after_drop, paper_run.quantities["close"])
    open_qty = sum((q for _, q in entry_fills), Decimal(0))
    avg_open = sum((p * q for p, q in entry_fills), Decimal(0)) / open_qty
    gross_pnl = sum(((p - avg_open) * q for p, q in close_fills), Decimal(0))
    maker_fills = _fill_view(paper_run.fills["limit"])
    fees = (
        entry_fees
        + sum((_fee(p, q, MAKER_FEE) for p, q in maker_fills), Decimal(0))
        + sum((_fee(p, q, TAKER_FEE) for p, q in close_fills), Decimal(0))
    )
    end = accounts["end"]
    assert gross_pnl < 0  # bought, the price fell, sold: a loss, and it shows
    assert _close(end.total, STARTING_USDC + gross_pnl - fees, Decimal("0.0001"))
    # Flat again: nothing reserved, everything free.
    assert not paper_run.position_open_at_end
    assert end.locked == 0
    assert end.free == end.total


def test_no_order_reaches_the_venue(paper_run: PaperRun) -> None:
    assert paper_run.requests["info"] > 0  # the spy sees the node's metadata requests
    assert paper_run.requests.get("exchange", 0) == 0
    assert paper_run.requests["exchange_actions"] == 0
    assert paper_run.accounts_after == paper_run.accounts_before  # nobody new signed anything
    assert paper_run.venue_orders_of_new_accounts == 0
    assert all(status == OrderStatus.FILLED for status in paper_run.statuses.values())


def test_fills_book_to_the_paper_account_not_a_venue_account(paper_run: PaperRun) -> None:
    fills = [f for name in ("entry", "limit", "close") for f in paper_run.fills[name]]

    assert paper_run.account_id == "HYPERLIQUID-PAPER"
    assert fills
    assert {f.account_id.value for f in fills} == {"HYPERLIQUID-PAPER"}
