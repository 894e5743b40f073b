"""The compiler: every validation rule with the message a user sees, the dry-run-first rule,
plans that are deterministic, and configs that build the template strategies."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.config import StrategyFactory

from intents.compiler import UserProfile
from intents.compiler import compile_intent
from intents.parser import parse_intent
from intents.plan import Plan
from intents.schema import DCAIntent
from intents.schema import DirectBuyIntent
from intents.schema import EMACrossIntent
from intents.schema import Intent
from intents.schema import IntentError
from intents.schema import MarginMode
from intents.schema import OrderKind
from intents.schema import PriceLimitIntent
from intents.schema import Side
from intents.schema import TWAPIntent
from intents.venue import InstrumentMeta
from intents.venue import VenueSnapshot

SNAPSHOT = VenueSnapshot(
    source="test snapshot",
    taken_at_ms=1_000_000,
    instruments={
        "ETH": InstrumentMeta(coin="ETH", sz_decimals=4, max_leverage=25, mark_px_usd=D("2500")),
        "BTC": InstrumentMeta(coin="BTC", sz_decimals=5, max_leverage=40, mark_px_usd=D("80000")),
        "NOPX": InstrumentMeta(coin="NOPX", sz_decimals=2, max_leverage=3, mark_px_usd=None),
    },
)
USER = UserProfile()


def compile_(intent: Intent, user: UserProfile = USER, now_ms: int = 2_000_000) -> Plan:
    return compile_intent(intent, SNAPSHOT, user, now_ms=now_ms)


def problems_of(intent: Intent, user: UserProfile = USER) -> list[tuple[str, str]]:
    with pytest.raises(IntentError) as caught:
        compile_(intent, user)
    return [(p.field, p.message) for p in caught.value.problems]


def has(problems: list[tuple[str, str]], field: str, words: str) -> bool:
    return any(f == field and words in m for f, m in problems)


def dca(**kw: object) -> DCAIntent:
    values: dict[str, object] = {
        "coin": "ETH",
        "budget_usd": D(500),
        "duration_secs": 36000,
        "interval_secs": 1800,
    }
    values.update(kw)
    return DCAIntent(**values)  # type: ignore[arg-type]


def buy(**kw: object) -> DirectBuyIntent:
    values: dict[str, object] = {"coin": "ETH", "side": Side.BUY, "size_coin": D("0.1")}
    values.update(kw)
    return DirectBuyIntent(**values)  # type: ignore[arg-type]


# --- the instrument, the allowlist -----------------------------------------------------------


def test_unknown_coin_is_refused_naming_the_snapshot_and_the_known_coins() -> None:
    problems = problems_of(dca(coin="DOGE"))
    assert has(problems, "coin", "'DOGE' is not a perp in test snapshot (known: BTC, ETH, NOPX)")


def test_coin_without_a_reference_price_is_refused() -> None:
    assert has(problems_of(dca(coin="NOPX")), "coin", "NOPX has no reference price")


def test_coin_outside_the_allowlist_is_refused() -> None:
    user = UserProfile(allowed_coins=("BTC",))
    assert has(problems_of(dca(), user), "coin", "ETH is not in your allowlist (BTC)")


# --- the venue's number rules ------------------------------------------------------------------


def test_price_with_too_many_decimals_for_the_coin_is_refused_with_the_venue_rule() -> None:
    intent = buy(order_kind=OrderKind.LIMIT_GTC, limit_price_usd=D("2400.123"))
    problems = problems_of(intent)
    assert has(problems, "limit_price_usd", "price 2400.123 has 7 significant figures")
    assert has(problems, "limit_price_usd", "has 3 decimals (max 2 for perp with szDecimals 4)")


def test_size_with_more_decimals_than_sz_decimals_is_refused() -> None:
    problems = problems_of(buy(size_coin=D("0.12345")))
    assert has(problems, "size_coin", "size 0.12345 has 5 decimals (max szDecimals 4) for ETH")


def test_order_under_the_venue_minimum_is_refused() -> None:
    problems = problems_of(buy(size_coin=D("0.001")))  # $2.50
    assert has(problems, "size_coin", "the order is worth $2.50, below the venue's $10 minimum")


def test_dca_slices_under_the_minimum_are_refused_saying_how_many_fit() -> None:
    problems = problems_of(dca(budget_usd=D(50)))
    assert has(
        problems,
        "budget_usd",
        "20 orders of $2.50 are each below the venue's $10 minimum",
    )
    assert has(problems, "budget_usd", "at most 4 orders fit this budget")


def test_twap_smaller_than_one_child_is_refused() -> None:
    intent = TWAPIntent(coin="ETH", side=Side.BUY, size_coin=D("0.002"), horizon_secs=60)
    assert has(problems_of(intent), "size_coin", "the whole order is worth $5.00")


def test_price_limit_leg_under_the_minimum_is_refused() -> None:
    intent = PriceLimitIntent(coin="ETH", buy_price_usd=D(2000), size_coin=D("0.004"))
    assert has(problems_of(intent), "size_coin", "the BUY leg is worth $8.00")


def test_resting_buy_above_the_mark_is_refused_because_it_would_fill_at_once() -> None:
    intent = PriceLimitIntent(coin="ETH", buy_price_usd=D(2600), size_coin=D("0.1"))
    assert has(problems_of(intent), "buy_price_usd", "2600 would fill at once against the mark")


def test_post_only_order_that_would_cross_is_refused() -> None:
    intent = buy(order_kind=OrderKind.LIMIT_ALO, limit_price_usd=D(2600))
    assert has(problems_of(intent), "limit_price_usd", "would cross the mark 2500")


def test_stop_on_the_wrong_side_of_the_entry_is_refused() -> None:
    assert has(problems_of(buy(stop_price_usd=D(2600))), "stop_price_usd", "must be below")


# --- the user's caps ---------------------------------------------------------------------------


def test_order_above_the_per_order_cap_is_refused() -> None:
    user = UserProfile(max_order_notional_usd=D(100))
    problems = problems_of(buy(size_coin=D("0.1")), user)  # $250
    assert has(problems, "size_coin", "one order of $250.00 is above your per-order cap $100.00")


def test_intent_above_the_per_intent_cap_is_refused() -> None:
    user = UserProfile(max_intent_notional_usd=D(400))
    problems = problems_of(dca(), user)
    assert has(problems, "budget_usd", "$500.00 in total is above your per-intent cap $400.00")


def test_leverage_above_the_coins_maximum_is_refused() -> None:
    problems = problems_of(buy(leverage=30), UserProfile(max_leverage=50))
    assert has(problems, "leverage", "30x is above ETH's venue maximum 25x")


def test_leverage_above_the_users_limit_is_refused() -> None:
    assert has(problems_of(buy(leverage=8)), "leverage", "8x is above your limit 5x")


def test_every_problem_is_returned_at_once() -> None:
    intent = buy(
        size_coin=D("0.00011"), leverage=30, order_kind=OrderKind.LIMIT_GTC,
        limit_price_usd=D("2400.123"),
    )  # fmt: skip
    fields = [f for f, _ in problems_of(intent)]
    assert {"size_coin", "leverage", "limit_price_usd"} <= set(fields)
    assert len(fields) >= 4


def test_schema_rules_come_back_with_their_fields() -> None:
    intent = DCAIntent(coin="ETH", interval_secs=0, budget_usd=D(-5))
    problems = problems_of(intent)
    assert has(problems, "interval_secs", "must be greater than 0, was 0")
    assert has(problems, "budget_usd", "must be greater than 0, was -5")


# --- dry-run first -----------------------------------------------------------------------------


def test_first_intent_on_an_instrument_runs_on_paper() -> None:
    plan = compile_(dca(), UserProfile(live_allowed=True))
    assert not plan.live
    assert plan.strategy_config.config["dry_run"] is True
    assert any("first intent on ETH runs on paper" in n for n in plan.notes)


def test_live_is_used_when_asked_and_allowed() -> None:
    plan = compile_(dca(live=True), UserProfile(live_allowed=True))
    assert plan.live
    assert plan.strategy_config.config["dry_run"] is False
    assert "LIVE" in plan.render()


def test_live_asked_by_a_user_not_allowed_live_runs_on_paper_and_says_so() -> None:
    plan = compile_(dca(live=True), UserProfile(live_allowed=False, user_id="ann"))
    assert not plan.live
    assert any("user ann is not allowed live trading" in n for n in plan.notes)


def test_later_intent_on_a_traded_instrument_follows_the_live_permission() -> None:
    user = UserProfile(live_allowed=True, coins_traded=("ETH",))
    assert compile_(dca(), user).live
    assert not compile_(dca(live=False), user).live


# --- plans -------------------------------------------------------------------------------------


def test_same_intent_gives_the_same_plan_and_hash_whenever_compiled() -> None:
    first = compile_(dca(), now_ms=2_000_000)
    second = compile_(dca(), now_ms=9_000_000)
    assert first.config_hash == second.config_hash
    assert first.strategy_config.config == second.strategy_config.config
    assert "16 min old" in first.render()
    assert "2 h 13 min old" in second.render()  # only the snapshot's age differs


def test_a_different_intent_gives_a_different_hash() -> None:
    assert compile_(dca()).config_hash != compile_(dca(budget_usd=D(600))).config_hash


def test_dca_plan_states_orders_schedule_notional_and_fees_in_numbers() -> None:
    plan = compile_(dca())
    text = plan.render()
    assert "BUY $25.00 of ETH at market, 20 times" in text
    assert "every 30 min: first at start, last after 9 h 30 min" in text
    assert "about $500.00" in text
    assert "about $0.23 (taker 0.045%)" in text  # 500 * 0.00045 = 0.225
    assert "DRY-RUN: paper trading" in text
    assert "prices from: test snapshot, 16 min old" in text
    assert f"config hash: {plan.config_hash}" in text


def test_direct_plan_states_the_worst_case_loss_through_its_stop() -> None:
    plan = compile_(buy(size_coin=D("0.1"), stop_price_usd=D(2400)))
    # 0.1 * (2500 - 2400) + fees 0.1*2500*0.00045 + 0.1*2400*0.00045 = 10.2205, rounded up
    assert plan.worst_case_loss.startswith("$10.23 if the stop at 2400 fills at its price")
    assert plan.strategy_config.config["close_on_stop"] is True


def test_twap_uses_fewer_larger_slices_when_the_total_is_small_and_says_so() -> None:
    intent = TWAPIntent(coin="ETH", side=Side.SELL, notional_usd=D(45), horizon_secs=600)
    plan = compile_(intent)
    assert plan.strategy_config.config["slices"] == 4
    assert any("4 slices instead of 10" in n for n in plan.notes)
    per = D(plan.lines[0].split("slices of ")[1].split(" ")[0])
    assert per * D(2500) >= D("10.5")


def test_twap_total_is_rounded_to_equal_slices() -> None:
    intent = TWAPIntent(
        coin="ETH", side=Side.BUY, size_coin=D("0.1003"), horizon_secs=300, interval_secs=60
    )
    plan = compile_(intent)
    assert plan.strategy_config.config["quantity"] == "0.1000"
    assert plan.strategy_config.config["slices"] == 5
    assert any("0.1003 rounded to 5 equal slices: 0.1000 in total" in n for n in plan.notes)


TEMPLATES: list[Intent] = [
    buy(leverage=3, margin_mode=MarginMode.ISOLATED, stop_price_usd=D(2300)),
    PriceLimitIntent(coin="ETH", buy_price_usd=D(2400), sell_price_usd=D(2600),
                     notional_usd=D(100), cancel_after_secs=60, cancel_if_away_pct=D(5)),
    EMACrossIntent(coin="BTC", trade_notional_usd=D(100), atr_stop_multiple=D(2)),
    TWAPIntent(coin="BTC", side=Side.SELL, size_coin=D("0.01"), horizon_secs=600),
    dca(max_price_usd=D(2600)),
]  # fmt: skip


@pytest.mark.parametrize("intent", TEMPLATES, ids=lambda i: type(i).__name__)
def test_every_template_config_builds_its_strategy(intent: Intent) -> None:
    plan = compile_(intent)
    strategy = StrategyFactory.create(plan.strategy_config)
    assert strategy.id.value.endswith(plan.config_hash[:8])
    assert type(strategy).__name__ == plan.template


_WORDS = st.sampled_from(
    [
        "buy", "sell", "dca", "twap", "ema cross", "eth", "btc", "nopx", "doge", "$5", "$500",
        "$50k", "0.00001", "0.5", "3", "at", "2400", "2400.123", "99999", "ioc", "post-only",
        "over", "every", "1s", "10h", "30m", "7d", "if it drops to", "if it rises to",
        "cancel above", "cancel after", "each", "total", "times", "40x", "2x", "stop", "size",
        "10/20", "2/4", "atr stop 2x", "live", "paper", "max price", "reduce-only", "/ sell at",
    ]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, min_size=2, max_size=12).map(" ".join))
def test_anything_the_parser_reads_compiles_or_is_refused_never_crashes(text: str) -> None:
    try:
        intent = parse_intent(text)
    except IntentError:
        return
    for user in (USER, UserProfile(live_allowed=True, max_leverage=50)):
        try:
            plan = compile_(intent, user)
        except IntentError as exc:
            assert exc.problems and all(p.field and p.message for p in exc.problems)
        else:
            assert plan.config_hash == compile_(intent, user).config_hash


_AMOUNTS = st.one_of(
    st.none(), st.decimals(min_value="-10", max_value="1000000", places=5, allow_nan=False)
)
_INTS = st.one_of(st.none(), st.integers(min_value=-5, max_value=200_000))
_COINS = st.sampled_from(["ETH", "BTC", "NOPX", "DOGE", "", " eth"])
_SIDES = st.sampled_from([Side.BUY, Side.SELL])
_ANY_INTENT = st.one_of(
    st.builds(DirectBuyIntent, coin=_COINS, side=_SIDES, size_coin=_AMOUNTS,
              notional_usd=_AMOUNTS, order_kind=st.sampled_from(list(OrderKind)),
              limit_price_usd=_AMOUNTS, leverage=_INTS, stop_price_usd=_AMOUNTS,
              reduce_only=st.booleans()),
    st.builds(PriceLimitIntent, coin=_COINS, buy_price_usd=_AMOUNTS, sell_price_usd=_AMOUNTS,
              size_coin=_AMOUNTS, notional_usd=_AMOUNTS, cancel_above_price_usd=_AMOUNTS,
              cancel_if_away_pct=_AMOUNTS, cancel_after_secs=_INTS),
    st.builds(EMACrossIntent, coin=_COINS, fast_period=st.integers(-3, 60),
              slow_period=st.integers(-3, 60), bar_minutes=st.integers(-1, 120),
              trade_notional_usd=_AMOUNTS, trade_size_coin=_AMOUNTS, atr_stop_multiple=_AMOUNTS),
    st.builds(TWAPIntent, coin=_COINS, side=_SIDES, size_coin=_AMOUNTS, notional_usd=_AMOUNTS,
              horizon_secs=st.integers(-5, 100_000), interval_secs=_INTS),
    st.builds(DCAIntent, coin=_COINS, side=_SIDES, interval_secs=st.integers(-5, 100_000),
              budget_usd=_AMOUNTS, order_notional_usd=_AMOUNTS, order_count=_INTS,
              duration_secs=_INTS, max_price_usd=_AMOUNTS),
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(_ANY_INTENT)
def test_any_intent_however_wrong_compiles_or_is_refused_field_by_field(intent: Intent) -> None:
    try:
        plan = compile_(intent, UserProfile(live_allowed=True, max_leverage=50))
    except IntentError as exc:
        assert exc.problems
        assert all(p.field and p.message for p in exc.problems)
    else:
        assert plan.notional_usd > 0
        StrategyFactory.create(plan.strategy_config)


def test_schema_and_venue_problems_come_back_together() -> None:
    intent = buy(size_coin=D("-1"), leverage=30, stop_price_usd=D("2400.123"))
    problems = problems_of(intent, UserProfile(max_leverage=50))
    assert has(problems, "size_coin", "must be greater than 0, was -1")
    assert has(problems, "leverage", "30x is above ETH's venue maximum 25x")
    assert has(problems, "stop_price_usd", "has 7 significant figures")
    assert not has(problems, "size_coin", "worth")  # one cause, one message


def test_bars_of_a_length_the_venue_has_no_candle_for_are_refused() -> None:
    intent = EMACrossIntent(coin="BTC", trade_notional_usd=D(100), bar_minutes=7)
    assert has(problems_of(intent), "bar_minutes", "7 is not a Hyperliquid candle length")


def test_hour_bars_use_the_venues_hour_candles() -> None:
    plan = compile_(EMACrossIntent(coin="BTC", trade_notional_usd=D(100), bar_minutes=60))
    assert (
        plan.strategy_config.config["bar_type"] == "BTC-USD-PERP.HYPERLIQUID-1-HOUR-LAST-EXTERNAL"
    )
