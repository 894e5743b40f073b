"""
Structural events: facts about the market ("OI dropped 5% in 10 s"), never trading signals.

``StructuralEventDetector`` is pure: the state builder feeds it timestamped inputs and publishes
the ``StructuralEvent`` custom data it returns. Thresholds come from a frozen config and every
event kind has hysteresis, so a value hovering around its threshold does not make events flap.
"""

from __future__ import annotations

import math
from enum import StrEnum
from enum import unique
from typing import Any

import msgspec
from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveFloat
from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from actors.rolling import NANOS_PER_SECOND
from actors.rolling import RollingChange
from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "STRUCTURAL_EVENT_DATA_TYPE",
    "BookSide",
    "StructuralEvent",
    "StructuralEventDetector",
    "StructuralEventKind",
    "StructuralEventThresholds",
    "StructuralMetrics",
]


@unique
class StructuralEventKind(StrEnum):
    """What happened; the event's ``kind`` field holds the value (a ``(str, Enum)``)."""

    OI_DROP = "OI_DROP"
    OI_SURGE = "OI_SURGE"
    BID_DEPTH_LOW = "BID_DEPTH_LOW"
    ASK_DEPTH_LOW = "ASK_DEPTH_LOW"
    ABSORPTION = "ABSORPTION"
    FUNDING_ACCELERATION = "FUNDING_ACCELERATION"
    DEPTH_THINNING = "DEPTH_THINNING"
    BOOK_REFILL = "BOOK_REFILL"


@unique
class BookSide(StrEnum):
    """The book side an event concerns (DEPTH_THINNING, BOOK_REFILL); "" on the others."""

    BID = "BID"
    ASK = "ASK"


# Event kinds that fire per book side, each side with its own hysteresis latch.
_PER_SIDE_KINDS = frozenset({StructuralEventKind.DEPTH_THINNING, StructuralEventKind.BOOK_REFILL})
_BID = BookSide.BID.value
_ASK = BookSide.ASK.value
_BID_DEPTH_LOW = StructuralEventKind.BID_DEPTH_LOW.value
_ASK_DEPTH_LOW = StructuralEventKind.ASK_DEPTH_LOW.value
_DEPTH_THINNING = StructuralEventKind.DEPTH_THINNING.value
_BOOK_REFILL = StructuralEventKind.BOOK_REFILL.value
_ABSORPTION = StructuralEventKind.ABSORPTION.value


@customdataclass_resolved
class StructuralEvent(Data):
    """
    One structural fact about an instrument, published as custom data.

    ``kind`` is a ``StructuralEventKind`` value; ``value`` is the measured quantity and
    ``threshold`` the configured level it crossed, in the units of that kind:

    - OI_DROP / OI_SURGE: OI change in percent over ``window_secs`` (drop is negative);
    - BID_DEPTH_LOW / ASK_DEPTH_LOW: USD depth within ``depth_low_bps`` of mid (``window_secs`` 0);
    - ABSORPTION: aggressive USD that did not move the mid, + bought / - sold;
    - FUNDING_ACCELERATION: funding-rate change per hour over ``window_secs`` (signed);
    - DEPTH_THINNING: depth / baseline ratio (baseline over ``window_secs``);
    - BOOK_REFILL: seconds the book took to refill; ``threshold`` is the refill share.

    ``side`` is a ``BookSide`` value for the kinds that concern one side of the book
    (DEPTH_THINNING, BOOK_REFILL: they fire per side) and "" for every other kind.

    Kept as plain str fields (not the enums) so they serialise to Arrow / the catalog unchanged.
    """

    kind: str = ""
    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    value: float = 0.0
    threshold: float = 0.0
    window_secs: float = 0.0
    side: str = ""


# Publish and subscribe with exactly this DataType (no `instrument_id` metadata): in
# NautilusTrader 1.231 a subscription with `instrument_id=` does not match `publish_data`.
STRUCTURAL_EVENT_DATA_TYPE = DataType(StructuralEvent)


class StructuralEventThresholds(NautilusConfig, frozen=True, kw_only=True):
    """
    Thresholds, windows and hysteresis for structural events.

    The state builder also builds its trackers from these (e.g. ``AbsorptionTracker`` from the
    ``absorption_*`` fields), so there is one source of truth for every parameter.

    Parameters
    ----------
    oi_drop_pct : float
        OI_DROP fires when OI fell by at least this many percent over ``oi_drop_window_secs``.
    oi_drop_window_secs : float
        Window of the OI drop.
    oi_surge_pct : float
        OI_SURGE fires when OI rose by at least this many percent over ``oi_surge_window_secs``.
    oi_surge_window_secs : float
        Window of the OI surge.
    depth_low_usd : float
        BID/ASK_DEPTH_LOW fire when that side's USD depth within ``depth_low_bps`` is below this.
    depth_low_bps : float
        Band (basis points from mid) in which the depth-low depth is measured.
    absorption_min_usd : float
        Minimum aggressive USD over ``absorption_window_secs`` to call it absorption.
    absorption_max_move_bps : float
        Absorption only if the mid moved (in the aggressor's direction) less than this.
    absorption_window_secs : float
        Window for absorption.
    funding_accel_per_hour : float
        FUNDING_ACCELERATION fires when |funding-rate change| per hour over
        ``funding_window_secs`` reaches this (rate units, e.g. 0.0001 = 1 bp/h per hour).
    funding_window_secs : float
        Window over which the funding change is measured.
    thinning_ratio : float
        DEPTH_THINNING fires when depth / baseline is at or below this ratio.
    thinning_baseline_window_secs : float
        Window of the depth baseline (time-weighted mean).
    refill_share : float
        Share of the pre-sweep depth that counts as refilled (BOOK_REFILL).
    sweep_drop_share : float
        Drop (share of the pre-sweep depth) that counts as a sweep.
    hysteresis_share : float
        An event re-arms only after its value has cleared the threshold by this share
        (e.g. 0.2: an OI drop of 5% re-arms once the drop is under 4%).
    rearm_secs : float
        Minimum time between two events of the same kind for the same instrument.

    """

    oi_drop_pct: PositiveFloat = 5.0
    oi_drop_window_secs: PositiveFloat = 10.0
    oi_surge_pct: PositiveFloat = 5.0
    oi_surge_window_secs: PositiveFloat = 10.0
    depth_low_usd: PositiveFloat = 100_000.0
    depth_low_bps: PositiveFloat = 20.0
    absorption_min_usd: PositiveFloat = 250_000.0
    absorption_max_move_bps: PositiveFloat = 2.0
    absorption_window_secs: PositiveFloat = 5.0
    funding_accel_per_hour: PositiveFloat = 0.0001
    funding_window_secs: PositiveFloat = 3600.0
    thinning_ratio: PositiveFloat = 0.5
    thinning_baseline_window_secs: PositiveFloat = 900.0
    refill_share: PositiveFloat = 0.8
    sweep_drop_share: PositiveFloat = 0.5
    hysteresis_share: NonNegativeFloat = 0.2
    rearm_secs: NonNegativeFloat = 5.0

    def __post_init__(self) -> None:
        """Fail at start-up on values that cannot mean anything (also on direct construction)."""
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0.0:
                raise ValueError(f"{name} must be a finite number >= 0, was {value}")
            if value == 0.0 and name not in ("hysteresis_share", "rearm_secs"):
                raise ValueError(f"{name} must be > 0, was {value}")
        if self.thinning_ratio >= 1.0:
            raise ValueError(f"thinning_ratio must be < 1, was {self.thinning_ratio}")
        if self.refill_share > 1.0:
            raise ValueError(f"refill_share must be <= 1, was {self.refill_share}")
        if self.sweep_drop_share >= 1.0:
            raise ValueError(f"sweep_drop_share must be < 1, was {self.sweep_drop_share}")
        if self.hysteresis_share >= 1.0:
            raise ValueError(f"hysteresis_share must be < 1, was {self.hysteresis_share}")


class StructuralMetrics(msgspec.Struct, frozen=True, kw_only=True):
    """
    Inputs of one ``StructuralEventDetector.on_metrics`` call; ``None`` means "no new reading".

    Levels whose windows belong to the events (OI, funding rate) are passed raw and windowed by
    the detector itself. Book and flow metrics come from the state builder's trackers, built
    from the same ``StructuralEventThresholds``:

    - ``open_interest``: OI level (base units), windowed by the detector;
    - ``funding_rate``: current funding rate, windowed by the detector;
    - ``bid_depth_usd`` / ``ask_depth_usd``: USD depth within ``depth_low_bps`` of mid;
    - ``bid_thinning_ratio`` / ``ask_thinning_ratio``: ``DepthThinningTracker`` output per side
      (baseline window from config);
    - ``absorbed_usd``: ``AbsorptionReading.absorbed_usd`` (0.0 when nothing is absorbed);
    - ``bid_refill_secs`` / ``ask_refill_secs``: ``BookRefillTracker.update`` output when that
      side's refill completes.
    """

    open_interest: float | None = None
    funding_rate: float | None = None
    bid_depth_usd: float | None = None
    ask_depth_usd: float | None = None
    bid_thinning_ratio: float | None = None
    ask_thinning_ratio: float | None = None
    absorbed_usd: float | None = None
    bid_refill_secs: float | None = None
    ask_refill_secs: float | None = None


class _Latch:
    """
    Hysteresis for one event kind: fire on entry, re-arm only after a clear release.

    Fires when armed and the trigger condition holds; disarms; re-arms once the release
    condition holds and at least ``rearm_ns`` have passed since it fired.
    """

    __slots__ = ("_armed", "_fired_ts", "_rearm_ns")

    def __init__(self, rearm_ns: int) -> None:
        self._armed = True
        self._fired_ts: int | None = None
        self._rearm_ns = rearm_ns

    def step(self, ts_ns: int, triggered: bool, released: bool) -> bool:
        """Advance with one reading; return True when the event fires."""
        fired_ts = self._fired_ts
        if (
            not self._armed
            and released
            and (fired_ts is None or ts_ns - fired_ts >= self._rearm_ns)
        ):
            self._armed = True
        if self._armed and triggered:
            self._armed = False
            self._fired_ts = ts_ns
            return True
        return False

    @property
    def armed(self) -> bool:
        """Whether the next trigger fires."""
        return self._armed

    def reset(self) -> None:
        """Re-arm and forget the last firing time."""
        self._armed = True
        self._fired_ts = None


class StructuralEventDetector:
    """
    Turns one instrument's metrics into structural events, with hysteresis.

    Typed inputs: call ``on_metrics(ts_ns, StructuralMetrics(...))`` with whichever readings are
    new at ``ts_ns`` (normally the ``ts_init`` of the data that produced them); it returns the
    events that fired, in a fixed order (the order of ``StructuralEventKind``), each stamped
    ``ts_event = ts_init = ts_ns``. Deterministic: same inputs, same events.

    Hysteresis per kind: an event fires when its condition becomes true and cannot fire again
    until the value has cleared the threshold by ``hysteresis_share`` (e.g. depth back above
    ``depth_low_usd * 1.2``) and ``rearm_secs`` have passed. BOOK_REFILL, already a one-off
    per sweep, is only rate-limited by ``rearm_secs``.
    """

    def __init__(
        self,
        instrument_id: InstrumentId,
        thresholds: StructuralEventThresholds | None = None,
    ) -> None:
        self.instrument_id = instrument_id
        self.thresholds = thresholds or StructuralEventThresholds()
        t = self.thresholds
        self._oi_drop = RollingChange(_secs_to_ns(t.oi_drop_window_secs))
        self._oi_surge = RollingChange(_secs_to_ns(t.oi_surge_window_secs))
        self._funding = RollingChange(_secs_to_ns(t.funding_window_secs))
        rearm_ns = _secs_to_ns(t.rearm_secs)
        # One latch per kind, and per side for the kinds that fire per side.
        self._latches: dict[tuple[StructuralEventKind, str], _Latch] = {}
        for kind in StructuralEventKind:
            sides = (BookSide.BID.value, BookSide.ASK.value) if kind in _PER_SIDE_KINDS else ("",)
            for side in sides:
                self._latches[(kind, side)] = _Latch(rearm_ns)
        self._keep = 1.0 - t.hysteresis_share
        self._widen = 1.0 + t.hysteresis_share
        # The latches and thresholds of the per-book-update kinds, resolved once.
        latches = self._latches
        self._bid_depth_latch = latches[(StructuralEventKind.BID_DEPTH_LOW, "")]
        self._ask_depth_latch = latches[(StructuralEventKind.ASK_DEPTH_LOW, "")]
        self._bid_thinning_latch = latches[(StructuralEventKind.DEPTH_THINNING, _BID)]
        self._ask_thinning_latch = latches[(StructuralEventKind.DEPTH_THINNING, _ASK)]
        self._bid_refill_latch = latches[(StructuralEventKind.BOOK_REFILL, _BID)]
        self._ask_refill_latch = latches[(StructuralEventKind.BOOK_REFILL, _ASK)]
        self._absorption_latch = latches[(StructuralEventKind.ABSORPTION, "")]
        self._depth_low_usd = t.depth_low_usd
        self._depth_release = t.depth_low_usd * self._widen

    def is_armed(self, kind: StructuralEventKind, side: BookSide | None = None) -> bool:
        """Whether ``kind`` (on ``side`` for per-side kinds) can fire on its next trigger."""
        return self._latches[(kind, "" if side is None else side.value)].armed

    def on_metrics(self, ts_ns: int, metrics: StructuralMetrics) -> list[StructuralEvent]:
        """Feed the readings available at ``ts_ns``; return the events that fired (maybe none)."""
        events: list[StructuralEvent] = []
        m = metrics
        if m.open_interest is not None:
            self._open_interest_events(events, ts_ns, m.open_interest)
        self._depth_events(events, ts_ns, m.bid_depth_usd, m.ask_depth_usd)
        if m.absorbed_usd is not None:
            self._absorption_events(events, ts_ns, m.absorbed_usd)
        if m.funding_rate is not None:
            self._funding_events(events, ts_ns, m.funding_rate)
        self._side_events(
            events,
            ts_ns,
            m.bid_thinning_ratio,
            m.ask_thinning_ratio,
            m.bid_refill_secs,
            m.ask_refill_secs,
        )
        return events

    # The builder's paths: each equals ``on_metrics`` with only those readings set, without
    # building a ``StructuralMetrics`` per input (the book path runs per book update).

    def on_book(
        self,
        ts_ns: int,
        bid_depth_usd: float,
        ask_depth_usd: float,
        bid_thinning_ratio: float | None,
        ask_thinning_ratio: float | None,
        bid_refill_secs: float | None,
        ask_refill_secs: float | None,
    ) -> list[StructuralEvent]:
        """``on_metrics`` with the book readings (depth, thinning, refill) only."""
        events: list[StructuralEvent] = []
        self._depth_events(events, ts_ns, bid_depth_usd, ask_depth_usd)
        self._side_events(
            events,
            ts_ns,
            bid_thinning_ratio,
            ask_thinning_ratio,
            bid_refill_secs,
            ask_refill_secs,
        )
        return events

    def on_absorbed(self, ts_ns: int, absorbed_usd: float) -> list[StructuralEvent]:
        """``on_metrics`` with ``absorbed_usd`` only."""
        events: list[StructuralEvent] = []
        self._absorption_events(events, ts_ns, absorbed_usd)
        return events

    def on_open_interest(self, ts_ns: int, open_interest: float) -> list[StructuralEvent]:
        """``on_metrics`` with ``open_interest`` only."""
        events: list[StructuralEvent] = []
        self._open_interest_events(events, ts_ns, open_interest)
        return events

    def on_funding_rate(self, ts_ns: int, funding_rate: float) -> list[StructuralEvent]:
        """``on_metrics`` with ``funding_rate`` only."""
        events: list[StructuralEvent] = []
        self._funding_events(events, ts_ns, funding_rate)
        return events

    def _open_interest_events(
        self, events: list[StructuralEvent], ts_ns: int, open_interest: float
    ) -> None:
        t = self.thresholds
        self._oi_drop.update(ts_ns, open_interest)
        self._oi_surge.update(ts_ns, open_interest)
        drop = self._oi_drop.pct(ts_ns)
        if drop is not None:
            self._above(
                events,
                ts_ns,
                StructuralEventKind.OI_DROP,
                magnitude=-drop,
                value=drop,
                threshold=t.oi_drop_pct,
                window_secs=t.oi_drop_window_secs,
            )
        surge = self._oi_surge.pct(ts_ns)
        if surge is not None:
            self._above(
                events,
                ts_ns,
                StructuralEventKind.OI_SURGE,
                magnitude=surge,
                value=surge,
                threshold=t.oi_surge_pct,
                window_secs=t.oi_surge_window_secs,
            )

    def _depth_events(
        self,
        events: list[StructuralEvent],
        ts_ns: int,
        bid_depth_usd: float | None,
        ask_depth_usd: float | None,
    ) -> None:
        # `_below` unrolled (this runs per book update): fires under the threshold, re-arms
        # above it widened by the hysteresis share.
        threshold = self._depth_low_usd
        release = self._depth_release
        for value, latch, kind in (
            (bid_depth_usd, self._bid_depth_latch, _BID_DEPTH_LOW),
            (ask_depth_usd, self._ask_depth_latch, _ASK_DEPTH_LOW),
        ):
            if value is not None and latch.step(ts_ns, value < threshold, value > release):
                events.append(
                    _new_event(ts_ns, kind, self.instrument_id, value, threshold, 0.0),
                )

    def _absorption_events(
        self, events: list[StructuralEvent], ts_ns: int, absorbed: float
    ) -> None:
        # `_emit_if` unrolled (this runs per trade): fires on absorbed volume, re-arms on none.
        if self._absorption_latch.step(ts_ns, absorbed != 0.0, absorbed == 0.0):
            t = self.thresholds
            events.append(
                _new_event(
                    ts_ns,
                    _ABSORPTION,
                    self.instrument_id,
                    absorbed,
                    t.absorption_min_usd,
                    t.absorption_window_secs,
                ),
            )

    def _funding_events(self, events: list[StructuralEvent], ts_ns: int, rate: float) -> None:
        t = self.thresholds
        self._funding.update(ts_ns, rate)
        change = self._funding.value(ts_ns)
        if change is not None:
            per_hour = change / (t.funding_window_secs / 3600.0)
            self._above(
                events,
                ts_ns,
                StructuralEventKind.FUNDING_ACCELERATION,
                magnitude=abs(per_hour),
                value=per_hour,
                threshold=t.funding_accel_per_hour,
                window_secs=t.funding_window_secs,
            )

    def _side_events(
        self,
        events: list[StructuralEvent],
        ts_ns: int,
        bid_thinning_ratio: float | None,
        ask_thinning_ratio: float | None,
        bid_refill_secs: float | None,
        ask_refill_secs: float | None,
    ) -> None:
        # Thinning (`_below`, inclusive) then refill (`_emit_if`, always triggered), bid first.
        t = self.thresholds
        threshold = t.thinning_ratio
        release = threshold * self._widen
        for ratio, latch, side in (
            (bid_thinning_ratio, self._bid_thinning_latch, _BID),
            (ask_thinning_ratio, self._ask_thinning_latch, _ASK),
        ):
            if ratio is not None and latch.step(ts_ns, ratio <= threshold, ratio > release):
                events.append(
                    _new_event(
                        ts_ns,
                        _DEPTH_THINNING,
                        self.instrument_id,
                        ratio,
                        threshold,
                        t.thinning_baseline_window_secs,
                        side,
                    ),
                )
        for refill_secs, latch, side in (
            (bid_refill_secs, self._bid_refill_latch, _BID),
            (ask_refill_secs, self._ask_refill_latch, _ASK),
        ):
            if refill_secs is not None and latch.step(ts_ns, True, True):
                events.append(
                    _new_event(
                        ts_ns,
                        _BOOK_REFILL,
                        self.instrument_id,
                        refill_secs,
                        t.refill_share,
                        0.0,
                        side,
                    ),
                )

    def reset(self) -> None:
        """Forget windows and latches (e.g. after a feed gap: state must be rebuilt)."""
        self._oi_drop.reset()
        self._oi_surge.reset()
        self._funding.reset()
        for latch in self._latches.values():
            latch.reset()

    def _above(
        self,
        events: list[StructuralEvent],
        ts_ns: int,
        kind: StructuralEventKind,
        *,
        magnitude: float,
        value: float,
        threshold: float,
        window_secs: float,
    ) -> None:
        self._emit_if(
            events,
            ts_ns,
            kind,
            triggered=magnitude >= threshold,
            released=magnitude < threshold * self._keep,
            value=value,
            threshold=threshold,
            window_secs=window_secs,
        )

    def _emit_if(
        self,
        events: list[StructuralEvent],
        ts_ns: int,
        kind: StructuralEventKind,
        *,
        triggered: bool,
        released: bool,
        value: float,
        threshold: float,
        window_secs: float,
        side: str = "",
    ) -> None:
        if self._latches[(kind, side)].step(ts_ns, triggered, released):
            events.append(
                _new_event(
                    ts_ns,
                    kind.value,
                    self.instrument_id,
                    value,
                    threshold,
                    window_secs,
                    side,
                ),
            )


def _new_event(
    ts_ns: int,
    kind: str,
    instrument_id: InstrumentId,
    value: float,
    threshold: float,
    window_secs: float,
    side: str = "",
) -> StructuralEvent:
    ctor: Any = StructuralEvent  # the customdataclass __init__ is not visible to mypy
    event: StructuralEvent = ctor(
        ts_event=ts_ns,
        ts_init=ts_ns,
        kind=kind,
        instrument_id=instrument_id,
        value=value,
        threshold=threshold,
        window_secs=window_secs,
        side=side,
    )
    return event


def _secs_to_ns(secs: float) -> int:
    return round(secs * NANOS_PER_SECOND)
