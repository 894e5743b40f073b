"""Scanners: volume spike and breakout trigger/no-trigger, alert jobs, the actor in a backtest."""

from __future__ import annotations

from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import LoggingConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from actors.scanners import SCANNER_ALERT_DATA_TYPE
from actors.scanners import AlertJob
from actors.scanners import BreakoutScanner
from actors.scanners import ScannerActor
from actors.scanners import ScannerActorConfig
from actors.scanners import ScannerAlert
from actors.scanners import ScannerKind
from actors.scanners import VolumeSpikeScanner

SEC = 1_000_000_000
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")


# --- volume spike -----------------------------------------------------------------------------


def _steady_volume(scanner: VolumeSpikeScanner, until: int) -> None:
    # $1 of volume at every ns in [1, until] (window 10, baseline 100 in the tests below).
    for ts in range(1, until + 1):
        assert scanner.update(ts, 1.0) is None


def test_volume_spike_fires_when_window_volume_reaches_multiple_of_baseline() -> None:
    # Arrange: baseline $1/ns -> $10 per 10-ns window -> threshold $30 at multiple 3.
    scanner = VolumeSpikeScanner(window_ns=10, baseline_window_ns=100, multiple=3.0)
    _steady_volume(scanner, 100)

    # Act: window (91, 101] holds 9 x $1 + $21 = $30; the prior 90 ns held $90.
    hit = scanner.update(101, 21.0)

    # Assert
    assert hit is not None
    assert hit.kind == ScannerKind.VOLUME_SPIKE
    assert hit.value == pytest.approx(30.0)
    assert hit.threshold == pytest.approx(30.0)
    assert hit.window_secs == pytest.approx(10 / SEC)


def test_volume_spike_does_not_fire_below_multiple() -> None:
    scanner = VolumeSpikeScanner(window_ns=10, baseline_window_ns=100, multiple=3.0)
    _steady_volume(scanner, 100)
    assert scanner.update(101, 20.0) is None  # $29 < $30


def test_volume_spike_fires_once_per_spike_and_rearms_after_it_fades() -> None:
    scanner = VolumeSpikeScanner(window_ns=10, baseline_window_ns=100, multiple=3.0)
    _steady_volume(scanner, 100)
    hits = [scanner.update(101, 50.0), scanner.update(102, 50.0)]
    quiet = [scanner.update(ts, 0.0) for ts in range(103, 130)]
    again = scanner.update(130, 200.0)
    assert hits[0] is not None
    assert hits[1] is None
    assert quiet == [None] * len(quiet)
    assert again is not None


def test_volume_spike_needs_warm_baseline_and_minimum_volume_on_silent_baseline() -> None:
    warming = VolumeSpikeScanner(window_ns=10, baseline_window_ns=100, multiple=3.0)
    assert warming.update(1, 1e9) is None  # baseline window not observed yet

    silent = VolumeSpikeScanner(10, 100, 3.0, min_volume_usd=0.0)
    silent_min = VolumeSpikeScanner(10, 100, 3.0, min_volume_usd=500.0)
    for scanner in (silent, silent_min):
        scanner.update(0, 0.0)
    assert silent.update(100, 1_000.0) is None
    hit = silent_min.update(100, 1_000.0)
    assert hit is not None
    assert hit.threshold == 0.0


def test_volume_spike_rejects_baseline_not_longer_than_window() -> None:
    with pytest.raises(ValueError, match="baseline_window_ns"):
        VolumeSpikeScanner(window_ns=10, baseline_window_ns=10, multiple=3.0)
    with pytest.raises(ValueError, match="multiple"):
        VolumeSpikeScanner(window_ns=10, baseline_window_ns=100, multiple=1.0)


# --- breakout ---------------------------------------------------------------------------------


def _ranging(scanner: BreakoutScanner, until: int) -> None:
    # Prices 99, 100, 101, 99, 100, 101, ... at every ns in [0, until].
    for ts in range(until + 1):
        assert scanner.update(ts, 99.0 + ts % 3) is None


def test_breakout_up_fires_when_price_exceeds_prior_rolling_high() -> None:
    scanner = BreakoutScanner(window_ns=10)
    _ranging(scanner, 20)
    hit = scanner.update(21, 101.5)
    assert hit is not None
    assert hit.kind == ScannerKind.BREAKOUT_UP
    assert hit.value == 101.5
    assert hit.threshold == 101.0


def test_breakout_down_fires_when_price_falls_below_prior_rolling_low() -> None:
    scanner = BreakoutScanner(window_ns=10)
    _ranging(scanner, 20)
    hit = scanner.update(21, 98.0)
    assert hit is not None
    assert hit.kind == ScannerKind.BREAKOUT_DOWN
    assert hit.threshold == 99.0


def test_breakout_does_not_fire_inside_or_on_the_band() -> None:
    scanner = BreakoutScanner(window_ns=10)
    _ranging(scanner, 20)
    assert scanner.update(21, 101.0) is None
    assert scanner.update(22, 99.0) is None
    assert scanner.bands(22) == (99.0, 101.0)


def test_breakout_fires_once_per_excursion_and_rearms_back_inside() -> None:
    scanner = BreakoutScanner(window_ns=10)
    _ranging(scanner, 20)
    trend = [scanner.update(21 + i, 102.0 + i) for i in range(5)]
    back_inside = scanner.update(26, 103.0)
    new_high = scanner.update(27, 110.0)
    assert trend[0] is not None
    assert trend[1:] == [None] * 4
    assert back_inside is None
    assert new_high is not None


def test_breakout_needs_a_warm_window() -> None:
    scanner = BreakoutScanner(window_ns=10)
    scanner.update(0, 100.0)
    assert scanner.update(5, 200.0) is None


# --- alert job --------------------------------------------------------------------------------


def test_alert_job_turns_a_scanner_hit_into_scanner_alert_custom_data() -> None:
    job = AlertJob("breakout:BTC", INSTRUMENT_ID, BreakoutScanner(window_ns=10))
    for ts in range(21):
        assert job.observe(ts, 99.0 + ts % 3, 1.0) is None

    alert = job.observe(21, 105.0, 1.0)

    assert alert is not None
    assert alert.job == "breakout:BTC"
    assert alert.kind == "BREAKOUT_UP"
    assert alert.instrument_id == INSTRUMENT_ID
    assert (alert.value, alert.threshold) == (105.0, 101.0)
    assert alert.ts_event == alert.ts_init == 21
    assert ScannerAlert.from_dict(alert.to_dict()) == alert  # type: ignore[attr-defined]
    assert AlertJob.describe(alert).startswith("ALERT breakout:BTC: BREAKOUT_UP")


def test_scanner_config_rejects_baseline_shorter_than_window() -> None:
    with pytest.raises(ValueError, match="volume_baseline_window_secs"):
        ScannerActorConfig(volume_window_secs=600.0, volume_baseline_window_secs=300.0)


# --- actor in a backtest ----------------------------------------------------------------------


class _AlertCollector(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.alerts: list[Data] = []

    def on_start(self) -> None:
        self.subscribe_data(SCANNER_ALERT_DATA_TYPE)

    def on_data(self, data: Data) -> None:
        self.alerts.append(data)


def _ticks(instrument_id: InstrumentId) -> list[TradeTick]:
    """15 min of quiet two-way trading, a volume burst, then a price breakout."""
    start = 1_700_000_000 * SEC
    rows: list[tuple[int, float, float]] = []
    for i in range(90):  # every 10 s: 100.0 / 100.1, 1 BTC
        rows.append((i * 10, 100.0 + (i % 2) * 0.1, 1.0))
    for i in range(10):  # burst: 20 BTC per second for 10 s, inside the range
        rows.append((900 + i, 100.0, 20.0))
    rows.append((1_000, 101.0, 1.0))  # breakout above the 120 s high
    return [
        TradeTick(
            instrument_id,
            Price(px, 1),
            Quantity(size, 3),
            AggressorSide.BUYER if n % 2 else AggressorSide.SELLER,
            TradeId(str(n + 1)),
            start + secs * SEC,
            start + secs * SEC,
        )
        for n, (secs, px, size) in enumerate(rows)
    ]


def test_scanner_actor_publishes_alerts_in_a_backtest() -> None:
    # Arrange
    engine = BacktestEngine(
        BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR", bypass_logging=True)),
    )
    instrument = TestInstrumentProvider.btcusdt_perp_binance()
    engine.add_venue(
        Venue("BINANCE"),
        OmsType.NETTING,
        AccountType.MARGIN,
        starting_balances=[Money(1_000_000, USDT)],
    )
    engine.add_instrument(instrument)
    engine.add_data(_ticks(instrument.id))
    scanner = ScannerActor(
        ScannerActorConfig(
            instrument_ids=[instrument.id],
            volume_window_secs=60.0,
            volume_baseline_window_secs=600.0,
            volume_spike_multiple=3.0,
            breakout_window_secs=120.0,
        ),
    )
    collector = _AlertCollector()
    engine.add_actor(scanner)
    engine.add_actor(collector)

    # Act
    engine.run()
    orders = engine.cache.orders()
    engine.dispose()

    # Assert: one volume spike during the burst, one breakout up at 101.0; no orders.
    alerts: list[Any] = collector.alerts
    summary = [(a.kind, a.job, (a.ts_init // SEC) - 1_700_000_000) for a in alerts]
    assert summary[0][0] == "VOLUME_SPIKE"
    assert summary[0][1] == f"volume_spike:{instrument.id}"
    assert 900 <= summary[0][2] < 910
    assert summary[1:] == [("BREAKOUT_UP", f"breakout:{instrument.id}", 1_000)]
    assert alerts[1].threshold == pytest.approx(100.1)
    assert scanner.alerts_published == 2
    assert orders == []
