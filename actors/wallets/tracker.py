"""
The wallet tracker's pure core: per-address notional, positions, holding periods, behaviours.

Hyperliquid's trade prints name both parties (``users: [buyer, seller]``), so every print moves
two addresses' estimated positions. ``WalletTracker`` keeps, per address and within a fixed
memory budget, the traded notional over a rolling window, a net position per instrument (from
its trades since first seen: an address positioned before that is estimated from flat), entry
and exit times and holding periods, and labels behaviours from what was observed so far:

- ``SHORT_HOLD``        a position closed within ``short_hold_secs`` of its entry;
- ``PRE_CASCADE_ENTRY`` when a cascade is signalled (an ``OI_DROP`` structural event), the open
                        positions entered within ``pre_cascade_secs`` before it, built mostly as
                        the aggressor and pointing the cascade's way; labelled at the signal,
                        never earlier (a cascade is known only once it happened);
- ``CASCADE_EXIT``      a position reduced while a cascade runs or within ``post_cascade_secs``.

A *manipulator* is an address labelled ``PRE_CASCADE_ENTRY``, or both ``CASCADE_EXIT`` (from a
position pointing the cascade's way: a liquidated victim exits too) and ``SHORT_HOLD``, on
positions it built mostly as the aggressor (share ``min_taker_share``: a market maker's
inventory also round-trips quickly and is covered in cascades), within ``label_ttl_secs``.
It is *active* on an instrument while it holds a position there worth at least
``min_active_position_usd``; the direction is the side of the active manipulators' summed
position.

Nothing reads a clock: time is the trades' and signals' ``ts_init`` (monotonic; an earlier
stamp counts as the latest seen), so the same input gives the same labels live and in replay.
Written here rather than taken from a library: nothing we know of tracks counterparties of
public prints; the rolling windows in ``actors.rolling`` keep every observation, which would
break the per-address memory bound, so notional uses fixed buckets instead.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from collections import deque
from dataclasses import dataclass

from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import NonNegativeInt
from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt
from nautilus_trader.model.identifiers import InstrumentId

from actors.wallets.data import Behaviour
from actors.wallets.data import ManipulatorDirection
from actors.wallets.data import ManipulatorState
from actors.wallets.data import WalletBehaviour
from actors.wallets.data import new_manipulator_state
from actors.wallets.data import new_wallet_behaviour

__all__ = [
    "PositionView",
    "WalletThresholds",
    "WalletTracker",
    "WalletView",
]

_NS = 1_000_000_000
_NAN = math.nan
_PRE = Behaviour.PRE_CASCADE_ENTRY.value
_EXIT = Behaviour.CASCADE_EXIT.value
_SHORT = Behaviour.SHORT_HOLD.value
_NO_LABELS: dict[str, int] = {}
_NONE = ManipulatorDirection.NONE.value
_LONG = ManipulatorDirection.LONG.value
_SHORT_SIDE = ManipulatorDirection.SHORT.value


_POSITIVE_FIELDS = (
    "max_addresses",
    "notional_window_secs",
    "notional_bucket_secs",
    "large_min_notional_usd",
    "short_hold_secs",
    "pre_cascade_secs",
    "cascade_quiet_secs",
    "cascade_direction_lookback_secs",
    "min_position_usd",
    "min_active_position_usd",
    "label_ttl_secs",
    "flat_usd",
)


class WalletThresholds(NautilusConfig, frozen=True, kw_only=True):
    """
    Memory bound, windows and thresholds of the wallet tracker.

    Memory: an address with one open position costs about 1.6 KB, and up to about 3.2 KB once
    its whole notional window is filled (one bucket per ``notional_bucket_secs``); measured
    with tracemalloc by ``benchmarks/bench_wallets.py``. The default cap of 10,000 addresses
    therefore holds 15-30 MB (a further instrument per address adds a position, ~0.3 KB).
    When the cap is reached, the address traded least recently is evicted (its position
    estimate and labels are forgotten; if it comes back it starts from flat).

    Parameters
    ----------
    max_addresses : int, default 10_000
        Tracked addresses at most (the least recently traded is evicted first).
    notional_window_secs : float, default 900
        Window of the rolling traded notional.
    notional_bucket_secs : float, default 60
        Bucket of that window (the window is counted in whole buckets; memory per address is
        bounded by window / bucket).
    large_min_notional_usd : float, default 250_000
        An address is large when its rolling notional reaches this ...
    large_top_n : int, default 20
        ... or when it is among the top N by rolling notional (0: threshold only; the top N is
        refreshed on ``refresh``, i.e. on the actor's timer, not per trade).
    short_hold_secs : float, default 300
        A position closed within this of its entry is a short hold.
    pre_cascade_secs : float, default 120
        Entries this long before a cascade's signal count as pre-cascade entries.
    post_cascade_secs : float, default 30
        Exits this long after a cascade ended still count as cascade exits.
    cascade_quiet_secs : float, default 30
        A cascade ends this long after its latest signal; a signal after that starts a new one.
    cascade_direction_lookback_secs : float, default 30
        The cascade's direction is the price move over this look-back before its signal.
    min_cascade_move_bps : float, default 20
        Smaller moves leave the direction unknown (no pre-cascade labels for that cascade).
    min_position_usd : float, default 100_000
        Labels concern positions whose peak notional reached this (small churn is ignored).
    min_taker_share : float, default 0.5
        Share of the position's building notional the address took as the aggressor, at least,
        for a pre-cascade entry, and for a short hold or cascade exit to count toward
        manipulation (a market maker filled passively is not a hunter).
    min_active_position_usd : float, default 10_000
        A manipulator is active on an instrument while its position there is at least this.
    label_ttl_secs : float, default 3600
        Labels older than this no longer make an address a manipulator.
    flat_usd : float, default 10
        A position below this notional counts as flat (the venue's minimum order is $10).

    """

    max_addresses: PositiveInt = 10_000
    notional_window_secs: PositiveFloat = 900.0
    notional_bucket_secs: PositiveFloat = 60.0
    large_min_notional_usd: PositiveFloat = 250_000.0
    large_top_n: NonNegativeInt = 20
    short_hold_secs: PositiveFloat = 300.0
    pre_cascade_secs: PositiveFloat = 120.0
    post_cascade_secs: NonNegativeFloat = 30.0
    cascade_quiet_secs: PositiveFloat = 30.0
    cascade_direction_lookback_secs: PositiveFloat = 30.0
    min_cascade_move_bps: NonNegativeFloat = 20.0
    min_position_usd: PositiveFloat = 100_000.0
    min_taker_share: NonNegativeFloat = 0.5
    min_active_position_usd: PositiveFloat = 10_000.0
    label_ttl_secs: PositiveFloat = 3600.0
    flat_usd: PositiveFloat = 10.0

    def __post_init__(self) -> None:
        """Fail at construction naming the field (type bounds are only checked by ``parse``)."""
        for name in _POSITIVE_FIELDS:
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be positive and finite, was {value}")
        for name in ("large_top_n", "post_cascade_secs", "min_cascade_move_bps"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be non-negative and finite, was {value}")
        if self.notional_bucket_secs > self.notional_window_secs:
            raise ValueError(
                f"notional_bucket_secs ({self.notional_bucket_secs}) must not exceed "
                f"notional_window_secs ({self.notional_window_secs})",
            )
        if not 0.0 <= self.min_taker_share <= 1.0:
            raise ValueError(f"min_taker_share must be in [0, 1], was {self.min_taker_share}")
        if self.min_active_position_usd < self.flat_usd:
            raise ValueError(
                f"min_active_position_usd ({self.min_active_position_usd}) must be at least "
                f"flat_usd ({self.flat_usd})",
            )


@dataclass(frozen=True)
class PositionView:
    """An address's estimated position on one instrument (a copy, for logs and tests)."""

    qty: float
    notional_usd: float
    entry_ns: int
    last_exit_ns: int
    peak_usd: float
    taker_share: float


@dataclass(frozen=True)
class WalletView:
    """What the tracker knows of one address (a copy, for logs and tests)."""

    address: str
    first_seen_ns: int
    last_seen_ns: int
    rolling_notional_usd: float
    positions: dict[InstrumentId, PositionView]
    holds: int
    last_holding_secs: float
    mean_holding_secs: float
    labels: dict[str, int]


class _Position:
    __slots__ = (
        "build_usd",
        "entry_ns",
        "exit_cascade_ns",
        "last_exit_ns",
        "peak_usd",
        "px",
        "qty",
        "taker_usd",
    )

    def __init__(self) -> None:
        self.qty = 0.0
        self.px = 0.0
        self.entry_ns = 0
        self.last_exit_ns = 0
        self.build_usd = 0.0
        self.taker_usd = 0.0
        self.peak_usd = 0.0
        self.exit_cascade_ns = -1


class _Wallet:
    __slots__ = (
        "address",
        "buckets",
        "first_ns",
        "hold_secs_sum",
        "holds",
        "labels",
        "last_hold_secs",
        "last_ns",
        "notional",
        "positions",
        "taker_labels",
    )

    def __init__(self, address: str, ts_ns: int) -> None:
        self.address = address
        self.first_ns = ts_ns
        self.last_ns = ts_ns
        self.buckets: deque[list[float]] = deque()
        self.notional = 0.0
        self.positions: dict[InstrumentId, _Position] = {}
        # Most addresses are never labelled: share one empty (never written) dict until then.
        self.labels: dict[str, int] = _NO_LABELS
        self.taker_labels: dict[str, int] = _NO_LABELS
        self.holds = 0
        self.hold_secs_sum = 0.0
        self.last_hold_secs = _NAN


class _Cascade:
    __slots__ = ("direction", "last_ns", "start_ns")

    def __init__(self, start_ns: int, direction: int) -> None:
        self.start_ns = start_ns
        self.last_ns = start_ns
        self.direction = direction


class WalletTracker:
    """
    Per-address state from trade prints, behaviour labels, and manipulator state per instrument.

    Feed ``on_trade`` and ``on_cascade_signal``; new labels collect in ``behaviours`` and
    manipulator state changes in ``states`` (the caller publishes and clears them).
    """

    def __init__(self, thresholds: WalletThresholds | None = None) -> None:
        t = thresholds or WalletThresholds()
        self.thresholds = t
        self._bucket_ns = int(t.notional_bucket_secs * _NS)
        self._n_buckets = max(1, round(t.notional_window_secs / t.notional_bucket_secs))
        self._short_hold_ns = int(t.short_hold_secs * _NS)
        self._pre_ns = int(t.pre_cascade_secs * _NS)
        self._post_ns = int(t.post_cascade_secs * _NS)
        self._quiet_ns = int(t.cascade_quiet_secs * _NS)
        self._lookback_ns = int(t.cascade_direction_lookback_secs * _NS)
        self._ttl_ns = int(t.label_ttl_secs * _NS)
        self._flat_usd = t.flat_usd
        self._min_pos_usd = t.min_position_usd
        self._min_active_usd = t.min_active_position_usd
        self._max = t.max_addresses
        self.behaviours: list[WalletBehaviour] = []
        self.states: list[ManipulatorState] = []
        self.reset()

    def reset(self) -> None:
        """Forget everything (addresses, cascades, labels, published states)."""
        self._wallets: OrderedDict[str, _Wallet] = OrderedDict()
        self._open: dict[InstrumentId, dict[str, None]] = {}
        self._manipulators: dict[str, None] = {}
        self._cascades: dict[InstrumentId, _Cascade] = {}
        self._prices: dict[InstrumentId, deque[tuple[int, float]]] = {}
        self._last_state: dict[InstrumentId, tuple[bool, str, str]] = {}
        self._top_n: frozenset[str] = frozenset()
        self._now = 0
        self.behaviours.clear()
        self.states.clear()
        self.trades = 0
        self.evictions = 0

    # -- inputs ------------------------------------------------------------------------------

    def on_trade(
        self,
        instrument_id: InstrumentId,
        ts_ns: int,
        price: float,
        size: float,
        buyer_aggressed: bool,
        buyer: str,
        seller: str,
    ) -> None:
        """One public print: ``buyer`` bought ``size`` from ``seller`` at ``price``."""
        if ts_ns > self._now:
            self._now = ts_ns
        now = self._now
        self.trades += 1
        usd = price * size
        prices = self._prices.get(instrument_id)
        if prices is None:
            prices = self._prices[instrument_id] = deque()
        if not prices or now - prices[-1][0] >= _NS:
            prices.append((now, price))
            cutoff = now - self._lookback_ns - _NS
            while prices[0][0] < cutoff:
                prices.popleft()
        manipulators = self._manipulators
        touched = False
        if buyer:
            wallet = self._touch(buyer, now)
            self._fill(wallet, instrument_id, now, price, size, usd, buyer_aggressed)
            touched = buyer in manipulators
        if seller:
            wallet = self._touch(seller, now)
            self._fill(wallet, instrument_id, now, price, -size, usd, not buyer_aggressed)
            touched = touched or seller in manipulators
        if touched:
            self._refresh_state(instrument_id, now)

    def on_cascade_signal(self, instrument_id: InstrumentId, ts_ns: int) -> None:
        """A cascade is under way on the instrument (an ``OI_DROP`` event was published)."""
        if ts_ns > self._now:
            self._now = ts_ns
        now = self._now
        cascade = self._cascades.get(instrument_id)
        if cascade is not None and now - cascade.last_ns <= self._quiet_ns:
            cascade.last_ns = now
            return
        direction = self._direction(instrument_id, now)
        self._cascades[instrument_id] = _Cascade(now, direction)
        if direction == 0:
            return
        for address in list(self._open.get(instrument_id, ())):
            wallet = self._wallets[address]
            pos = wallet.positions[instrument_id]
            notional = abs(pos.qty) * pos.px
            if (
                now - pos.entry_ns <= self._pre_ns
                and (pos.qty > 0) == (direction > 0)
                and pos.peak_usd >= self._min_pos_usd
                and notional >= self._min_active_usd
                and pos.build_usd > 0
                and pos.taker_usd / pos.build_usd >= self.thresholds.min_taker_share
            ):
                self._label(wallet, instrument_id, pos, _PRE, now, 0, now)
        self._refresh_state(instrument_id, now)

    def refresh(self, now_ns: int) -> None:
        """Periodic work: the top-N set and label expiry (the actor calls this on its timer)."""
        if now_ns > self._now:
            self._now = now_ns
        now = self._now
        n = self.thresholds.large_top_n
        if n > 0:
            top = heapq.nlargest(n, self._wallets.values(), key=lambda w: self._notional(w, now))
            self._top_n = frozenset(w.address for w in top if w.notional > 0.0)
        for instrument_id in list(self._last_state):
            self._refresh_state(instrument_id, now)

    # -- queries -----------------------------------------------------------------------------

    @property
    def n_addresses(self) -> int:
        """Addresses tracked now."""
        return len(self._wallets)

    def rolling_notional(self, address: str, now_ns: int) -> float:
        """Traded notional of ``address`` over the window at ``now_ns`` (0 if unknown)."""
        wallet = self._wallets.get(address)
        return 0.0 if wallet is None else self._notional(wallet, max(now_ns, self._now))

    def is_large(self, address: str, now_ns: int) -> bool:
        """Above the notional threshold, or in the top N as of the latest ``refresh``."""
        if address in self._top_n and address in self._wallets:
            return True
        return self.rolling_notional(address, now_ns) >= self.thresholds.large_min_notional_usd

    def large_wallets(self, now_ns: int) -> list[tuple[str, float]]:
        """The large addresses with their rolling notional, largest first (O(addresses))."""
        now = max(now_ns, self._now)
        floor = self.thresholds.large_min_notional_usd
        out = []
        for wallet in self._wallets.values():
            usd = self._notional(wallet, now)
            if usd >= floor or wallet.address in self._top_n:
                out.append((wallet.address, usd))
        out.sort(key=lambda pair: (-pair[1], pair[0]))
        return out

    def is_manipulator(self, address: str, now_ns: int) -> bool:
        """Whether the address's labels make it a manipulator at ``now_ns``."""
        wallet = self._wallets.get(address)
        return wallet is not None and self._is_manipulator(wallet, max(now_ns, self._now))

    def manipulator_state(self, instrument_id: InstrumentId, now_ns: int) -> ManipulatorState:
        """The manipulator state of the instrument at ``now_ns`` (computed, not cached)."""
        return self._compute_state(instrument_id, max(now_ns, self._now))

    def wallet(self, address: str) -> WalletView | None:
        """A copy of what is known of ``address`` (None if not tracked)."""
        w = self._wallets.get(address)
        if w is None:
            return None
        positions = {
            iid: PositionView(
                qty=p.qty,
                notional_usd=abs(p.qty) * p.px,
                entry_ns=p.entry_ns,
                last_exit_ns=p.last_exit_ns,
                peak_usd=p.peak_usd,
                taker_share=p.taker_usd / p.build_usd if p.build_usd > 0 else _NAN,
            )
            for iid, p in w.positions.items()
        }
        return WalletView(
            address=w.address,
            first_seen_ns=w.first_ns,
            last_seen_ns=w.last_ns,
            rolling_notional_usd=self._notional(w, self._now),
            positions=positions,
            holds=w.holds,
            last_holding_secs=w.last_hold_secs,
            mean_holding_secs=w.hold_secs_sum / w.holds if w.holds else _NAN,
            labels=dict(w.labels),
        )

    # -- internals ---------------------------------------------------------------------------

    def _touch(self, address: str, now: int) -> _Wallet:
        wallets = self._wallets
        wallet = wallets.get(address)
        if wallet is None:
            if len(wallets) >= self._max:
                self._evict()
            wallet = wallets[address] = _Wallet(address, now)
        else:
            wallets.move_to_end(address)
            wallet.last_ns = now
        return wallet

    def _evict(self) -> None:
        _, wallet = self._wallets.popitem(last=False)
        self.evictions += 1
        was_manipulator = self._manipulators.pop(wallet.address, 0) is None
        for iid in wallet.positions:
            opened = self._open.get(iid)
            if opened is not None and wallet.address in opened:
                del opened[wallet.address]
                if was_manipulator:
                    self._refresh_state(iid, self._now)

    def _fill(
        self,
        wallet: _Wallet,
        iid: InstrumentId,
        now: int,
        price: float,
        dq: float,
        usd: float,
        aggressive: bool,
    ) -> None:
        # Rolling notional in fixed buckets.
        bucket = now // self._bucket_ns
        buckets = wallet.buckets
        if buckets and buckets[-1][0] == bucket:
            buckets[-1][1] += usd
        else:
            buckets.append([bucket, usd])
            floor = bucket - self._n_buckets
            while buckets[0][0] <= floor:
                wallet.notional -= buckets.popleft()[1]
        wallet.notional += usd

        pos = wallet.positions.get(iid)
        if pos is None:
            pos = wallet.positions[iid] = _Position()
        old = pos.qty
        pos.px = price
        flat_qty = self._flat_usd / price
        new = old + dq
        if abs(new) < flat_qty:
            new = 0.0
        was_flat = abs(old) < flat_qty
        if was_flat or (old > 0) == (dq > 0):
            if was_flat:
                self._open_position(wallet, iid, pos, now)
            pos.build_usd += usd
            if aggressive:
                pos.taker_usd += usd
            pos.qty = new
            peak = abs(new) * price
            if peak > pos.peak_usd:
                pos.peak_usd = peak
            return
        # A reduction, a close or a flip.
        pos.last_exit_ns = now
        if self._cascades:
            self._maybe_cascade_exit(wallet, iid, pos, now)
        if new == 0.0 or (new > 0) != (old > 0):
            holding_ns = now - pos.entry_ns
            secs = holding_ns / _NS
            wallet.holds += 1
            wallet.hold_secs_sum += secs
            wallet.last_hold_secs = secs
            if holding_ns <= self._short_hold_ns and pos.peak_usd >= self._min_pos_usd:
                self._label(wallet, iid, pos, _SHORT, now, now, 0)
            opened = self._open.get(iid)
            if opened is not None:
                opened.pop(wallet.address, None)
            pos.qty = new
            if new != 0.0:  # flipped: the remainder is a new position
                self._open_position(wallet, iid, pos, now)
                flip_usd = abs(new) * price
                pos.build_usd = flip_usd
                pos.taker_usd = flip_usd if aggressive else 0.0
                pos.peak_usd = flip_usd
            return
        pos.qty = new

    def _open_position(self, wallet: _Wallet, iid: InstrumentId, pos: _Position, now: int) -> None:
        pos.entry_ns = now
        pos.build_usd = 0.0
        pos.taker_usd = 0.0
        pos.peak_usd = 0.0
        pos.exit_cascade_ns = -1
        opened = self._open.get(iid)
        if opened is None:
            opened = self._open[iid] = {}
        opened[wallet.address] = None

    def _maybe_cascade_exit(
        self, wallet: _Wallet, iid: InstrumentId, pos: _Position, now: int
    ) -> None:
        cascade = self._cascades.get(iid)
        if (
            cascade is None
            or pos.exit_cascade_ns == cascade.start_ns
            or pos.peak_usd < self._min_pos_usd
            or now < cascade.start_ns
            or now - cascade.last_ns > self._quiet_ns + self._post_ns
        ):
            return
        pos.exit_cascade_ns = cascade.start_ns
        # Only an exit from a position pointing the cascade's way (taking profit into the
        # forced flow) counts toward manipulation; a liquidated victim exits too.
        with_cascade = cascade.direction != 0 and (pos.qty > 0) == (cascade.direction > 0)
        self._label(wallet, iid, pos, _EXIT, now, now, cascade.start_ns, with_cascade)

    def _label(
        self,
        wallet: _Wallet,
        iid: InstrumentId,
        pos: _Position,
        behaviour: str,
        now: int,
        exit_ns: int,
        cascade_ns: int,
        counts: bool = True,
    ) -> None:
        if wallet.labels is _NO_LABELS:
            wallet.labels = {}
            wallet.taker_labels = {}
        wallet.labels[behaviour] = now
        taker_share = pos.taker_usd / pos.build_usd if pos.build_usd > 0 else 0.0
        if counts and taker_share >= self.thresholds.min_taker_share:
            wallet.taker_labels[behaviour] = now
        holding = (exit_ns - pos.entry_ns) / _NS if exit_ns else _NAN
        self.behaviours.append(
            new_wallet_behaviour(
                now,
                instrument_id=iid,
                address=wallet.address,
                behaviour=behaviour,
                position_usd=math.copysign(abs(pos.qty) * pos.px, pos.qty),
                entry_ns=pos.entry_ns,
                exit_ns=exit_ns,
                holding_secs=holding,
                cascade_ns=cascade_ns,
                rolling_notional_usd=self._notional(wallet, now),
                is_large=self.is_large(wallet.address, now),
                taker_share=taker_share,
            ),
        )
        if wallet.address not in self._manipulators and self._is_manipulator(wallet, now):
            self._manipulators[wallet.address] = None
            for other in wallet.positions:
                if other != iid:
                    self._refresh_state(other, now)
            self._refresh_state(iid, now)

    def _is_manipulator(self, wallet: _Wallet, now: int) -> bool:
        labels = wallet.taker_labels
        floor = now - self._ttl_ns
        if labels.get(_PRE, -1) >= floor:
            return True
        return (
            _EXIT in labels
            and _SHORT in labels
            and labels[_EXIT] >= floor
            and labels[_SHORT] >= floor
        )

    def _notional(self, wallet: _Wallet, now: int) -> float:
        buckets = wallet.buckets
        floor = now // self._bucket_ns - self._n_buckets
        while buckets and buckets[0][0] <= floor:
            wallet.notional -= buckets.popleft()[1]
        if not buckets:
            wallet.notional = 0.0
        return wallet.notional

    def _direction(self, iid: InstrumentId, now: int) -> int:
        prices = self._prices.get(iid)
        if not prices:
            return 0
        cutoff = now - self._lookback_ns
        ref = prices[-1][1]
        for ts, px in prices:
            if ts >= cutoff:
                ref = px
                break
        last = prices[-1][1]
        move_bps = (last / ref - 1.0) * 10_000.0
        if move_bps <= -self.thresholds.min_cascade_move_bps and move_bps < 0:
            return -1
        if move_bps >= self.thresholds.min_cascade_move_bps and move_bps > 0:
            return 1
        return 0

    def _strongest(self, iid: InstrumentId, now: int) -> tuple[_Wallet | None, float, int]:
        """The largest active manipulator on ``iid``, the summed signed notional, the count."""
        net = 0.0
        best: _Wallet | None = None
        best_usd = 0.0
        n_active = 0
        for address in list(self._manipulators):
            wallet = self._wallets.get(address)
            if wallet is None:
                continue
            if not self._is_manipulator(wallet, now):
                del self._manipulators[address]
                continue
            pos = wallet.positions.get(iid)
            if pos is None:
                continue
            usd = abs(pos.qty) * pos.px
            if usd < self._min_active_usd:
                continue
            n_active += 1
            net += usd if pos.qty > 0 else -usd
            if usd > best_usd:
                best, best_usd = wallet, usd
        if best is not None and net == 0.0:
            net = best.positions[iid].qty
        return best, net, n_active

    def _compute_state(self, iid: InstrumentId, now: int) -> ManipulatorState:
        best, net, n_active = self._strongest(iid, now)
        if best is None:
            return new_manipulator_state(now, instrument_id=iid)
        pos = best.positions[iid]
        direction = ManipulatorDirection.LONG if net > 0 else ManipulatorDirection.SHORT
        return new_manipulator_state(
            now,
            instrument_id=iid,
            is_manipulator_active=True,
            manipulator_direction=direction.value,
            address=best.address,
            position_usd=math.copysign(abs(pos.qty) * pos.px, pos.qty),
            behaviours=",".join(sorted(best.labels)),
            n_active=n_active,
        )

    def _refresh_state(self, iid: InstrumentId, now: int) -> None:
        best, net, _ = self._strongest(iid, now)
        if best is None:
            key = (False, _NONE, "")
        else:
            key = (True, _LONG if net > 0 else _SHORT_SIDE, best.address)
        previous = self._last_state.get(iid)
        if previous == key:
            return
        self._last_state[iid] = key
        if previous is None and best is None:
            return
        self.states.append(self._compute_state(iid, now))

    def last_states(self) -> dict[InstrumentId, tuple[bool, str, str]]:
        """The latest (active, direction, address) per instrument (for the heartbeat)."""
        return dict(self._last_state)
