"""
Fingerprint of the state builder's output over the recorded corpus.

Why: the builder is the backtest's hot path and gets optimised (lazy window refresh, cheaper
band depth, faster snapshots). Every such change must leave every published ``MarketState``
and ``StructuralEvent`` bit for bit the same. This test replays each corpus recording through
one builder per instrument in a ``BacktestEngine`` and hashes every published object, in
order, every field (floats by ``repr``, NaN included). The pinned hashes were taken from the
code before any optimisation; a change of output (wanted or not) shows here, and a wanted one
re-pins them with the reason in the commit.

The corpora are listed by name, not globbed, so a recording added later (another scenario)
does not change what is pinned here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.instruments import CryptoPerpetual

from actors.market_state import MARKET_STATE_DATA_TYPE
from actors.state_builder import MarketStateBuilder
from actors.state_builder import MarketStateBuilderConfig
from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from backtests.recording import RecordedData
from backtests.recording import add_to_engine
from backtests.recording import load_recording
from common.nautilus import custom_data_topic

RECORDINGS = Path(__file__).resolve().parents[1] / "resources" / "recordings"

# The production windows (1 s, 5 s, 15 min, 1 h: the long ones never warm up in a minute) and
# short ones with tight event thresholds, so every window and event path yields numbers.
PRODUCTION: dict[str, Any] = {}
SHORT: dict[str, Any] = {
    "windows_secs": [1.0, 5.0, 20.0, 40.0],
    "thresholds": {
        "oi_drop_pct": 0.05,
        "oi_drop_window_secs": 10.0,
        "oi_surge_pct": 0.05,
        "oi_surge_window_secs": 10.0,
        "depth_low_usd": 2_000_000.0,
        "depth_low_bps": 10.0,
        "absorption_min_usd": 10_000.0,
        "absorption_max_move_bps": 2.0,
        "absorption_window_secs": 5.0,
        "funding_accel_per_hour": 0.0000001,
        "funding_window_secs": 10.0,
        "thinning_ratio": 0.9,
        "thinning_baseline_window_secs": 10.0,
        "refill_share": 0.8,
        "sweep_drop_share": 0.2,
        "rearm_secs": 2.0,
    },
}

# (corpus, builder config name) -> (MarketStates, StructuralEvents, SHA-256 of both in order),
# taken from the code before the backtest optimisations (issue 14's benchmark, commit 776ddf5).
PINNED: dict[tuple[str, str], tuple[int, int, str]] = {
    ("quiet", "production"): (
        177,
        0,
        "3caa60423f81a04a9b029045494ec8a703390d46f887be39a33eca960813acb0",
    ),
    ("quiet", "short"): (
        265,
        94,
        "d0c8390264e7a3ed1c3f752a1b40268522376fdc5b1acf67bb4b4cdb2d3a75a3",
    ),
    ("trend", "production"): (
        182,
        5,
        "f8e36680dcf1d0d302610498fdd96a630e57b8bc101bbd9a213dd7b86540c4c6",
    ),
    ("trend", "short"): (
        222,
        48,
        "81891faf32eda05a745b8769fb6048aade6a59d7a723c5a1ec44ddc4d3ac2632",
    ),
    ("cascade", "production"): (
        201,
        26,
        "1119fc4a10431b80b1525c12fcbf50ee2879b251f3307b6a65ec2ead80769baf",
    ),
    ("cascade", "short"): (
        261,
        93,
        "f0a461a0d5dcfb9a3f7c39459366b70fb54977efa1d74b703e5d0420d6baa27a",
    ),
    ("quiet", "odd_timers"): (
        343,
        94,
        "b1b6677de64cac3787e40c940664481ecf66aa5fbe3c559925344c4a63f309b0",
    ),
    ("quiet", "slow_refresh"): (
        445,
        94,
        "4e0c95eb5c03156f8c8312ff95427dfad850e206428b0ebb123948f7f8aa1311",
    ),
    ("trend", "odd_timers"): (
        300,
        48,
        "10858ffb17fa5fd992966f29b59eb72e1e2ef98a292887786cdca565800d6a53",
    ),
    ("trend", "slow_refresh"): (
        402,
        48,
        "6750e5b851765fa410bfa813ff689fe1aa68fcd9a3defc1f90e638a3283c4244",
    ),
    ("cascade", "odd_timers"): (
        339,
        93,
        "09b104ade300b73e9edebddcffb8135a435b090c972fe4cff70397fe9ab66c7a",
    ),
    ("cascade", "slow_refresh"): (
        441,
        93,
        "f616947bcdf3a9b2aee814db8fab5022cc688e172db43cc0fadd3ea137caf83e",
    ),
}

# Timers that do not divide each other, and one with the refresh slower than publication.
ODD_TIMERS: dict[str, Any] = {
    **SHORT,
    "publish_interval_ms": 700,
    "refresh_interval_ms": 300,
    "slow_window_sample_ms": 250,
}
SLOW_REFRESH: dict[str, Any] = {**SHORT, "publish_interval_ms": 500, "refresh_interval_ms": 1500}
CONFIGS = {
    "production": PRODUCTION,
    "short": SHORT,
    "odd_timers": ODD_TIMERS,
    "slow_refresh": SLOW_REFRESH,
}
CORPORA = ("quiet", "trend", "cascade")


class _Collector(Actor):
    """Every MarketState and StructuralEvent on the bus, in publication order."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Any]] = []
        self.states = 0
        self.events = 0

    def on_start(self) -> None:
        self.msgbus.subscribe(custom_data_topic(MARKET_STATE_DATA_TYPE), self._on_state)
        self.msgbus.subscribe(custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self._on_event)

    def _on_state(self, state: Any) -> None:
        self.states += 1
        self.published.append(("state", state))

    def _on_event(self, event: Any) -> None:
        self.events += 1
        self.published.append(("event", event))


def _fingerprint(recorded: RecordedData, builder: dict[str, Any]) -> tuple[int, int, str]:
    ids = sorted(
        {
            i.id
            for i in recorded.instruments
            if isinstance(i, CryptoPerpetual)
            and any(getattr(d, "instrument_id", None) == i.id for d in recorded.data)
        },
        key=str,
    )
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    try:
        add_to_engine(engine, recorded.for_instruments(ids))
        for instrument_id in ids:
            config = {
                **builder,
                "component_id": f"MarketStateBuilder-{instrument_id.symbol}",
                "instrument_id": str(instrument_id),
            }
            engine.add_actor(MarketStateBuilder(MarketStateBuilderConfig.parse(json.dumps(config))))
        collector = _Collector()
        engine.add_actor(collector)
        engine.run()
    finally:
        engine.dispose()
    digest = hashlib.sha256()
    for kind, item in collector.published:
        fields = {key: repr(value) for key, value in sorted(item.to_dict().items())}
        digest.update(json.dumps([kind, fields]).encode())
    return collector.states, collector.events, digest.hexdigest()


@pytest.fixture(scope="module")
def corpora() -> dict[str, RecordedData]:
    return {name: load_recording(RECORDINGS / name) for name in CORPORA}


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("corpus", CORPORA)
def test_published_state_is_unchanged(
    corpora: dict[str, RecordedData], corpus: str, config_name: str
) -> None:
    states, events, digest = _fingerprint(corpora[corpus], CONFIGS[config_name])

    assert states > 0
    assert (states, events, digest) == PINNED[(corpus, config_name)]
