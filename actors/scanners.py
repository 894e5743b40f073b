"""
Market scanners: volume spikes and breakouts, and notify-only alert jobs built from them.

The scanners are pure (timestamps in, hits out). ``AlertJob`` binds one scanner to one
instrument and turns hits into ``ScannerAlert`` custom data; ``ScannerActor`` runs a set of jobs
on trade ticks and/or bars inside a node or a backtest. Nothing here ever sends an order.
"""

from __future__ import annotations

from enum import StrEnum
from enum import unique
from typing import Any
from typing import Protocol

import msgspec
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import NonNegativeFloat
from nautilus_trader.config import PositiveFloat
from nautilus_trader.core.data import Data
from nautilus_trader.core.datetime import secs_to_nanos
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import DataType
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.identifiers import InstrumentId

from actors.rolling import NANOS_PER_SECOND
from actors.rolling import RollingMax
from actors.rolling import RollingMin
from actors.rolling import RollingSum
from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "SCANNER_ALERT_DATA_TYPE",
    "AlertJob",
    "BreakoutScanner",
    "ScanHit",
    "Scanner",
    "ScannerActor",
    "ScannerActorConfig",
    "ScannerAlert",
    "ScannerKind",
    "VolumeSpikeScanner",
]


@unique
class ScannerKind(StrEnum):
    """What a scanner saw; ``ScannerAlert.kind`` holds the value."""

    VOLUME_SPIKE = "VOLUME_SPIKE"
    BREAKOUT_UP = "BREAKOUT_UP"
    BREAKOUT_DOWN = "BREAKOUT_DOWN"


class ScanHit(msgspec.Struct, frozen=True):
    """
    One scanner hit: ``value`` crossed ``threshold`` (units depend on ``kind``).

    VOLUME_SPIKE: USD volume over the window vs ``multiple`` x its baseline (USD).
    BREAKOUT_UP / BREAKOUT_DOWN: price vs the prior rolling high / low.
    """

    kind: ScannerKind
    value: float
    threshold: float
    window_secs: float


class Scanner(Protocol):
    """What ``AlertJob`` needs from a scanner: one observation in, maybe one hit out."""

    def observe(self, ts_ns: int, price: float, size: float) -> ScanHit | None:
        """Feed one trade (or bar: close, volume) at ``ts_ns``."""
        ...


class VolumeSpikeScanner:
    """
    Volume over the last ``window_ns`` against ``multiple`` x its usual level.

    The usual level is the volume of the preceding ``baseline_window_ns - window_ns`` (the
    current window excluded, so a spike does not raise its own bar), scaled to one window.
    Fires once when the spike starts (volume >= threshold and >= ``min_volume_usd``) and re-arms
    when the window volume is back under the threshold. A silent baseline (0) fires on any
    volume of at least ``min_volume_usd`` if that is > 0, never otherwise.
    """

    __slots__ = ("_armed", "_baseline", "_current", "min_volume_usd", "multiple")

    def __init__(
        self,
        window_ns: int,
        baseline_window_ns: int,
        multiple: float,
        min_volume_usd: float = 0.0,
    ) -> None:
        if baseline_window_ns <= window_ns:
            raise ValueError(
                f"baseline_window_ns ({baseline_window_ns}) must exceed window_ns ({window_ns})",
            )
        if multiple <= 1.0:
            raise ValueError(f"multiple must be > 1, was {multiple}")
        self.multiple = multiple
        self.min_volume_usd = min_volume_usd
        self._current = RollingSum(window_ns)
        self._baseline = RollingSum(baseline_window_ns)
        self._armed = True

    @property
    def window_ns(self) -> int:
        """The scan window in nanoseconds."""
        return self._current.window_ns

    def update(self, ts_ns: int, volume_usd: float) -> ScanHit | None:
        """Add traded volume (USD) at ``ts_ns`` and evaluate the scan at ``ts_ns``."""
        self._current.update(ts_ns, volume_usd)
        self._baseline.update(ts_ns, volume_usd)
        return self.evaluate(ts_ns)

    def observe(self, ts_ns: int, price: float, size: float) -> ScanHit | None:
        """Feed one trade (or a bar's close and volume)."""
        return self.update(ts_ns, price * size)

    def threshold(self, now_ns: int) -> float | None:
        """Spike threshold in USD at ``now_ns`` (None while warming up)."""
        current = self._current.value(now_ns)
        total = self._baseline.value(now_ns)
        if current is None or total is None:
            return None
        window = self._current.window_ns
        prior = max(total - current, 0.0)
        per_window = prior * window / (self._baseline.window_ns - window)
        return self.multiple * per_window

    def evaluate(self, now_ns: int) -> ScanHit | None:
        """Evaluate at ``now_ns`` (e.g. on a timer) without adding volume."""
        threshold = self.threshold(now_ns)
        if threshold is None:
            return None
        current = self._current.value(now_ns)
        assert current is not None  # warm since threshold was
        if threshold > 0.0:
            spiking = current >= threshold and current >= self.min_volume_usd
        else:
            spiking = self.min_volume_usd > 0.0 and current >= self.min_volume_usd
        if not spiking:
            self._armed = True
            return None
        if not self._armed:
            return None
        self._armed = False
        return ScanHit(
            ScannerKind.VOLUME_SPIKE,
            current,
            threshold,
            self._current.window_ns / NANOS_PER_SECOND,
        )

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._current.reset()
        self._baseline.reset()
        self._armed = True


class BreakoutScanner:
    """
    Price crossing the rolling high/low band of the previous ``window_ns``.

    The bands at a trade are the highest and lowest prices of the window *before* that trade, so
    a new price can exceed them. Fires once when the price leaves the band (BREAKOUT_UP above
    the high, BREAKOUT_DOWN below the low) and re-arms when a price is back inside the band.
    """

    __slots__ = ("_high", "_low", "_side")

    def __init__(self, window_ns: int) -> None:
        self._high = RollingMax(window_ns)
        self._low = RollingMin(window_ns)
        self._side = 0  # -1 below the band, 0 inside, +1 above

    @property
    def window_ns(self) -> int:
        """The band window in nanoseconds."""
        return self._high.window_ns

    def bands(self, now_ns: int) -> tuple[float, float] | None:
        """(low, high) band at ``now_ns`` from prices already observed; None while warming up."""
        high = self._high.value(now_ns)
        low = self._low.value(now_ns)
        if high is None or low is None:
            return None
        return low, high

    def update(self, ts_ns: int, price: float) -> ScanHit | None:
        """Check ``price`` against the bands, then add it to the window."""
        bands = self.bands(ts_ns) if self._high.last_ts is not None else None
        self._high.update(ts_ns, price)
        self._low.update(ts_ns, price)
        if bands is None:
            return None
        low, high = bands
        window_secs = self._high.window_ns / NANOS_PER_SECOND
        if price > high:
            fired = self._side != 1
            self._side = 1
            return ScanHit(ScannerKind.BREAKOUT_UP, price, high, window_secs) if fired else None
        if price < low:
            fired = self._side != -1
            self._side = -1
            return ScanHit(ScannerKind.BREAKOUT_DOWN, price, low, window_secs) if fired else None
        self._side = 0
        return None

    def observe(self, ts_ns: int, price: float, size: float) -> ScanHit | None:
        """Feed one trade (or a bar's close); size is not used."""
        return self.update(ts_ns, price)

    def reset(self) -> None:
        """Forget everything (warm-up starts again)."""
        self._high.reset()
        self._low.reset()
        self._side = 0


@customdataclass_resolved
class ScannerAlert(Data):
    """
    A notify-only scanner alert, published as custom data (never an order, never a signal).

    ``job`` names the alert job, ``kind`` is a ``ScannerKind`` value, ``value``/``threshold`` as
    in ``ScanHit``.
    """

    job: str = ""
    kind: str = ""
    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    value: float = 0.0
    threshold: float = 0.0
    window_secs: float = 0.0


# Publish and subscribe with exactly this DataType (see STYLE.md point 7).
SCANNER_ALERT_DATA_TYPE = DataType(ScannerAlert)


class AlertJob:
    """
    One named, notify-only alert rule: a scanner watching one instrument.

    ``observe`` feeds a trade (or bar) and returns a ``ScannerAlert`` when the scanner hits; the
    caller publishes or logs it. A job has no access to orders by construction.
    """

    __slots__ = ("instrument_id", "name", "scanner")

    def __init__(self, name: str, instrument_id: InstrumentId, scanner: Scanner) -> None:
        self.name = name
        self.instrument_id = instrument_id
        self.scanner = scanner

    def observe(self, ts_ns: int, price: float, size: float) -> ScannerAlert | None:
        """Feed one observation; return the alert it raised, if any."""
        hit = self.scanner.observe(ts_ns, price, size)
        if hit is None:
            return None
        ctor: Any = ScannerAlert  # the customdataclass __init__ is not visible to mypy
        alert: ScannerAlert = ctor(
            ts_event=ts_ns,
            ts_init=ts_ns,
            job=self.name,
            kind=hit.kind.value,
            instrument_id=self.instrument_id,
            value=hit.value,
            threshold=hit.threshold,
            window_secs=hit.window_secs,
        )
        return alert

    @staticmethod
    def describe(alert: ScannerAlert) -> str:
        """One log line for an alert."""
        return (
            f"ALERT {alert.job}: {alert.kind} {alert.instrument_id} "
            f"value={alert.value:.8g} threshold={alert.threshold:.8g} "
            f"window={alert.window_secs:g}s"
        )


class ScannerActorConfig(ActorConfig, frozen=True, kw_only=True):
    """
    Configuration for ``ScannerActor``.

    Parameters
    ----------
    instrument_ids : list[InstrumentId]
        Instruments scanned on their trade ticks.
    bar_types : list[BarType]
        Bar types scanned on their bars (close price, volume); independent of trade ticks.
    volume_window_secs : float
        Volume-spike window (the "N minutes").
    volume_baseline_window_secs : float
        Window of the volume baseline; must exceed ``volume_window_secs``.
    volume_spike_multiple : float
        Spike when window volume >= this multiple of the baseline per window (> 1).
    volume_min_usd : float
        Ignore spikes smaller than this USD volume.
    breakout_window_secs : float
        Window of the rolling high/low breakout bands.

    """

    instrument_ids: list[InstrumentId] = []
    bar_types: list[BarType] = []
    volume_window_secs: PositiveFloat = 300.0
    volume_baseline_window_secs: PositiveFloat = 3600.0
    volume_spike_multiple: PositiveFloat = 3.0
    volume_min_usd: NonNegativeFloat = 0.0
    breakout_window_secs: PositiveFloat = 900.0

    def __post_init__(self) -> None:
        """Fail at start-up on windows or multiples that cannot work."""
        if self.volume_baseline_window_secs <= self.volume_window_secs:
            raise ValueError(
                "volume_baseline_window_secs must exceed volume_window_secs "
                f"({self.volume_baseline_window_secs} <= {self.volume_window_secs})",
            )
        if self.volume_spike_multiple <= 1.0:
            raise ValueError(f"volume_spike_multiple must be > 1, was {self.volume_spike_multiple}")


class ScannerActor(Actor):
    """
    Runs volume-spike and breakout alert jobs on trade ticks and bars; publishes
    ``ScannerAlert`` custom data on ``SCANNER_ALERT_DATA_TYPE`` and logs each alert.

    Timestamps are the data's ``ts_init``, so live and backtest runs give the same alerts.
    """

    def __init__(self, config: ScannerActorConfig) -> None:
        super().__init__(config)
        self._scanner_config = config
        self._trade_jobs: dict[InstrumentId, list[AlertJob]] = {}
        self._bar_jobs: dict[BarType, list[AlertJob]] = {}
        self.alerts_published: int = 0
        self._build_jobs()

    def on_start(self) -> None:
        """Subscribe to the configured trade ticks and bars."""
        config = self._scanner_config
        for instrument_id in config.instrument_ids:
            if self.cache.instrument(instrument_id) is None:
                self.log.warning(f"No instrument {instrument_id} in cache; scanning its trades")
            self.subscribe_trade_ticks(instrument_id)
        for bar_type in config.bar_types:
            self.subscribe_bars(bar_type)

    def on_trade_tick(self, tick: TradeTick) -> None:
        """Feed the trade to this instrument's jobs."""
        jobs = self._trade_jobs.get(tick.instrument_id)
        if not jobs:
            return
        ts_ns = tick.ts_init
        price = tick.price.as_double()
        size = tick.size.as_double()
        for job in jobs:
            alert = job.observe(ts_ns, price, size)
            if alert is not None:
                self._notify(alert)

    def on_bar(self, bar: Bar) -> None:
        """Feed the bar (close, volume) to this bar type's jobs."""
        jobs = self._bar_jobs.get(bar.bar_type)
        if not jobs:
            return
        ts_ns = bar.ts_init
        close = bar.close.as_double()
        volume = bar.volume.as_double()
        for job in jobs:
            alert = job.observe(ts_ns, close, volume)
            if alert is not None:
                self._notify(alert)

    def on_stop(self) -> None:
        """Unsubscribe what ``on_start`` subscribed."""
        config = self._scanner_config
        for instrument_id in config.instrument_ids:
            self.unsubscribe_trade_ticks(instrument_id)
        for bar_type in config.bar_types:
            self.unsubscribe_bars(bar_type)

    def on_reset(self) -> None:
        """Start every job from scratch (warm-up again)."""
        self._build_jobs()
        self.alerts_published = 0

    def _notify(self, alert: ScannerAlert) -> None:
        self.log.info(AlertJob.describe(alert))
        self.publish_data(SCANNER_ALERT_DATA_TYPE, alert)
        self.alerts_published += 1

    def _build_jobs(self) -> None:
        config = self._scanner_config
        self._trade_jobs = {
            instrument_id: self._jobs_for(str(instrument_id), instrument_id)
            for instrument_id in config.instrument_ids
        }
        self._bar_jobs = {
            bar_type: self._jobs_for(str(bar_type), bar_type.instrument_id)
            for bar_type in config.bar_types
        }

    def _jobs_for(self, source: str, instrument_id: InstrumentId) -> list[AlertJob]:
        config = self._scanner_config
        volume = VolumeSpikeScanner(
            window_ns=secs_to_nanos(config.volume_window_secs),
            baseline_window_ns=secs_to_nanos(config.volume_baseline_window_secs),
            multiple=config.volume_spike_multiple,
            min_volume_usd=config.volume_min_usd,
        )
        breakout = BreakoutScanner(secs_to_nanos(config.breakout_window_secs))
        return [
            AlertJob(f"volume_spike:{source}", instrument_id, volume),
            AlertJob(f"breakout:{source}", instrument_id, breakout),
        ]
