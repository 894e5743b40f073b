"""
Custom data published by the state builder (``MarketState``).

It is a ``@customdataclass`` type so they travel on the message bus, serialise to the catalog
and replay in backtests. Publish and subscribe with the module-level ``DataType`` constants: in
NautilusTrader 1.231 a subscription with ``instrument_id=`` does not match what ``publish_data``
sends, so consumers filter on the ``instrument_id`` field instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from nautilus_trader.core.data import Data
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

from actors.hot_state_layout import FLOAT_FIELDS
from actors.hot_state_layout import N_FLOAT_FIELDS
from common.nautilus import PLACEHOLDER_INSTRUMENT_ID
from common.nautilus import customdataclass_resolved

__all__ = [
    "MARKET_STATE_DATA_TYPE",
    "MarketState",
    "new_market_state",
]

_NAN = math.nan


@customdataclass_resolved
class MarketState(Data):
    """
    Snapshot of one instrument's derived market state, published on a timer and on events.

    ``ts_event`` is the venue time of the newest input, ``ts_init`` the builder's clock when the
    snapshot was taken, ``input_ts_ns`` the ts_init of the newest input (age counts from it).
    Float fields carry NaN while unknown or warming up (Arrow has no ``float | None`` here); they
    mirror ``actors.hot_state_layout.FLOAT_FIELDS`` one to one, in the same order, so the bus and
    the shared-memory store always say the same thing (a test pins this).
    """

    instrument_id: InstrumentId = PLACEHOLDER_INSTRUMENT_ID
    local_seq: int = 0
    input_ts_ns: int = 0
    mid: float = _NAN
    spread: float = _NAN
    best_bid: float = _NAN
    best_ask: float = _NAN
    mark: float = _NAN
    oracle: float = _NAN
    funding: float = _NAN
    open_interest: float = _NAN
    bid_depth_usd_10bps: float = _NAN
    ask_depth_usd_10bps: float = _NAN
    bid_depth_usd_20bps: float = _NAN
    ask_depth_usd_20bps: float = _NAN
    bid_depth_usd_50bps: float = _NAN
    ask_depth_usd_50bps: float = _NAN
    depth_asymmetry_10bps: float = _NAN
    depth_asymmetry_20bps: float = _NAN
    depth_asymmetry_50bps: float = _NAN
    bid_thinning_ratio: float = _NAN
    ask_thinning_ratio: float = _NAN
    aggr_buy_usd_1s: float = _NAN
    aggr_sell_usd_1s: float = _NAN
    aggr_buy_usd_5s: float = _NAN
    aggr_sell_usd_5s: float = _NAN
    aggr_buy_usd_15m: float = _NAN
    aggr_sell_usd_15m: float = _NAN
    aggr_buy_usd_1h: float = _NAN
    aggr_sell_usd_1h: float = _NAN
    oi_change_pct_1s: float = _NAN
    oi_change_pct_5s: float = _NAN
    oi_change_pct_15m: float = _NAN
    oi_change_pct_1h: float = _NAN
    funding_drift_1s: float = _NAN
    funding_drift_5s: float = _NAN
    funding_drift_15m: float = _NAN
    funding_drift_1h: float = _NAN
    depth_asymmetry_mean_1s: float = _NAN
    depth_asymmetry_mean_5s: float = _NAN
    depth_asymmetry_mean_15m: float = _NAN
    depth_asymmetry_mean_1h: float = _NAN
    absorbed_usd: float = _NAN
    bid_refill_secs: float = _NAN
    ask_refill_secs: float = _NAN
    mid_change_bps_1s: float = _NAN
    mid_change_bps_5s: float = _NAN
    mid_change_bps_15m: float = _NAN
    mid_high_15m: float = _NAN
    mid_low_15m: float = _NAN
    mid_velocity_bps_s: float = _NAN
    mid_accel_bps_s2: float = _NAN
    is_manipulator_active: float = _NAN
    manipulator_direction: float = _NAN
    manipulator_position_usd: float = _NAN

    def get(self, name: str) -> float | None:
        """A float field by name, ``None`` when unknown (NaN)."""
        value: float = getattr(self, name)
        return None if math.isnan(value) else value


# Publish and subscribe with exactly this DataType (no metadata, no instrument_id).
MARKET_STATE_DATA_TYPE = DataType(MarketState)


def new_market_state(
    instrument_id: InstrumentId,
    local_seq: int,
    input_ts_ns: int,
    values: Any,
    ts_event: int,
    ts_init: int,
) -> MarketState:
    """
    Build a ``MarketState`` from float values in ``FLOAT_FIELDS`` order (a sequence or array).

    The same buffer the builder writes into the hot store, so both carry identical numbers.

    Why not the dataclass constructor: with 55 keyword arguments it costs ~30 us, several
    times the rest of a publication (a backtest publishes one per instrument per second and
    per event). The object is filled exactly as that constructor fills it (same attributes, same
    order, no ``__post_init__``), with the floats converted in one ``tolist`` call; a test
    holds the two equal.
    """
    floats = values.tolist() if isinstance(values, np.ndarray) else [float(x) for x in values]
    if len(floats) != N_FLOAT_FIELDS:
        raise ValueError(f"values: expected {N_FLOAT_FIELDS} floats, got {len(floats)}")
    state: MarketState = MarketState.__new__(MarketState)
    attributes = state.__dict__
    attributes["instrument_id"] = instrument_id
    attributes["local_seq"] = local_seq
    attributes["input_ts_ns"] = input_ts_ns
    attributes.update(zip(FLOAT_FIELDS, floats, strict=True))
    attributes["_ts_event"] = ts_event
    attributes["_ts_init"] = ts_init
    return state
