"""The living market: oracle prices, market makers and background traders, by named scenario.

Hyperliquid is unreachable from here, so strategies and the regime controller are exercised
against this market. Each scenario produces the signature the regime controller looks for:

* `quiet`   sideways: small random walk, symmetric depth, takers mean-revert their inventory
            (open interest stable), mark = oracle (neutral funding).
* `trend`   expansion: upward drift, takers keep adding longs against the makers (open interest
            rising), mark above oracle (funding skewed positive), deeper bids than asks.
* `cascade` build-up of leveraged longs, then a sell-off: makers pull bids, the oracle falls,
            the engine liquidates the leveraged accounts (open interest falls fast), then bids
            refill and the price stabilises.
* `thin`    the makers' depth and number of levels decay over time.

A schedule of them (`quiet:600,trend:900,cascade:120,quiet:600`, seconds of venue time) changes
the regime during a run, with smooth hand-overs (`simulator.schedule`); a cascade phase runs its
own timeline (build-up, sell-off, recovery) from the start of the phase.

Everything is driven by one seeded `random.Random` and by venue time passed in by the server, so
the same seed with the same client actions gives the same market. The market only talks to the
engine through its trusted plumbing (`place_internal_order`, `cancel_internal`, `resting_size`,
`set_oracle_px`, `set_mark_px`, `credit_usdc`) under its own deterministic addresses.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

from simulator.events import SimEvent
from simulator.events import UserFill
from simulator.events import UserLiquidation
from simulator.hunter import Hunter
from simulator.schedule import Conditions
from simulator.schedule import ScenarioSchedule
from simulator.specs import CoinSpec

if TYPE_CHECKING:
    from simulator.engine import SimEngine


@dataclass(frozen=True)
class Scenario:
    """Parameters of one named market regime (per-step values; a step is `step_ms` of time).

    Parameters
    ----------
    name : str
        The scenario name used on the command line.
    vol_bps : float
        Standard deviation of the oracle's log return per second, in basis points.
    drift_bps : float
        Oracle drift per second, in basis points (outside scenario phases).
    premium_bps : float
        Mark price above the oracle, in basis points (drives funding).
    levels : int
        Maker levels per side (20, the most the venue's l2Book serves; fewer where a scenario
        thins the book).
    level_usd : float
        Maker notional per level, in USD.
    bid_mult / ask_mult : float
        Depth multipliers of the maker's bid and ask sides.
    taker_rate : float
        Expected taker orders per coin per second.
    taker_usd : float
        Typical taker order notional, in USD.
    buy_bias : float
        Probability that a taker buys when it is not reverting its inventory.
    mean_revert : bool
        Whether takers trade back toward a flat position (keeps open interest stable).
    base_oi_usd : float
        Open interest held from the start by two passive holders (a long and a short), so the
        takers' churn is small against it, as on a real market.
    """

    name: str
    vol_bps: float
    drift_bps: float
    premium_bps: float
    levels: int
    level_usd: float
    bid_mult: float
    ask_mult: float
    taker_rate: float
    taker_usd: float
    buy_bias: float
    mean_revert: bool
    base_oi_usd: float


SCENARIOS: dict[str, Scenario] = {
    "quiet": Scenario(
        "quiet", 3.0, 0.0, 0.0, 20, 40_000.0, 1.0, 1.0, 2.0, 6_000.0, 0.5, True, 3_000_000.0
    ),
    "trend": Scenario(
        "trend", 3.0, 4.0, 15.0, 20, 40_000.0, 1.8, 0.6, 3.0, 8_000.0, 0.8, False, 1_000_000.0
    ),
    "cascade": Scenario(
        "cascade", 3.0, 0.0, 0.0, 20, 40_000.0, 1.0, 1.0, 2.0, 6_000.0, 0.5, True, 300_000.0
    ),
    "thin": Scenario(
        "thin", 3.0, 0.0, 0.0, 20, 40_000.0, 1.0, 1.0, 1.0, 4_000.0, 0.5, True, 1_000_000.0
    ),
}
"""The named scenarios (`jarvis sim --scenario NAME`)."""

# Cascade timeline (venue ms since the market started).
CASCADE_BUILD_END_MS = 10_000
CASCADE_SELLOFF_END_MS = 30_000
CASCADE_SELLOFF_BPS_PER_S = -80.0  # about -15% over the 20 s sell-off
CASCADE_BID_MULT = 0.2
CASCADE_SELLOFF_LEVELS = 5  # maker levels per side near the touch during the sell-off
CASCADE_DEEP_LEVELS = 6
CASCADE_DEEP_STEP = 0.01
CASCADE_DEEP_MULT = 6.0
LEVERAGED_PER_COIN = 6
LEVERAGED_EQUITY_USD = 20_000.0
# Thin: depth halves every THIN_HALF_LIFE_MS down to THIN_FLOOR of the start.
THIN_HALF_LIFE_MS = 10_000.0
THIN_FLOOR = 0.05

MAKER_USDC = 500_000_000.0
TAKER_USDC = 2_000_000.0
TAKERS = 4
LEVEL_SPACING_BPS = 2.0
TAKER_INVENTORY_USD = 60_000.0


def sim_address(seed: int, role: str, index: int) -> str:
    """A deterministic lowercase address for a background participant."""
    digest = hashlib.sha256(f"jarvis-sim|{seed}|{role}|{index}".encode()).hexdigest()
    return "0x" + digest[:40]


@functools.lru_cache(maxsize=8192)  # the ladders revisit the same prices step after step
def valid_px(px: float, sz_decimals: int) -> float:
    """Round `px` to a valid perp price: 5 significant figures, at most 6 - szDecimals decimals."""
    if px >= 100_000:
        return float(round(px))
    decimals = min(6 - sz_decimals, max(0, 4 - math.floor(math.log10(px))))
    return round(px, decimals)


def tick_of(px: float, sz_decimals: int) -> float:
    """The smallest price increment valid around `px`."""
    if px >= 100_000:
        return 1.0
    decimals = min(6 - sz_decimals, max(0, 4 - math.floor(math.log10(px))))
    return 10.0**-decimals


def valid_sz(sz: float, sz_decimals: int) -> float:
    """Round a size down to szDecimals."""
    factor = 10**sz_decimals
    return math.floor(sz * factor + 1e-9) / factor


def conditions_of(scenario: Scenario, phase_ms: int) -> Conditions:
    """What `scenario` does `phase_ms` into its phase: its parameters, with the cascade's
    sell-off and the thin book's decay applied."""
    s = scenario
    drift = s.drift_bps
    bid_mult, ask_mult, levels = s.bid_mult, s.ask_mult, s.levels
    selloff = False
    if s.name == "cascade":
        selloff = CASCADE_BUILD_END_MS <= phase_ms < CASCADE_SELLOFF_END_MS
        if selloff:
            drift = CASCADE_SELLOFF_BPS_PER_S
            levels = min(s.levels, CASCADE_SELLOFF_LEVELS)
            bid_mult, ask_mult = CASCADE_BID_MULT, 1.0
        else:
            bid_mult, ask_mult = 1.0, 1.0
    elif s.name == "thin":
        decay = round(max(THIN_FLOOR, 0.5 ** (phase_ms / THIN_HALF_LIFE_MS)), 2)
        bid_mult, ask_mult, levels = decay, decay, max(3, round(s.levels * decay))
    return Conditions(
        vol_bps=s.vol_bps,
        drift_bps=drift,
        premium_bps=s.premium_bps,
        level_usd=s.level_usd,
        bid_mult=bid_mult,
        ask_mult=ask_mult,
        taker_rate=s.taker_rate,
        taker_usd=s.taker_usd,
        buy_bias=s.buy_bias,
        levels=levels,
        mean_revert=s.mean_revert,
        selloff=selloff,
    )


@dataclass
class _Quote:
    oid: int
    px: float
    sz: float


class LivingMarket:
    """Moves the oracle and runs makers and takers against the engine, one step at a time."""

    def __init__(
        self,
        engine: SimEngine,
        coins: Sequence[CoinSpec],
        *,
        scenario: str = "quiet",
        seed: int = 7,
        activity: float = 1.0,
        hunter: bool = False,
        ground_truth_path: str | None = None,
        hold_schedule: bool = False,
    ) -> None:
        self.schedule = ScenarioSchedule(
            scenario,
            SCENARIOS,
            conditions_of,
            blend_cap_ms={"cascade": CASCADE_BUILD_END_MS},
            inherit_ms={"cascade": CASCADE_BUILD_END_MS},
            refill_ms={"cascade": CASCADE_SELLOFF_END_MS},
        )
        if (hunter or ground_truth_path) and "cascade" not in self.schedule.names:
            raise ValueError(f"hunter: only the cascade scenario has one, not {scenario!r}")
        self.engine = engine
        self.coins = list(coins)
        self.phase_index = 0
        self.phase_ms = 0
        self.cond = conditions_of(self.schedule.phases[0].scenario, 0)
        self.seed = seed
        self.activity = activity
        self.rng = random.Random(seed)
        self.oracle: dict[str, float] = {c.name: c.initial_px for c in self.coins}
        self.makers: dict[str, str] = {
            c.name: sim_address(seed, "maker", i) for i, c in enumerate(self.coins)
        }
        self.takers: list[str] = [sim_address(seed, "taker", i) for i in range(TAKERS)]
        self.holders: dict[str, tuple[str, str]] = {
            c.name: (sim_address(seed, "holder-long", i), sim_address(seed, "holder-short", i))
            for i, c in enumerate(self.coins)
        }
        self.leveraged: dict[str, list[str]] = {}
        if "cascade" in self.schedule.names:
            for i, c in enumerate(self.coins):
                self.leveraged[c.name] = [
                    sim_address(seed, "leveraged", i * LEVERAGED_PER_COIN + j)
                    for j in range(LEVERAGED_PER_COIN)
                ]
        self.positions: dict[str, dict[str, float]] = {}
        self.liquidations = 0
        self.start_ms: int | None = None
        # Held: the first phase goes on, its clock at 0, until `release_schedule`.
        self.schedule_held = hold_schedule
        self.last_ms: int | None = None
        self._ladder_keys: dict[str, tuple[Any, ...]] = {}
        self._maker_touched: dict[str, None] = {}
        self._maker_coins: dict[str, str] = {m: c for c, m in self.makers.items()}
        self._quotes: dict[str, dict[tuple[bool, float], _Quote]] = {c.name: {} for c in self.coins}
        # Admin book shaping per coin: (bid, ask) depth multipliers on top of the scenario's.
        self.book_shape: dict[str, tuple[float, float]] = {}
        self.hunter: Hunter | None = None
        if hunter or ground_truth_path:
            self.hunter = Hunter(
                self,
                {c.name: sim_address(seed, "hunter", i) for i, c in enumerate(self.coins)},
                build_end_ms=CASCADE_BUILD_END_MS,
                ground_truth_path=ground_truth_path,
            )

    @property
    def scenario(self) -> Scenario:
        """The scenario of the phase running now."""
        return self.schedule.phases[self.phase_index].scenario

    @property
    def participants(self) -> list[str]:
        """Every address the market trades with (for tests and the admin state)."""
        out = list(self.makers.values()) + self.takers
        for pair in self.holders.values():
            out.extend(pair)
        for users in self.leveraged.values():
            out.extend(users)
        if self.hunter is not None:
            out.extend(plan.address for plan in self.hunter.plans.values())
        return out

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, now_ms: int) -> None:
        """Fund the participants, set the first oracle prices and place the first quotes."""
        self.start_ms = now_ms
        self.last_ms = now_ms
        engine = self.engine
        for maker in self.makers.values():
            engine.credit_usdc(maker, MAKER_USDC)
        for taker in self.takers:
            engine.credit_usdc(taker, TAKER_USDC)
        self._fund_leveraged()
        for user in self.participants:  # most of the volume; nobody reads their history
            engine.account(user).keep_short_history()
        if self.hunter is not None:
            self.hunter.start()
        for coin in self.coins:
            self._set_prices(coin, now_ms)
            self._open_base_interest(coin, now_ms)
            self._requote(coin, now_ms)
        for coin in self.coins:  # a few opening trades so books, trades and OI exist at once
            for i in range(len(self.takers)):
                self._taker_order(coin, self.takers[i], self.rng.random() < 0.5, now_ms)

    def _open_base_interest(self, coin: CoinSpec, now_ms: int) -> None:
        """The passive holders trade with each other once, on the still empty book."""
        long_user, short_user = self.holders[coin.name]
        usd = self.schedule.phases[0].scenario.base_oi_usd  # then OI moves only by trades
        for user in (long_user, short_user):
            self.engine.credit_usdc(user, usd)  # 1x: never near liquidation
        px = valid_px(self.oracle[coin.name], coin.sz_decimals)
        sz = valid_sz(usd / px, coin.sz_decimals)
        self.engine.place_internal_order(short_user, coin.name, False, px, sz, "Gtc", now_ms=now_ms)
        self.engine.place_internal_order(long_user, coin.name, True, px, sz, "Ioc", now_ms=now_ms)

    def step(self, now_ms: int) -> None:
        """Advance the market to `now_ms`: move oracles, requote, let takers trade."""
        if self.start_ms is None:
            self.start(now_ms)
            return
        dt_s = max(0.0, (now_ms - (self.last_ms or now_ms)) / 1000.0)
        self.last_ms = now_ms
        if self.schedule_held:
            self.start_ms = now_ms
        self._enter_phase(now_ms - self.start_ms)
        for coin in self.coins:
            self._move_oracle(coin, dt_s)
            self._set_prices(coin, now_ms)
            self._requote(coin, now_ms)
            self._run_takers(coin, dt_s, now_ms)
            if self.hunter is not None and self.scenario.name == "cascade":
                # The hunter works on the cascade's own timeline (ms into the cascade phase).
                self.hunter.step(coin, self.phase_ms, now_ms)

    def release_schedule(self, now_ms: int) -> None:
        """End a hold (``hold_schedule``): the schedule's clock starts at `now_ms`, so its first
        phase runs its whole length from here."""
        if not self.schedule_held:
            raise ValueError(
                "release_schedule: the schedule is not held (the simulator was started without "
                "hold_schedule)"
            )
        self.schedule_held = False
        self.start_ms = now_ms

    def _enter_phase(self, elapsed_ms: int) -> None:
        """The schedule's conditions now; a later cascade phase re-funds its leveraged traders
        (the previous cascade liquidated them)."""
        index, self.phase_ms, self.cond = self.schedule.at(elapsed_ms)
        if index != self.phase_index:
            self.phase_index = index
            if self.scenario.name == "cascade":
                self._fund_leveraged()

    def _fund_leveraged(self) -> None:
        """Bring each leveraged trader's cash up to ``LEVERAGED_EQUITY_USD``, never beyond:
        ``start`` funds them already, so crediting the full amount again when a later cascade
        phase begins would double their equity (and halve their leverage)."""
        for users in self.leveraged.values():
            for user in users:
                missing = LEVERAGED_EQUITY_USD - self.engine.account(user).usdc
                if missing > 0:
                    self.engine.credit_usdc(user, missing)

    def on_events(self, events: list[SimEvent]) -> None:
        """Track the positions of the market's own accounts and count liquidations."""
        for event in events:
            if isinstance(event, UserFill):
                fill = event.fill
                try:
                    start = float(fill["startPosition"])
                    sz = float(fill["sz"])
                except (KeyError, TypeError, ValueError):
                    continue
                signed = sz if fill.get("side") == "B" else -sz
                self.positions.setdefault(event.user, {})[fill["coin"]] = start + signed
                if event.user in self._maker_coins:
                    self._maker_touched[fill["coin"]] = None
            elif isinstance(event, UserLiquidation):
                self.liquidations += 1

    def set_oracle(self, coin: str, px: float, now_ms: int) -> None:
        """Move `coin`'s oracle to `px` now (admin); makers requote around it on this call."""
        spec = next(c for c in self.coins if c.name == coin)
        self.oracle[coin] = px
        self._set_prices(spec, now_ms)
        self._requote(spec, now_ms)

    def move_fair(self, coin: str, px: float, now_ms: int) -> None:
        """Move ``coin``'s fair price (the makers' centre, hence the mid) to ``px`` now (admin).

        The oracle is set so that the fair price, premium included, is ``px``; the makers requote
        around it and the mark is then taken again from the new book (median of oracle, best bid
        and best ask), so mark-triggered orders see the move on this call. The random walk
        carries on from there.
        """
        spec = next(c for c in self.coins if c.name == coin)
        self.oracle[coin] = px / (1.0 + self.cond.premium_bps / 10_000.0)
        self._set_prices(spec, now_ms)
        self._requote(spec, now_ms)
        self._set_prices(spec, now_ms)

    def shape_book(self, coin: str, bid_mult: float, ask_mult: float, now_ms: int) -> None:
        """Scale the makers' bid and ask depth of ``coin`` (admin; 1, 1 restores the
        scenario's book); the ladder is requoted on this call."""
        spec = next(c for c in self.coins if c.name == coin)
        if bid_mult == 1.0 and ask_mult == 1.0:
            self.book_shape.pop(coin, None)
        else:
            self.book_shape[coin] = (bid_mult, ask_mult)
        self._requote(spec, now_ms)

    def change_open_interest(
        self, coin: str, usd: float, now_ms: int, aggressor: str | None = None
    ) -> None:
        """Open (``usd`` > 0) or close (< 0) that much open interest on ``coin`` (admin).

        Open interest only changes by trades, so the two passive holders trade with each other
        at the middle of the makers' spread (inside it: no maker quote is touched), half with
        the buyer aggressing and half with the seller, so the tape shows no one-sided flow.
        With ``aggressor`` ``"sell"`` (or ``"buy"``) the seller (buyer) aggresses in both
        halves: the tape shows that much one-sided flow, as when a crowded side is forced
        out. Closing is capped at what the holders hold.
        """
        if aggressor not in (None, "buy", "sell"):
            raise ValueError(f"aggressor must be 'buy', 'sell' or None, got {aggressor!r}")
        spec = next(c for c in self.coins if c.name == coin)
        long_user, short_user = self.holders[coin]
        engine = self.engine
        bid, ask = engine.best_bid_ask(coin)
        if bid is None or ask is None:
            raise ValueError(f"{coin}: no two-sided book to trade inside")
        px = valid_px((bid + ask) / 2, spec.sz_decimals)
        if not bid < px < ask:
            raise ValueError(f"{coin}: the spread {bid}-{ask} has no price inside it")
        opening = usd > 0
        sz = valid_sz(abs(usd) / px / 2, spec.sz_decimals)
        if not opening:
            held = self.positions.get(long_user, {}).get(coin, 0.0)
            sz = min(sz, valid_sz(held / 2, spec.sz_decimals))
        if sz <= 0:
            return
        if opening:
            for user in (long_user, short_user):
                engine.credit_usdc(user, sz * 2 * px)  # 1x, as the base interest
        # (resting side, aggressing side): the long buys, the short sells when opening.
        makers_long: tuple[bool, bool] = (False, True)
        if aggressor is not None:
            taker_is_long = (aggressor == "buy") == opening  # the long buys when opening
            makers_long = (not taker_is_long, not taker_is_long)
        for maker_is_long in makers_long:
            maker, taker = (long_user, short_user) if maker_is_long else (short_user, long_user)
            maker_buys = maker_is_long == opening
            engine.place_internal_order(
                maker, coin, maker_buys, px, sz, "Gtc", reduce_only=not opening, now_ms=now_ms
            )
            engine.place_internal_order(
                taker, coin, not maker_buys, px, sz, "Ioc", reduce_only=not opening, now_ms=now_ms
            )

    # --- oracle ------------------------------------------------------------------------------

    def _move_oracle(self, coin: CoinSpec, dt_s: float) -> None:
        cond = self.cond
        shock = self.rng.gauss(0.0, 1.0) * cond.vol_bps * math.sqrt(dt_s)
        ret = (cond.drift_bps * dt_s + shock) / 10_000.0
        self.oracle[coin.name] *= math.exp(ret)

    def _set_prices(self, coin: CoinSpec, now_ms: int) -> None:
        px = valid_px(self.oracle[coin.name], coin.sz_decimals)
        self.engine.set_oracle_px(coin.name, px, now_ms)
        premium = self.cond.premium_bps
        if premium:
            mark = valid_px(px * (1.0 + premium / 10_000.0), coin.sz_decimals)
            self.engine.set_mark_px(coin.name, mark, now_ms)

    # --- makers ------------------------------------------------------------------------------

    def _requote(self, coin: CoinSpec, now_ms: int) -> None:
        """Keep the maker's ladder around the fair price, touching only levels that changed."""
        name = coin.name
        maker = self.makers[name]
        cond = self.cond
        fair = self.oracle[name] * (1.0 + cond.premium_bps / 10_000.0)
        tick = tick_of(fair, coin.sz_decimals)
        spacing = max(tick, round(fair * LEVEL_SPACING_BPS / 10_000.0 / tick) * tick)
        center = round(fair / spacing) * spacing
        bid_mult, ask_mult, levels = cond.bid_mult, cond.ask_mult, cond.levels
        shape = self.book_shape.get(name)
        if shape is not None:
            bid_mult, ask_mult = bid_mult * shape[0], ask_mult * shape[1]
        selloff = cond.selloff
        ladder_key = (center, spacing, bid_mult, ask_mult, levels, selloff)
        touched = name in self._maker_touched
        if ladder_key == self._ladder_keys.get(name) and not touched:
            return  # nothing moved and nobody traded with the maker: the ladder stands
        self._ladder_keys[name] = ladder_key
        self._maker_touched.pop(name, None)
        level_sz = cond.level_usd / fair
        wanted: dict[tuple[bool, float], float] = {}
        for k in range(1, levels + 1):
            size_factor = 0.6 + 0.1 * k  # deeper levels carry a little more
            bid_px = valid_px(center - k * spacing, coin.sz_decimals)
            ask_px = valid_px(center + k * spacing, coin.sz_decimals)
            bid_sz = valid_sz(level_sz * bid_mult * size_factor, coin.sz_decimals)
            ask_sz = valid_sz(level_sz * ask_mult * size_factor, coin.sz_decimals)
            if bid_sz * bid_px >= 10.0:
                wanted[(True, bid_px)] = bid_sz
            if ask_sz * ask_px >= 10.0:
                wanted[(False, ask_px)] = ask_sz
        if selloff:
            # Near the touch the bids are gone, but the maker keeps deep bids to cover its short:
            # liquidations sweep into them, which is what makes open interest collapse.
            for k in range(1, CASCADE_DEEP_LEVELS + 1):
                px = valid_px(fair * (1.0 - k * CASCADE_DEEP_STEP), coin.sz_decimals)
                sz = valid_sz(cond.level_usd * CASCADE_DEEP_MULT / px, coin.sz_decimals)
                wanted[(True, px)] = sz
        quotes = self._quotes[name]
        if touched:  # what is left of each quote (None: filled away)
            open_sz = {q.oid: self.engine.resting_size(maker, q.oid) for q in quotes.values()}
        else:
            open_sz = {q.oid: q.sz for q in quotes.values()}
        for key, quote in list(quotes.items()):
            remaining = open_sz.get(quote.oid)
            target = wanted.get(key)
            if remaining is None:
                del quotes[key]  # filled away
            elif target is None or remaining < 0.5 * target or remaining > 1.5 * target:
                self.engine.cancel_internal(maker, name, quote.oid, now_ms)
                del quotes[key]
        for key, sz in wanted.items():
            if key in quotes:
                continue
            is_buy, px = key
            status = self.engine.place_internal_order(
                maker, name, is_buy, px, sz, tif="Alo", now_ms=now_ms
            )
            resting = status.get("resting") if isinstance(status, dict) else None
            if resting is not None:
                quotes[key] = _Quote(int(resting["oid"]), px, sz)

    # --- takers ------------------------------------------------------------------------------

    def _run_takers(self, coin: CoinSpec, dt_s: float, now_ms: int) -> None:
        cond = self.cond
        if self.scenario.name == "cascade":
            self._run_cascade(coin, self.phase_ms, now_ms)
        expected = cond.taker_rate * self.activity * dt_s
        n = int(expected) + (1 if self.rng.random() < expected - int(expected) else 0)
        for _ in range(n):
            taker = self.takers[self.rng.randrange(len(self.takers))]
            pos_usd = self.positions.get(taker, {}).get(coin.name, 0.0) * self.oracle[coin.name]
            if cond.mean_revert:
                lean = max(-1.0, min(1.0, pos_usd / TAKER_INVENTORY_USD))
                p_buy = 0.5 - 0.45 * lean
            else:
                p_buy = cond.buy_bias
            self._taker_order(coin, taker, self.rng.random() < p_buy, now_ms)

    def _taker_order(
        self,
        coin: CoinSpec,
        user: str,
        is_buy: bool,
        now_ms: int,
        usd: float | None = None,
        reduce_only: bool = False,
    ) -> dict[str, Any]:
        fair = self.oracle[coin.name]
        notional = usd if usd is not None else self.cond.taker_usd * (0.3 + self.rng.random())
        sz = valid_sz(notional / fair, coin.sz_decimals)
        if sz <= 0 or sz * fair < 11.0:
            return {}
        limit = valid_px(fair * (1.02 if is_buy else 0.98), coin.sz_decimals)
        return self.engine.place_internal_order(
            user, coin.name, is_buy, limit, sz, tif="Ioc", reduce_only=reduce_only, now_ms=now_ms
        )

    def _run_cascade(self, coin: CoinSpec, elapsed_ms: int, now_ms: int) -> None:
        """Build leveraged longs early; during the sell-off survivors dump part of them."""
        users = self.leveraged.get(coin.name, [])
        if elapsed_ms < CASCADE_BUILD_END_MS:
            for j, user in enumerate(users):
                if self.positions.get(user, {}).get(coin.name, 0.0) > 0:
                    continue
                leverage = min(coin.max_leverage * 0.5, 8.0 + 2.0 * j)
                self._taker_order(coin, user, True, now_ms, LEVERAGED_EQUITY_USD * leverage)
        elif elapsed_ms < CASCADE_SELLOFF_END_MS and self.rng.random() < 0.1:
            holders = [u for u in users if self.positions.get(u, {}).get(coin.name, 0.0) > 0]
            if holders:
                user = holders[self.rng.randrange(len(holders))]
                size = self.positions[user][coin.name] * 0.3
                usd = size * self.oracle[coin.name]
                self._taker_order(coin, user, False, now_ms, usd, reduce_only=True)
