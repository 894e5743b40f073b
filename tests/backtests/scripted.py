"""A scripted backtest with known trades, funding and regimes (expected values in the tests).

Two strategies trade one Hyperliquid-like perpetual (taker fee 0.045 %) on hand-made quotes:
A buys 2 at 00:59 and sells 2 at 02:30; B sells 1 at 00:59 and buys 1 back at 01:30. Funding is
0.0001 (index 100.2) for the hour to 01:00 and -0.0002 (index 101.0) for the hour to 02:00. A
regime "controller" (the scripted actor) publishes SIDEWAYS at 00:59 and EXPANSION at 02:10.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import FundingRateUpdate
from nautilus_trader.model.data import IndexPriceUpdate
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import CryptoPerpetual
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy

from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from backtests.funding import FundingModule
from backtests.journal import RunJournal
from backtests.journal import RunJournalConfig
from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyState

BTC = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
TAKER_FEE = Decimal("0.00045")
STARTING_USDC = 10_000


def ts(text: str) -> int:
    return pd.Timestamp(f"2026-01-01T{text}Z").value


QUOTES = [  # time, bid, ask
    ("00:59:00", "100.0", "100.5"),
    ("01:00:05", "101.0", "101.5"),
    ("01:30:00", "102.0", "102.5"),
    ("02:00:01", "102.5", "103.0"),
    ("02:10:00", "102.8", "103.3"),
    ("02:30:00", "103.0", "103.5"),
]
FUNDING = [("00:59:10", "0.0001", "100.2"), ("01:00:06", "-0.0002", "101.0")]
ORDERS = {  # strategy -> [(time, side, qty)]
    "A": [("00:59:00", "BUY", "2"), ("02:30:00", "SELL", "2")],
    "B": [("00:59:00", "SELL", "1"), ("01:30:00", "BUY", "1")],
}
REGIMES = [("00:59:00", "SIDEWAYS"), ("02:10:00", "EXPANSION")]


def steady_quotes(start_ns: int, count: int) -> list[QuoteTick]:
    """``count`` BTC quotes at 100.0 / 100.5 (5 on each side), 100 ms apart from ``start_ns``:
    a market that stands still, for tests about what strategies send, not about prices."""
    return [
        QuoteTick(
            BTC,
            Price.from_str("100.0"),
            Price.from_str("100.5"),
            Quantity.from_str("5.000"),
            Quantity.from_str("5.000"),
            start_ns + k * 100_000_000,
            start_ns + k * 100_000_000,
        )
        for k in range(count)
    ]


def instrument() -> CryptoPerpetual:
    return CryptoPerpetual(
        instrument_id=BTC,
        raw_symbol=Symbol("BTC"),
        base_currency=USDC.__class__.from_str("BTC"),
        quote_currency=USDC,
        settlement_currency=USDC,
        is_inverse=False,
        price_precision=1,
        size_precision=3,
        price_increment=Price.from_str("0.1"),
        size_increment=Quantity.from_str("0.001"),
        ts_event=0,
        ts_init=0,
        margin_init=Decimal("0.1"),
        margin_maint=Decimal("0.05"),
        maker_fee=Decimal("0.00015"),
        taker_fee=TAKER_FEE,
    )


class ScriptedConfig(StrategyConfig, frozen=True):
    script: str = "A"
    publish_regimes: bool = False


class Scripted(Strategy):
    """Sends the scripted market orders on the scripted quotes; announces its state moves."""

    def __init__(self, config: ScriptedConfig) -> None:
        super().__init__(config)
        self.script = {ts(t): (side, qty) for t, side, qty in ORDERS[config.script]}
        self.regimes = {ts(t): name for t, name in REGIMES} if config.publish_regimes else {}
        self.machine = "SCANNING"
        self.regime = "UNCLASSIFIED"

    def on_start(self) -> None:
        self.subscribe_quote_ticks(BTC)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        if tick.ts_init in self.regimes:
            regime = self.regimes[tick.ts_init]
            change = RegimeChange(
                instrument_id=BTC,
                previous=self.regime,
                regime=regime,
                reason="scripted",
                inputs="",
                ts_event=tick.ts_init,
                ts_init=tick.ts_init,
            )
            self.regime = regime
            self.msgbus.publish(custom_data_topic(REGIME_CHANGE_DATA_TYPE), change)
        if tick.ts_init not in self.script:
            return
        side, qty = self.script[tick.ts_init]
        order = self.order_factory.market(BTC, OrderSide[side], Quantity(Decimal(qty), 3))
        self.submit_order(order)
        new_state = "ENTERED" if self.machine == "SCANNING" else "EXITED"
        state = StrategyState(
            strategy_id=str(self.id),
            instrument_id=BTC,
            previous=self.machine,
            state=new_state,
            reason="scripted",
            flat=new_state == "EXITED",
            ts_event=tick.ts_init,
            ts_init=tick.ts_init,
        )
        self.machine = new_state
        self.msgbus.publish(custom_data_topic(STRATEGY_STATE_DATA_TYPE), state)


def run_scripted(run_dir: Path) -> None:
    """Run the script; the journal writes ``run_dir``."""
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(log_level="ERROR")))
    try:
        engine.add_venue(
            HYPERLIQUID_VENUE,
            OmsType.NETTING,
            AccountType.MARGIN,
            [Money(STARTING_USDC, USDC)],
            book_type=BookType.L1_MBP,
            modules=[FundingModule()],
        )
        engine.add_instrument(instrument())
        data: list = [
            QuoteTick(
                BTC,
                Price.from_str(bid),
                Price.from_str(ask),
                Quantity.from_str("10.000"),
                Quantity.from_str("10.000"),
                ts(t),
                ts(t),
            )
            for t, bid, ask in QUOTES
        ]
        for t, rate, index in FUNDING:
            data.append(FundingRateUpdate(BTC, Decimal(rate), ts(t), ts(t)))
            data.append(IndexPriceUpdate(BTC, Price.from_str(index), ts(t), ts(t)))
        engine.add_data(data)
        engine.add_actor(RunJournal(RunJournalConfig(directory=str(run_dir), kind="backtest")))
        engine.add_strategy(Scripted(ScriptedConfig(strategy_id="SCRIPT-A", script="A")))
        engine.add_strategy(
            Scripted(ScriptedConfig(strategy_id="SCRIPT-B", script="B", publish_regimes=True))
        )
        engine.run()
    finally:
        engine.dispose()
