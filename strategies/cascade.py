"""
Cascade (expansion): wait for the crowded side to be liquidated, then take the snapback
(STRATEGIES.md, Cascade).

* Setup (SCANNING -> ARMED, on the event or within ``setup_confirm_secs`` of it): an OI_DROP of
  at least ``min_oi_drop_pct`` with the 5 s aggressive flow one-sided in the direction of the
  drop (share >= ``min_one_sided_share``: sells for a long squeeze, buys for a short squeeze)
  and the hit side thinning (``bid_thinning_ratio`` <= ``max_hit_thinning_ratio`` for a long
  squeeze, the ask for a short one). The cascade's start mid and its extreme are recorded from
  the mids of the last ``start_lookback_secs``: the start is the highest mid (long squeeze;
  lowest for a short one), the extreme the lowest (highest).
* Entry trigger (ARMED -> ENTERED, within ``arm_timeout_secs``): exhaustion -- a BOOK_REFILL of
  the hit side seen since arming AND the 1 s aggressive flow turned (buys >= sells after a long
  squeeze, sells >= buys after a short one). Enter against the cascade.
* Stop: ``stop_buffer_bps`` beyond the cascade's extreme; target: ``retrace_share`` of the move
  from the start mid back from the extreme. Both freeze at the trigger.
* Invalidation (ARMED: back to SCANNING; ENTERED: close at market now): a new extreme beyond the
  stop (the cascade resumed); a further OI_DROP in the same direction while ENTERED; the regime
  out of EXPANSION for more than ``regime_exit_confirm_secs``; ``max_hold_secs`` (the base's
  time stop).

Decided where STRATEGIES.md is silent (written here and in the closing note):

* While ARMED the extreme follows the cascade (waiting for exhaustion IS waiting for the last
  extreme); the stop and target are computed from it at the trigger and then frozen, so "a new
  extreme beyond the stop" can only happen while ENTERED.
* A further OI_DROP's direction is the sign of the 5 s aggressive flow at that moment; unknown
  flow counts as the same direction (fail closed: exit).
* The 1 s flow "turned" is read literally: buys >= sells (a quiet second counts), both known.
* "An OI_DROP with one-sided flow and the hit side thinning" is read as the drop together with
  the flow and the book around it, not at the instant of the event only: an OI_DROP whose flow or
  thinning does not complete the setup stays pending for ``setup_confirm_secs`` (3), and the
  first market state within it that completes the setup arms. The event fires once, when the
  10 s drop crosses its threshold on an open-interest print, and that can come in the first
  seconds of a sell-off, while the 5 s flow still holds the buying before it (seen on the
  simulator: the drop crossed 2 s into the sell-off at a 5 s flow share of -0.50; the selling
  was one-sided a moment later, and Cascade never armed). 0 keeps the instant-only reading.

The rules are pure functions of (inputs, levels, config); ``Cascade`` wires them to the runtime.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from dataclasses import replace
from typing import Final

from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveFloat

from actors.market_state import MarketState
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventKind
from controllers.protocol import Regime
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyStatus
from strategies.intents import Direction
from strategies.intents import Intent
from strategies.rulebook import Levels
from strategies.rulebook import RulebookStrategy
from strategies.rulebook import RulebookStrategyConfig

__all__ = [
    "Cascade",
    "CascadeConfig",
    "CascadeMove",
    "cascade_levels",
    "event_invalidation",
    "flow_turned",
    "setup",
    "state_invalidation",
]

_BPS: Final[float] = 10_000.0
_NS: Final[int] = 1_000_000_000
_EK = StructuralEventKind


class CascadeConfig(RulebookStrategyConfig, frozen=True, kw_only=True):
    """
    Cascade's thresholds (STRATEGIES.md defaults).

    Parameters
    ----------
    min_oi_drop_pct : float
        An OI_DROP event must report at least this drop (percent, positive) to arm.
    min_one_sided_share : float
        The 5 s aggressive flow's share in the drop's direction must be at least this.
    max_hit_thinning_ratio : float
        The hit side's thinning ratio must be at most this (the book is being pulled).
    start_lookback_secs : float
        How far back the cascade's start mid is looked for (the OI_DROP window).
    stop_buffer_bps : float
        Stop distance beyond the cascade's extreme.
    retrace_share : float
        Target: this share of the move from the start mid to the extreme, back from the extreme.
    regime_exit_confirm_secs : float
        The regime may be out of EXPANSION this long before the setup is invalidated.
    setup_confirm_secs : float
        An OI_DROP that does not complete the setup at once stays pending this long: the first
        market state within it that completes the setup arms (0: only at the event).
    """

    arm_timeout_secs: PositiveFloat = 60.0
    max_hold_secs: PositiveFloat = 180.0
    min_oi_drop_pct: PositiveFloat = 5.0
    min_one_sided_share: PositiveFloat = 0.6
    max_hit_thinning_ratio: PositiveFloat = 0.5
    start_lookback_secs: PositiveFloat = 10.0
    stop_buffer_bps: PositiveFloat = 15.0
    retrace_share: PositiveFloat = 0.5
    regime_exit_confirm_secs: NonNegativeFloat = 10.0
    setup_confirm_secs: NonNegativeFloat = 3.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.min_one_sided_share <= 1.0:
            raise ValueError(
                f"min_one_sided_share must be in (0, 1], was {self.min_one_sided_share}"
            )
        if not self.retrace_share < 1.0:
            raise ValueError(f"retrace_share must be in (0, 1), was {self.retrace_share}")


@dataclass(frozen=True, slots=True)
class CascadeMove:
    """The cascade being faded: its direction, start mid and extreme so far."""

    direction: Direction  # the trade: LONG after a long squeeze (price fell)
    start: float
    extreme: float

    @property
    def hit_side(self) -> str:
        """The side of the book the cascade hit: BID in a long squeeze."""
        return "BID" if self.direction == Direction.LONG else "ASK"

    @property
    def fall_sign(self) -> float:
        """-1 for a long squeeze (price falls), +1 for a short squeeze."""
        return -1.0 if self.direction == Direction.LONG else 1.0

    def seen(self, mid: float) -> CascadeMove:
        """The extreme updated with ``mid`` (only further in the cascade's direction)."""
        if math.isnan(mid) or (mid - self.extreme) * self.fall_sign <= 0:
            return self
        return replace(self, extreme=mid)

    def to_levels(self, refill_seen: bool = False) -> Levels:
        """As the base's ``Levels`` (stop and target NaN until the trigger)."""
        return Levels(
            extra=(
                ("start", self.start),
                ("extreme", self.extreme),
                ("long", 1.0 if self.direction == Direction.LONG else 0.0),
                ("refill_seen", 1.0 if refill_seen else 0.0),
            )
        )

    @classmethod
    def from_levels(cls, levels: Levels) -> CascadeMove:
        """Back from ``Levels``."""
        long = levels.get("long") == 1.0
        return cls(
            Direction.LONG if long else Direction.SHORT,
            levels.get("start"),
            levels.get("extreme"),
        )


def _share(buy: float, sell: float) -> float:
    if math.isnan(buy) or math.isnan(sell):
        return math.nan
    total = buy + sell
    return 0.0 if total <= 0 else (buy - sell) / total


def setup(
    event: StructuralEvent,
    state: MarketState | None,
    recent_mids: list[float],
    cfg: CascadeConfig,
) -> tuple[CascadeMove | None, str]:
    """The cascade to arm on when ``event`` completes the setup, and the one-line why."""
    if event.kind != _EK.OI_DROP:
        return None, f"{event.kind} is not an OI_DROP"
    drop = -event.value
    if drop < cfg.min_oi_drop_pct:
        return None, f"OI_DROP {event.value:+.2f}% smaller than -{cfg.min_oi_drop_pct:g}%"
    if state is None or math.isnan(state.mid):
        return None, "no market state yet"
    share = _share(state.aggr_buy_usd_5s, state.aggr_sell_usd_5s)
    if math.isnan(share) or abs(share) < cfg.min_one_sided_share:
        return None, f"5 s flow share {share:+.2f} not one-sided (>= {cfg.min_one_sided_share:g})"
    long_squeeze = share < 0
    ratio = state.bid_thinning_ratio if long_squeeze else state.ask_thinning_ratio
    side = "bid" if long_squeeze else "ask"
    if math.isnan(ratio) or ratio > cfg.max_hit_thinning_ratio:
        return None, (
            f"{side}_thinning_ratio={ratio:.2f} > {cfg.max_hit_thinning_ratio:g}: hit side not "
            "thinning"
        )
    mids = [m for m in (*recent_mids, state.mid) if not math.isnan(m)]
    if long_squeeze:
        move = CascadeMove(Direction.LONG, max(mids), min(mids))
    else:
        move = CascadeMove(Direction.SHORT, min(mids), max(mids))
    why = (
        f"OI_DROP {event.value:+.2f}% in {event.window_secs:g} s, 5 s flow share {share:+.2f} "
        f"({'sells' if long_squeeze else 'buys'}), {side}_thinning_ratio={ratio:.2f} <= "
        f"{cfg.max_hit_thinning_ratio:g}: {'long' if long_squeeze else 'short'} squeeze from "
        f"{move.start:.6g} to {move.extreme:.6g}"
    )
    return move, why


def flow_turned(state: MarketState, move: CascadeMove) -> bool:
    """The 1 s aggressive flow turned against the cascade (buys >= sells after a long squeeze)."""
    buy = state.aggr_buy_usd_1s
    sell = state.aggr_sell_usd_1s
    if math.isnan(buy) or math.isnan(sell):
        return False
    return buy >= sell if move.direction == Direction.LONG else sell >= buy


def cascade_levels(move: CascadeMove, cfg: CascadeConfig) -> tuple[float, float]:
    """(stop, target): the buffer beyond the extreme; ``retrace_share`` of the move back."""
    stop = move.extreme * (1.0 + move.fall_sign * cfg.stop_buffer_bps / _BPS)
    target = move.extreme + cfg.retrace_share * (move.start - move.extreme)
    return stop, target


def state_invalidation(state: MarketState, move: CascadeMove, stop: float) -> str | None:
    """A new extreme beyond the stop: the cascade resumed."""
    mid = state.mid
    if math.isnan(mid) or math.isnan(stop):
        return None
    if (mid - stop) * move.fall_sign > 0:
        return f"cascade resumed: mid {mid:.6g} beyond the stop {stop:.6g}"
    return None


def event_invalidation(
    event: StructuralEvent, state: MarketState | None, move: CascadeMove
) -> str | None:
    """A further OI_DROP in the same direction (read from the 5 s flow; unknown = same)."""
    if event.kind != _EK.OI_DROP:
        return None
    share = math.nan if state is None else _share(state.aggr_buy_usd_5s, state.aggr_sell_usd_5s)
    opposite = not math.isnan(share) and share * move.fall_sign < 0
    if opposite:
        return None
    return f"further OI_DROP {event.value:+.2f}% in the cascade's direction"


class Cascade(RulebookStrategy):
    """The rulebook's liquidation-snapback strategy, on the shared runtime (see module notes)."""

    def __init__(self, config: CascadeConfig) -> None:
        super().__init__(config)
        self.ccfg = config
        self._why = ""
        self._mids: deque[tuple[int, float]] = deque()
        self._left_expansion_ns: int | None = None
        self._pending_drop: StructuralEvent | None = None  # an OI_DROP not confirmed yet

    def _remember(self, state: MarketState) -> None:
        if math.isnan(state.mid):
            return
        mids = self._mids
        mids.append((state.ts_init, state.mid))
        horizon = state.ts_init - int(self.ccfg.start_lookback_secs * _NS)
        while mids and mids[0][0] < horizon:
            mids.popleft()

    def scan(self, state: MarketState) -> Levels | None:
        """Cascade arms on an OI_DROP: at the event, or on a state that confirms a pending one."""
        self._remember(state)
        pending = self._pending_drop
        if pending is None:
            return None
        waited_ns = state.ts_init - pending.ts_init
        if waited_ns > self.ccfg.setup_confirm_secs * _NS:
            self._pending_drop = None
            self.log.info(
                f"{self.id} OI_DROP not confirmed within setup_confirm_secs "
                f"{self.ccfg.setup_confirm_secs:g}: {self._why}"
            )
            return None
        move, why = setup(pending, state, [m for _, m in self._mids], self.ccfg)
        self._why = why
        if move is None:
            return None
        self._why = f"{why} (confirmed {waited_ns / _NS:.1f} s after the OI_DROP)"
        return self._arm_on(move)

    def scan_event(self, event: StructuralEvent) -> Levels | None:
        """An OI_DROP that completes the setup (one that does not stays pending)."""
        move, self._why = setup(event, self.last_state, [m for _, m in self._mids], self.ccfg)
        if move is None:
            if event.kind == _EK.OI_DROP:
                self.log.info(f"{self.id} OI_DROP without a setup: {self._why}")
                if self.ccfg.setup_confirm_secs > 0:
                    self._pending_drop = event
            return None
        return self._arm_on(move)

    def _arm_on(self, move: CascadeMove) -> Levels:
        """The levels to arm on: a fresh setup, no drop pending, the regime's clock reset."""
        self._pending_drop = None
        self._left_expansion_ns = None
        return move.to_levels()

    def setup_reason(self) -> str:
        """The inputs and thresholds that armed it."""
        return self._why

    def setup_direction(self, levels: Levels) -> str | None:
        """Against the cascade: LONG after a long squeeze, SHORT after a short squeeze."""
        return CascadeMove.from_levels(levels).direction.value

    def _refill_seen(self) -> bool:
        return self.levels.get("refill_seen") == 1.0

    def _regime_gone(self, now_ns: int) -> str | None:
        left = self._left_expansion_ns
        if left is None:
            return None
        limit = self.ccfg.regime_exit_confirm_secs
        if now_ns - left > limit * _NS:
            return f"regime out of EXPANSION for more than {limit:g} s"
        return None

    def on_armed_state(self, state: MarketState) -> Intent | str | None:
        """ENTERED: the cascade resumed? ARMED: follow the extreme, then the trigger."""
        gone = self._regime_gone(state.ts_init)
        if gone is not None:
            return gone
        move = CascadeMove.from_levels(self.levels)
        if self.state == StrategyStatus.ENTERED:
            return state_invalidation(state, move, self.levels.stop)
        if not self.entry_idle():
            return None
        move = move.seen(state.mid)
        refill = self._refill_seen()
        self.levels = replace(self.levels, extra=move.to_levels(refill).extra)
        return self._trigger(state, move, refill)

    def _trigger(self, state: MarketState, move: CascadeMove, refill: bool) -> Intent | None:
        if not refill or not flow_turned(state, move) or math.isnan(state.mid):
            return None
        # The extreme so far includes the newest quote: a BOOK_REFILL can arrive before the
        # MarketState showing the cascade's last leg (the states lag the book under load), and
        # the executor checks the stop against that quote; a stop from the older extreme would
        # sit on the wrong side of the price and the entry would be refused.
        move = move.seen(self._quote_mid())
        self.levels = replace(self.levels, extra=move.to_levels(refill).extra)
        stop, target = cascade_levels(move, self.ccfg)
        self.levels = replace(self.levels, stop=stop, target=target)
        return Intent(
            direction=move.direction,
            size_pct_equity=self.ccfg.size_pct_equity,
            stop_price=stop,
            target_price=target,
            reference_price=state.mid,
            reason=(
                f"exhaustion: BOOK_REFILL of the {move.hit_side.lower()} and 1 s flow turned "
                f"(buy {state.aggr_buy_usd_1s:.0f}, sell {state.aggr_sell_usd_1s:.0f} USD)"
            ),
        )

    def _quote_mid(self) -> float:
        """The mid of the newest quote in the cache (nan without one)."""
        quote = self.cache.quote_tick(self.instrument_id)
        if quote is None:
            return math.nan
        return (quote.bid_price.as_double() + quote.ask_price.as_double()) / 2.0

    def on_armed_event(self, event: StructuralEvent) -> Intent | str | None:
        """ENTERED: a further OI_DROP exits. ARMED: a refill of the hit side may trigger."""
        move = CascadeMove.from_levels(self.levels)
        if self.state == StrategyStatus.ENTERED:
            return event_invalidation(event, self.last_state, move)
        if event.kind == _EK.BOOK_REFILL and event.side == move.hit_side:
            self.levels = replace(self.levels, extra=move.to_levels(True).extra)
            if self.last_state is not None and self.entry_idle():
                return self._trigger(self.last_state, move, True)
        return None

    def on_regime(self, change: RegimeChange) -> str | None:
        """Out of EXPANSION starts the clock (checked on each state); back in stops it."""
        if change.regime == Regime.EXPANSION.value:
            self._left_expansion_ns = None
        elif self._left_expansion_ns is None:
            self._left_expansion_ns = change.ts_init
        return None
