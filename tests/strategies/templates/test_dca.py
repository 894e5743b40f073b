"""DCA config rules and saved progress (the simulator tests cover trading and restarts)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.identifiers import InstrumentId

from strategies.templates.dca import DCA
from strategies.templates.dca import DCAConfig

ETH = InstrumentId.from_str("ETH-USD-PERP.HYPERLIQUID")


def config(**kw: object) -> DCAConfig:
    values: dict[str, object] = {
        "instrument_id": ETH,
        "order_notional_usd": Decimal(25),
        "order_count": 4,
        "interval_secs": 60,
        "order_id_tag": "T1",
    }
    values.update(kw)
    return DCAConfig(**values)  # type: ignore[arg-type]


def test_saved_progress_is_restored_by_a_new_instance() -> None:
    first = DCA(config())
    first.progress.done = 2
    first.progress.next_due_ns = 123
    second = DCA(config())
    second.on_load(first.on_save())
    assert (second.progress.done, second.progress.next_due_ns) == (2, 123)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("order_side", "HOLD", "order_side: must be BUY or SELL"),
        ("order_notional_usd", Decimal(0), "order_notional_usd: must be > 0"),
        ("order_count", 0, "order_count: must be >= 1"),
        ("interval_secs", 0, "interval_secs: must be >= 1"),
    ],
)
def test_bad_config_fails_at_construction_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        config(**{field: value})
