"""The simulated venue's state: markets, accounts, agents, nonces and the pending event list.

Why a separate object: every venue responsibility (actions, matching, triggers, liquidation,
funding, /info) reads or changes this one state, so each lives in its own module as functions
of a `VenueState` instead of as methods of one 2,000-line engine; /info and the read models
only need this object, never the engine, which keeps the modules free of import circles.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import deque
from collections.abc import Sequence
from typing import Any

from adapters.hyperliquid.constants import CALENDAR_MONTH_INTERVAL
from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from simulator.accounts import SimAccount
from simulator.accounts import SimPosition
from simulator.accounts import cross_account_value
from simulator.accounts import cross_margin_used
from simulator.accounts import open_order_margin
from simulator.events import BookChanged
from simulator.events import SimEvent
from simulator.matching import OrderBook
from simulator.orders import SimOrder
from simulator.orders import float_to_units
from simulator.orders import fmt_units
from simulator.orders import fmt_usd
from simulator.orders import px_decimals_of
from simulator.orders import round_px_sig
from simulator.specs import DEFAULT_SPOT_PAIRS
from simulator.specs import DEFAULT_SPOT_TOKENS
from simulator.specs import MAX_DECIMALS_SPOT
from simulator.specs import SPOT_ASSET_OFFSET
from simulator.specs import CoinSpec
from simulator.specs import SpotPairSpec
from simulator.specs import SpotTokenSpec

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
TAKER_FEE = 0.00045
MAKER_FEE = 0.00015
SPOT_TAKER_FEE = 0.0007  # spot base tier (GitBook "Fees"): 0.070% taker, 0.040% maker
SPOT_MAKER_FEE = 0.0004
MARKET_SLIPPAGE = 0.10
LIQUIDATOR_ADDRESS = "0x" + "0" * 38 + "11"
FIRST_OID = 10_000_000_000
DEFAULT_LEVERAGE = 20
CANDLES_KEPT = 5000
PX_TEXT_CACHE = 4096
# Lifetime traded volume (USD) an account needs before the venue accepts scheduleCancel. The
# venue's error text has no number; live refusals seen by third-party clients add "Required:
# $1000000." [observed], and both setting and clearing are refused below it [observed].
SCHEDULE_CANCEL_MIN_VOLUME_USD = 1_000_000.0


def hash_hex(*parts: object) -> str:
    """A deterministic 32-byte hex hash of `parts` (stand-in for the venue's action hashes)."""
    text = ":".join(str(p) for p in parts)
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def candle_bounds(interval: str, t_ms: int) -> tuple[int, int]:
    """Open time and close time (inclusive, ms) of the candle containing `t_ms`.

    Fixed intervals are aligned to the Unix epoch; "1M" to UTC calendar months.
    """
    if interval != CALENDAR_MONTH_INTERVAL:
        width = CANDLE_INTERVAL_MS[interval]
        start = t_ms - t_ms % width
        return start, start + width - 1
    moment = dt.datetime.fromtimestamp(t_ms / 1000, tz=dt.UTC)
    first = dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)
    nxt = (
        dt.datetime(moment.year + 1, 1, 1, tzinfo=dt.UTC)
        if moment.month == 12
        else dt.datetime(moment.year, moment.month + 1, 1, tzinfo=dt.UTC)
    )
    return int(first.timestamp() * 1000), int(nxt.timestamp() * 1000) - 1


class MarketState:
    """Per-coin venue state: book, prices, tape, candles and funding."""

    def __init__(self, spec: CoinSpec, asset: int) -> None:
        self.spec = spec
        self.asset = asset
        self.coin = spec.name
        self.sz_decimals = spec.sz_decimals
        self.px_decimals = px_decimals_of(spec.sz_decimals)
        self.px_scale = 10**self.px_decimals
        self.sz_scale = 10**self.sz_decimals
        self.book = OrderBook(spec.name)
        self.oracle = spec.initial_px
        self.mark = spec.initial_px
        self.last_trade_px: float | None = None
        self.funding_override: float | None = None
        self.trades: deque[dict[str, Any]] = deque(maxlen=2000)
        self.volume_window: deque[tuple[int, float, int, float]] = deque()
        self.day_ntl = 0.0
        self.day_base = 0
        self.prev_day_px = spec.initial_px
        self.candles: dict[str, dict[int, list[Any]]] = {iv: {} for iv in CANDLE_INTERVAL_MS}
        self.funding_history: list[dict[str, Any]] = []
        # Premium samples of the current funding hour (see `funding`).
        self.premium_sum = 0.0
        self.premium_samples = 0
        self.triggers: dict[int, SimOrder] = {}
        # Spot pairs (see `spot_market`): the tokens traded and their own fee schedule.
        self.is_spot = False
        self.base_token = -1
        self.quote_token = -1
        self.taker_fee = TAKER_FEE
        self.maker_fee = MAKER_FEE
        # px_units * sz_units per USD (1e6 for perps: px and sz decimals add up to 6).
        self.ntl_scale = 10 ** (self.px_decimals + self.sz_decimals)
        self._px_text: dict[int, str] = {}

    def px_str(self, units: int) -> str:
        """The venue string of a price; memoised (book pushes format the same levels often)."""
        text = self._px_text.get(units)
        if text is None:
            if len(self._px_text) >= PX_TEXT_CACHE:
                self._px_text.clear()
            text = self._px_text[units] = fmt_units(units, self.px_decimals)
        return text

    def sz_str(self, units: int) -> str:
        return fmt_units(units, self.sz_decimals)

    def px_float(self, units: int) -> float:
        return units / self.px_scale

    def px_units(self, px: float) -> int:
        """Nearest valid price (grid and 5 significant figures)."""
        units = max(1, float_to_units(px, self.px_decimals))
        return round_px_sig(units, self.px_decimals, round_up=False)

    def fmt_px(self, px: float) -> str:
        """A float price with this market's price decimals (venue string)."""
        return fmt_usd(px, self.px_decimals)


def spot_market(pair: SpotPairSpec, base: SpotTokenSpec) -> MarketState:
    """The book of one spot pair: asset 10000 + index, prices with up to 8 - szDecimals
    decimals (of the base token), the spot fee schedule (GitBook "Fees", base tier)."""
    spec = CoinSpec(name=pair.name, sz_decimals=base.sz_decimals, max_leverage=1,
                    initial_px=pair.initial_px)  # fmt: skip
    market = MarketState(spec, SPOT_ASSET_OFFSET + pair.index)
    market.is_spot = True
    market.px_decimals = MAX_DECIMALS_SPOT - base.sz_decimals
    market.px_scale = 10**market.px_decimals
    market.ntl_scale = 10 ** (market.px_decimals + market.sz_decimals)
    market.base_token = pair.base
    market.quote_token = pair.quote
    market.taker_fee = SPOT_TAKER_FEE
    market.maker_fee = SPOT_MAKER_FEE
    return market


class VenueState:
    """Everything the simulated venue knows, plus the small helpers every module shares."""

    def __init__(
        self,
        coins: Sequence[CoinSpec],
        *,
        is_mainnet: bool = False,
        initial_usdc: float = 0.0,
        enforce_address_rate_limit: bool = True,
        schedule_cancel_min_volume_usd: float = SCHEDULE_CANCEL_MIN_VOLUME_USD,
    ) -> None:
        if not coins:
            raise ValueError("the simulator needs at least one coin")
        self.is_mainnet = is_mainnet
        self.initial_usdc = initial_usdc
        self.enforce_address_rate_limit = enforce_address_rate_limit
        if schedule_cancel_min_volume_usd < 0:
            raise ValueError(
                f"schedule_cancel_min_volume_usd must be >= 0, got {schedule_cancel_min_volume_usd}"
            )
        self.schedule_cancel_min_volume_usd = schedule_cancel_min_volume_usd
        self.coins: list[CoinSpec] = list(coins)
        self.markets: dict[str, MarketState] = {}
        self.by_asset: dict[int, MarketState] = {}
        for asset, spec in enumerate(self.coins):
            market = MarketState(spec, asset)
            self.markets[spec.name] = market
            self.by_asset[asset] = market
        self.max_leverage: dict[str, int] = {c.name: c.max_leverage for c in self.coins}
        self.accounts: dict[str, SimAccount] = {}
        self.agents: dict[str, tuple[str, str, int | None]] = {}  # agent -> (master, name, until)
        self.vaults: set[str] = set()  # sub-accounts that are vaults (userRole "vault")
        self.nonces: dict[str, list[int]] = {}
        self.orders_by_oid: dict[int, SimOrder] = {}
        self.scheduled: dict[str, int] = {}
        self.events: list[SimEvent] = []
        self.dirty_books: dict[str, None] = {}
        self.next_oid = FIRST_OID
        self.next_lid = 1
        self.now = 0
        self.last_funding_hour: int | None = None
        self.next_sample_ms: int | None = None
        self.exchange_volume: dict[str, float] = {}
        self.spot_tokens = DEFAULT_SPOT_TOKENS
        self.spot_pairs = DEFAULT_SPOT_PAIRS
        # The builder (address, fee in tenths of a bp) of the order action being placed, like
        # `now` a context of the current call: every order the action creates carries it.
        self.action_builder: tuple[str, int] | None = None
        self.tokens: dict[int, SpotTokenSpec] = {t.index: t for t in self.spot_tokens}
        # Spot books by pair name; kept apart from `markets`, which is the perp universe.
        self.spot_markets: dict[str, MarketState] = {}
        for pair in self.spot_pairs:
            spot = spot_market(pair, self.tokens[pair.base])
            self.spot_markets[pair.name] = spot
            self.by_asset[spot.asset] = spot

    # --- accounts ---------------------------------------------------------------------------

    def credit_usdc(self, user: str, amount: float) -> None:
        """Fund an account's perp USDC (creates it); amount 0 registers an unfunded account."""
        account = self.account(user.lower())
        account.usdc = round(account.usdc + amount, 6)
        if amount > 0:
            account.deposited = True
            account.ledger.append(
                {
                    "time": self.now,
                    "hash": hash_hex("deposit", user, len(account.ledger)),
                    "delta": {"type": "deposit", "usdc": fmt_usd(amount)},
                }
            )

    def credit_volume(self, user: str, usd: float) -> None:
        """Add lifetime traded volume to an account (creates it): test accounts that must pass
        the venue's volume gates (scheduleCancel, the address rate limit) without trading."""
        if usd < 0:
            raise ValueError(f"volume must be >= 0, got {usd}")
        account = self.account(user.lower())
        account.cum_vlm += usd

    def add_sub_account(self, master: str, sub_account: str) -> None:
        """Register `sub_account` as a sub-account of `master` (vaultAddress target)."""
        master = master.lower()
        sub = self.account(sub_account.lower())
        sub.master = master
        owner = self.account(master)
        if sub.address not in owner.sub_accounts:
            owner.sub_accounts.append(sub.address)

    def add_vault(self, leader: str, vault: str) -> None:
        """Register `vault` as a vault led by `leader` (traded with vaultAddress, like a
        sub-account; /info userRole answers "vault")."""
        self.add_sub_account(leader, vault)
        self.vaults.add(vault.lower())

    def account(self, address: str) -> SimAccount:
        """The account at `address` (lower case), created empty when new."""
        account = self.accounts.get(address)
        if account is None:
            account = SimAccount(address=address)
            self.accounts[address] = account
        return account

    def market(self, coin: str) -> MarketState:
        """The perp market or spot pair named `coin`."""
        market = self.markets.get(coin) or self.spot_markets.get(coin)
        if market is None:
            raise KeyError(f"unknown coin {coin!r}")
        return market

    def leverage_of(self, account: SimAccount, coin: str) -> tuple[bool, int]:
        """(is_cross, leverage) of `account` on `coin`, defaulting as the venue does."""
        setting = account.leverage.get(coin)
        if setting is None:
            spec = self.markets[coin].spec
            setting = (not spec.only_isolated, min(DEFAULT_LEVERAGE, spec.max_leverage))
            account.leverage[coin] = setting
        return setting

    def position(self, account: SimAccount, coin: str) -> SimPosition:
        """The position of `account` on `coin`, created flat with the current leverage."""
        pos = account.positions.get(coin)
        if pos is None:
            is_cross, lev = self.leverage_of(account, coin)
            pos = SimPosition(
                coin=coin,
                sz_decimals=self.markets[coin].sz_decimals,
                is_cross=is_cross,
                leverage=lev,
            )
            account.positions[coin] = pos
        elif pos.szi == 0:
            pos.is_cross, pos.leverage = self.leverage_of(account, coin)
        return pos

    def marks(self) -> dict[str, float]:
        return {coin: m.mark for coin, m in self.markets.items()}

    def withdrawable(self, account: SimAccount) -> float:
        marks = self.marks()
        free = (
            cross_account_value(account, marks)
            - cross_margin_used(account, marks)
            - open_order_margin(account)
        )
        return max(0.0, min(free, account.usdc))

    # --- orders and events ------------------------------------------------------------------

    def new_oid(self) -> int:
        oid = self.next_oid
        self.next_oid += 1
        return oid

    def emit(self, event: SimEvent) -> None:
        self.events.append(event)

    def book_changed(self, coin: str) -> None:
        """Mark the book of `coin` changed; one BookChanged per coin is emitted at the flush."""
        self.dirty_books[coin] = None

    def flush_books(self) -> None:
        if self.dirty_books:
            for coin in self.dirty_books:
                self.events.append(BookChanged(coin))
            self.dirty_books = {}
