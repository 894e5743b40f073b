"""DCA config rules and saved progress (the simulator tests cover trading and restarts)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Money

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from strategies.templates.dca import DCA
from strategies.templates.dca import DCAConfig
from tests.backtests.scripted import BTC
from tests.backtests.scripted import instrument
from tests.backtests.scripted import steady_quotes

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


class _CountingDCA(DCA):
    """Counts the turns taken once the schedule was already complete."""

    def __init__(self, config: DCAConfig) -> None:
        super().__init__(config)
        self.turns_after_done = 0

    def _turn(self) -> None:
        if self.progress.done >= self.cfg.order_count:
            self.turns_after_done += 1
        super()._turn()


def test_a_finished_schedule_takes_no_more_turns_on_later_quotes() -> None:
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    engine.add_venue(HYPERLIQUID_VENUE, OmsType.NETTING, AccountType.MARGIN, [Money(10_000, USDC)])
    engine.add_instrument(instrument())
    t0 = 1_767_225_600_000_000_000  # 2026-01-01
    # every 100 ms for 30 s: 2 orders 1 s apart, then 28 s of finished schedule
    quotes = steady_quotes(t0, 300)
    engine.add_data(quotes)
    dca = _CountingDCA(
        config(instrument_id=BTC, order_notional_usd=Decimal(20), order_count=2, interval_secs=1)
    )
    engine.add_strategy(dca)
    try:
        engine.run()
        orders = engine.cache.orders()
    finally:
        engine.dispose()

    assert [o.is_closed and o.filled_qty.as_double() > 0 for o in orders] == [True, True]
    # The turn that finds the schedule complete cancels the timer; nothing arms it again.
    assert dca.turns_after_done == 1
