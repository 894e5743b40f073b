"""The deterministic parser: a table of phrasings with the intents they mean (written by hand),
phrasings it must refuse with the precise missing piece, and a fuzz that it never raises anything
but a clear refusal."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from intents.parser import parse_intent
from intents.schema import DCAIntent
from intents.schema import DirectBuyIntent
from intents.schema import EMACrossIntent
from intents.schema import Intent
from intents.schema import IntentError
from intents.schema import MarginMode
from intents.schema import OrderKind
from intents.schema import PriceLimitIntent
from intents.schema import RegimeGate
from intents.schema import Side
from intents.schema import TWAPIntent

BUY = Side.BUY
SELL = Side.SELL
GTC = OrderKind.LIMIT_GTC
ALO = OrderKind.LIMIT_ALO
IOC = OrderKind.IOC


def direct(coin: str, side: Side, **kw: object) -> DirectBuyIntent:
    return DirectBuyIntent(coin=coin, side=side, **kw)  # type: ignore[arg-type]


PHRASINGS: list[tuple[str, Intent]] = [
    # --- direct orders ---
    ("buy 0.5 ETH", direct("ETH", BUY, size_coin=D("0.5"))),
    ("Buy 0.5 eth", direct("ETH", BUY, size_coin=D("0.5"))),
    ("sell 1 BTC", direct("BTC", SELL, size_coin=D("1"))),
    ("long 2 SOL", direct("SOL", BUY, size_coin=D("2"))),
    ("short 0.01 BTC", direct("BTC", SELL, size_coin=D("0.01"))),
    ("buy 0.5 ETH at market", direct("ETH", BUY, size_coin=D("0.5"))),
    ("buy 0.5 ETH market", direct("ETH", BUY, size_coin=D("0.5"))),
    ("buy $500 of ETH", direct("ETH", BUY, notional_usd=D("500"))),
    ("buy $500 ETH", direct("ETH", BUY, notional_usd=D("500"))),
    ("buy 500 usd of ETH", direct("ETH", BUY, notional_usd=D("500"))),
    ("buy 500 dollars of ETH", direct("ETH", BUY, notional_usd=D("500"))),
    ("buy $1k of ETH", direct("ETH", BUY, notional_usd=D("1000"))),
    ("buy $1.5k worth of BTC", direct("BTC", BUY, notional_usd=D("1500"))),
    ("long $2m BTC", direct("BTC", BUY, notional_usd=D("2000000"))),
    ("buy $1,000 of SOL", direct("SOL", BUY, notional_usd=D("1000"))),
    ("buy 0.5 ETH at 2400", direct("ETH", BUY, size_coin=D("0.5"), order_kind=GTC,
                                   limit_price_usd=D("2400"))),
    ("buy 0.5 ETH @ 2400", direct("ETH", BUY, size_coin=D("0.5"), order_kind=GTC,
                                  limit_price_usd=D("2400"))),
    ("buy 0.5 ETH at $2,400", direct("ETH", BUY, size_coin=D("0.5"), order_kind=GTC,
                                     limit_price_usd=D("2400"))),
    ("sell 1 BTC at 80k", direct("BTC", SELL, size_coin=D("1"), order_kind=GTC,
                                 limit_price_usd=D("80000"))),
    ("buy 0.5 ETH at 2400 gtc", direct("ETH", BUY, size_coin=D("0.5"), order_kind=GTC,
                                       limit_price_usd=D("2400"))),
    ("buy 0.5 ETH limit 2400", direct("ETH", BUY, size_coin=D("0.5"), order_kind=GTC,
                                      limit_price_usd=D("2400"))),
    ("buy 0.5 ETH at 2400 post-only", direct("ETH", BUY, size_coin=D("0.5"), order_kind=ALO,
                                             limit_price_usd=D("2400"))),
    ("buy 0.5 ETH at 2400 alo", direct("ETH", BUY, size_coin=D("0.5"), order_kind=ALO,
                                       limit_price_usd=D("2400"))),
    ("buy 0.5 ETH at 2400 maker only", direct("ETH", BUY, size_coin=D("0.5"), order_kind=ALO,
                                              limit_price_usd=D("2400"))),
    ("sell 1 BTC at 80000 ioc", direct("BTC", SELL, size_coin=D("1"), order_kind=IOC,
                                       limit_price_usd=D("80000"))),
    ("sell 1 BTC ioc at 80000", direct("BTC", SELL, size_coin=D("1"), order_kind=IOC,
                                       limit_price_usd=D("80000"))),
    ("sell 0.5 ETH reduce-only", direct("ETH", SELL, size_coin=D("0.5"), reduce_only=True)),
    ("short $500 ETH at market reduce only", direct("ETH", SELL, notional_usd=D("500"),
                                                    reduce_only=True)),
    ("long 2 SOL 5x", direct("SOL", BUY, size_coin=D("2"), leverage=5)),
    ("long 2 SOL 5x isolated", direct("SOL", BUY, size_coin=D("2"), leverage=5,
                                      margin_mode=MarginMode.ISOLATED)),
    ("long 2 SOL with 3x leverage cross", direct("SOL", BUY, size_coin=D("2"), leverage=3,
                                                 margin_mode=MarginMode.CROSS)),
    ("buy 0.1 BTC leverage 10", direct("BTC", BUY, size_coin=D("0.1"), leverage=10)),
    ("buy 0.5 ETH stop 2300", direct("ETH", BUY, size_coin=D("0.5"),
                                     stop_price_usd=D("2300"))),
    ("buy 0.5 ETH stop-loss at 2300", direct("ETH", BUY, size_coin=D("0.5"),
                                             stop_price_usd=D("2300"))),
    ("short 1 ETH sl 2600", direct("ETH", SELL, size_coin=D("1"), stop_price_usd=D("2600"))),
    ("buy 0.5 ETH live", direct("ETH", BUY, size_coin=D("0.5"), live=True)),
    ("buy 0.5 ETH paper", direct("ETH", BUY, size_coin=D("0.5"), live=False)),
    ("buy 0.5 ETH dry run", direct("ETH", BUY, size_coin=D("0.5"), live=False)),
    ("please buy 0.5 ETH", direct("ETH", BUY, size_coin=D("0.5"))),
    ("buy 0.5 ETH only in sideways", direct("ETH", BUY, size_coin=D("0.5"),
                                            regime_gate=RegimeGate.SIDEWAYS)),
    # --- price limits ---
    ("buy 0.5 ETH if it drops to 2400",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), size_coin=D("0.5"))),
    ("buy 0.5 ETH if it drops to 2400, cancel above 2600",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), size_coin=D("0.5"),
                      cancel_above_price_usd=D("2600"))),
    ("buy $500 of ETH when price dips to 2400 cancel if it goes above 2600",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), notional_usd=D("500"),
                      cancel_above_price_usd=D("2600"))),
    ("buy 1 SOL if the price falls to 140, cancel after 2h",
     PriceLimitIntent(coin="SOL", buy_price_usd=D("140"), size_coin=D("1"),
                      cancel_after_secs=7200)),
    ("sell 1 SOL if it rises to 170, cancel below 140",
     PriceLimitIntent(coin="SOL", sell_price_usd=D("170"), size_coin=D("1"),
                      cancel_below_price_usd=D("140"))),
    ("sell 0.1 BTC when it reaches to 90k",
     PriceLimitIntent(coin="BTC", sell_price_usd=D("90000"), size_coin=D("0.1"))),
    ("buy 0.5 ETH at 2400 / sell at 2600",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), sell_price_usd=D("2600"),
                      size_coin=D("0.5"))),
    ("buy $200 of ETH at 2400 and sell at 2600",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), sell_price_usd=D("2600"),
                      notional_usd=D("200"))),
    ("buy 0.5 ETH at 2400 cancel if 5% away",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), size_coin=D("0.5"),
                      cancel_if_away_pct=D("5"))),
    ("buy 0.5 ETH at 2400, cancel if price moves 2.5% away",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), size_coin=D("0.5"),
                      cancel_if_away_pct=D("2.5"))),
    ("buy 0.5 ETH if it drops to 2400 expires after 30m",
     PriceLimitIntent(coin="ETH", buy_price_usd=D("2400"), size_coin=D("0.5"),
                      cancel_after_secs=1800)),
    # --- DCA ---
    ("DCA $500 into ETH over 10 hours every 30m",
     DCAIntent(coin="ETH", budget_usd=D("500"), duration_secs=36000, interval_secs=1800)),
    ("dca $500 into eth over 10h every 30 minutes",
     DCAIntent(coin="ETH", budget_usd=D("500"), duration_secs=36000, interval_secs=1800)),
    ("DCA $1k into BTC over 1d every 1h",
     DCAIntent(coin="BTC", budget_usd=D("1000"), duration_secs=86400, interval_secs=3600)),
    ("DCA $50 each into BTC every 1h, 10 times",
     DCAIntent(coin="BTC", order_notional_usd=D("50"), order_count=10, interval_secs=3600)),
    ("DCA $50 per buy into SOL every 15m 8 times",
     DCAIntent(coin="SOL", order_notional_usd=D("50"), order_count=8, interval_secs=900)),
    ("DCA $500 total into ETH every 1h 10 times",
     DCAIntent(coin="ETH", budget_usd=D("500"), order_count=10, interval_secs=3600)),
    ("DCA $25 each into ETH every 30m for 10 hours",
     DCAIntent(coin="ETH", order_notional_usd=D("25"), duration_secs=36000, interval_secs=1800)),
    ("DCA $500 into ETH over 10 hours every 30m max price 2600",
     DCAIntent(coin="ETH", budget_usd=D("500"), duration_secs=36000, interval_secs=1800,
               max_price_usd=D("2600"))),
    ("DCA $500 into ETH over 10 hours every 30m only below 2,600",
     DCAIntent(coin="ETH", budget_usd=D("500"), duration_secs=36000, interval_secs=1800,
               max_price_usd=D("2600"))),
    ("DCA $300 into BTC over 3 days every 6h live",
     DCAIntent(coin="BTC", budget_usd=D("300"), duration_secs=259200, interval_secs=21600,
               live=True)),
    ("DCA 200 usd into SOL over 2h every 10 min",
     DCAIntent(coin="SOL", budget_usd=D("200"), duration_secs=7200, interval_secs=600)),
    # --- TWAP ---
    ("TWAP sell 10 ETH over 1h",
     TWAPIntent(coin="ETH", side=SELL, size_coin=D("10"), horizon_secs=3600)),
    ("twap buy $5k BTC over 30m every 3m",
     TWAPIntent(coin="BTC", side=BUY, notional_usd=D("5000"), horizon_secs=1800,
                interval_secs=180)),
    ("TWAP sell 2 BTC over 2 hours every 10 minutes reduce-only",
     TWAPIntent(coin="BTC", side=SELL, size_coin=D("2"), horizon_secs=7200,
                interval_secs=600, reduce_only=True)),
    ("sell 10 ETH via TWAP over 1h",
     TWAPIntent(coin="ETH", side=SELL, size_coin=D("10"), horizon_secs=3600)),
    ("TWAP buy $2,500 of SOL over 45m paper",
     TWAPIntent(coin="SOL", side=BUY, notional_usd=D("2500"), horizon_secs=2700, live=False)),
    # --- EMA cross ---
    ("EMA cross BTC 10/20 size $1000",
     EMACrossIntent(coin="BTC", fast_period=10, slow_period=20, trade_notional_usd=D("1000"))),
    ("ema cross ETH fast 12 slow 26 size 0.5 ETH",
     EMACrossIntent(coin="ETH", fast_period=12, slow_period=26, trade_size_coin=D("0.5"))),
    ("EMA cross SOL 9/21 $500 on 5m bars",
     EMACrossIntent(coin="SOL", fast_period=9, slow_period=21, trade_notional_usd=D("500"),
                    bar_minutes=5)),
    ("EMA crossover BTC 20/50 size $2k on 1h bars atr stop 2x",
     EMACrossIntent(coin="BTC", fast_period=20, slow_period=50, trade_notional_usd=D("2000"),
                    bar_minutes=60, atr_stop_multiple=D("2"))),
    ("EMA cross ETH 10/30 size $800 atr filter 0.5% atr stop 1.5x",
     EMACrossIntent(coin="ETH", fast_period=10, slow_period=30, trade_notional_usd=D("800"),
                    atr_filter_min_pct=D("0.5"), atr_stop_multiple=D("1.5"))),
    ("EMA cross ETH 2/4 size 0.01 ETH atr(3) stop 3x",
     EMACrossIntent(coin="ETH", fast_period=2, slow_period=4, trade_size_coin=D("0.01"),
                    atr_period=3, atr_stop_multiple=D("3"))),
    ("EMA cross BTC 10/20 size $1000 only in expansion",
     EMACrossIntent(coin="BTC", fast_period=10, slow_period=20, trade_notional_usd=D("1000"),
                    regime_gate=RegimeGate.EXPANSION)),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_phrasing_parses_to_the_intended_intent(text: str, expected: Intent) -> None:
    assert parse_intent(text) == expected


def test_the_table_covers_at_least_sixty_phrasings_of_every_template() -> None:
    kinds = {type(intent) for _, intent in PHRASINGS}
    assert len(PHRASINGS) >= 60
    assert kinds == {DirectBuyIntent, PriceLimitIntent, DCAIntent, TWAPIntent, EMACrossIntent}


# (text, field of the problem, words the message must contain)
REFUSALS: list[tuple[str, str, str]] = [
    ("", "text", "empty"),
    ("   ", "text", "empty"),
    ("hello world", "template", "no known instruction"),
    ("buy ETH", "size_coin", "missing: how much"),
    ("buy 0.5 at 2400", "size_coin", "0.5 of what"),
    ("buy 0.5 at 2400", "coin", "missing: which coin"),
    ("buy 500 of ETH", "size_coin", "500 of what"),
    ("sell at market", "size_coin", "missing: how much"),
    ("buy 0.5 ETH blah", "text", "could not read 'blah'"),
    ("buy 0.5 ETH at market at 2400", "order_kind", "both 'market' and a limit price"),
    ("buy 0.5 ETH ioc", "limit_price_usd", "missing: the price"),
    ("buy 0.5 ETH post-only", "limit_price_usd", "missing: the price"),
    ("buy 0.5 ETH live paper", "live", "both 'live' and 'paper'"),
    ("buy 0.5 ETH and sell 1 BTC", "side", "more than one"),
    ("sell 1 ETH if it drops to 2000", "sell_price_usd", "is a stop, not a resting limit"),
    ("buy 1 ETH if it rises to 3000", "buy_price_usd", "stop entry, not a resting limit"),
    ("buy 0.5 ETH if it drops to 2400 stop 2300", "text", "takes no stop"),
    ("buy 0.5 ETH at 2600 / sell at 2400", "sell_price_usd", "must be above the buy price"),
    ("buy 0.5 ETH if it drops to 2400, cancel above 2300", "cancel_above_price_usd",
     "must be above the buy price"),
    ("DCA $500 into ETH every 30m", "duration_secs", "missing: for how long"),
    ("DCA $500 into ETH over 10h", "interval_secs", "missing: how often"),
    ("DCA $500 into BTC every 1h, 10 times", "budget_usd", "say 'total' or 'each'"),
    ("DCA 0.5 ETH over 10h every 30m", "budget_usd", "in dollars"),
    ("DCA $500 over 10h every 30m", "coin", "missing: which coin"),
    ("DCA $500 into ETH over 10m every 30m", "duration_secs", "shorter than one interval"),
    ("DCA $500 into ETH over 10h every 30m max price 2600 sell", "max_price_usd",
     "buys only"),
    ("TWAP sell 10 ETH", "horizon_secs", "missing: over how long"),
    ("TWAP 10 ETH over 1h", "side", "missing: buy or sell"),
    ("TWAP sell 10 ETH over 1h every 2h", "interval_secs", "longer than the horizon"),
    ("EMA cross BTC size $1000", "fast_period", "missing: the EMA periods"),
    ("EMA cross BTC 10/20", "trade_notional_usd", "missing: the size per trade"),
    ("EMA cross BTC 20/10 size $1000", "fast_period", "must be shorter than slow_period"),
    ("EMA cross 10/20 size $1000", "coin", "missing: which coin"),
    ("buy 0.5 ETH " + "x" * 600, "text", "longer than 500 characters"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "field", "words"), REFUSALS, ids=[r[0][:60] for r in REFUSALS])
def test_unreadable_text_is_refused_naming_the_missing_piece(
    text: str, field: str, words: str
) -> None:
    with pytest.raises(IntentError) as caught:
        parse_intent(text)
    matching = [p for p in caught.value.problems if p.field == field]
    assert matching, f"no problem on {field!r}: {caught.value.problems}"
    assert any(words in p.message for p in matching), caught.value.problems


def test_the_refusal_table_has_at_least_twenty_cases() -> None:
    assert len(REFUSALS) >= 20


def test_every_missing_piece_is_reported_at_once() -> None:
    with pytest.raises(IntentError) as caught:
        parse_intent("DCA into")
    fields = {p.field for p in caught.value.problems}
    assert {"budget_usd", "coin", "interval_secs", "duration_secs"} <= fields


_WORDS = st.sampled_from(
    [
        "buy", "sell", "long", "short", "dca", "twap", "ema", "cross", "eth", "BTC", "sol",
        "$500", "0.5", "1k", "at", "market", "ioc", "post-only", "over", "every", "10h", "30m",
        "if", "it", "drops", "to", "rises", "cancel", "above", "below", "after", "2400", "/",
        "each", "total", "times", "5x", "isolated", "stop", "atr", "size", "10/20", "%", "live",
        "paper", ",", "of", "into", "reduce-only", "max", "price", "$", "..", "1e9", "-3",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=14).map(" ".join))
def test_fuzzed_instructions_parse_or_are_refused_never_crash(text: str) -> None:
    try:
        intent = parse_intent(text)
    except IntentError as exc:
        assert exc.problems and all(p.field and p.message for p in exc.problems)
    else:
        assert intent.coin


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_arbitrary_text_parses_or_is_refused_never_crashes(text: str) -> None:
    try:
        parse_intent(text)
    except IntentError as exc:
        assert exc.problems
