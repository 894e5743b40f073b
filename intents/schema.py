"""The intent schema: one typed model per template, units in every field name.

An intent is what a trader asked for, before anything is checked against the venue or the
user's limits. Both natural-language paths (the deterministic parser and the LLM) produce these
models, and the compiler is the only consumer. Field-level rules that need no venue data
(positive amounts, one of size or notional, sane periods) live here as ``problems()``, which
returns every problem at once — msgspec's own constraints would stop at the first one.

The models are ``msgspec.Struct``s tagged on ``template`` so JSON round-trips through one
union (``Intent``) and the LLM path can be handed the JSON schema of exactly that union.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from enum import unique
from typing import Final

import msgspec

__all__ = [
    "TEMPLATES",
    "DCAIntent",
    "DirectBuyIntent",
    "EMACrossIntent",
    "Intent",
    "IntentError",
    "MarginMode",
    "OrderKind",
    "PriceLimitIntent",
    "Problem",
    "RegimeGate",
    "Side",
    "TWAPIntent",
    "decode_intent",
    "intent_json_schema",
    "intent_problems",
    "intent_to_builtins",
]


@unique
class Side(StrEnum):
    """Which way: BUY opens or adds long (or reduces a short), SELL the opposite."""

    BUY = "BUY"
    SELL = "SELL"


@unique
class OrderKind(StrEnum):
    """DirectBuy's one order: a market order, a resting limit (GTC), post-only (ALO), or IOC."""

    MARKET = "MARKET"
    LIMIT_GTC = "LIMIT_GTC"
    LIMIT_ALO = "LIMIT_ALO"
    IOC = "IOC"


@unique
class MarginMode(StrEnum):
    """The venue's margin modes for a perp position."""

    CROSS = "cross"
    ISOLATED = "isolated"


@unique
class RegimeGate(StrEnum):
    """Which regime a template may run in when it asks to be gated (default: not gated)."""

    SIDEWAYS = "SIDEWAYS"
    EXPANSION = "EXPANSION"


class Problem(msgspec.Struct, frozen=True):
    """One thing wrong with an intent: the field it concerns and what is wrong, in words."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class IntentError(ValueError):
    """An intent that cannot be compiled (or text that cannot be read), with every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


class _Base(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="template", forbid_unknown_fields=True
):
    """Fields every template has.

    coin: the venue's coin name (``ETH``); live: True asks for live trading, False for paper,
    None leaves it to the dry-run-first rule; regime_gate: None (not gated) or a regime.
    """

    coin: str
    live: bool | None = None
    regime_gate: RegimeGate | None = None


class DirectBuyIntent(_Base, frozen=True, kw_only=True, tag="direct"):
    """One order now: market, limit (GTC or ALO) or IOC, sized in coins or dollars."""

    side: Side
    size_coin: Decimal | None = None
    notional_usd: Decimal | None = None
    order_kind: OrderKind = OrderKind.MARKET
    limit_price_usd: Decimal | None = None
    reduce_only: bool = False
    leverage: int | None = None
    margin_mode: MarginMode | None = None
    stop_price_usd: Decimal | None = None


class PriceLimitIntent(_Base, frozen=True, kw_only=True, tag="price_limit"):
    """Resting GTC orders at set prices (a buy leg, a sell leg, or both) with cancel conditions.

    cancel_above_price_usd / cancel_below_price_usd: cancel every leg once the mid crosses;
    cancel_if_away_pct: cancel a leg when the mid is more than N % away from its price;
    cancel_after_secs: time limit; cancel_on_opposite_fill: a fill on one leg cancels the other.
    """

    buy_price_usd: Decimal | None = None
    sell_price_usd: Decimal | None = None
    size_coin: Decimal | None = None
    notional_usd: Decimal | None = None
    cancel_above_price_usd: Decimal | None = None
    cancel_below_price_usd: Decimal | None = None
    cancel_if_away_pct: Decimal | None = None
    cancel_after_secs: int | None = None
    cancel_on_opposite_fill: bool = True


class EMACrossIntent(_Base, frozen=True, kw_only=True, tag="ema_cross"):
    """Long on the fast EMA crossing above the slow one, short (or flat) on the cross below."""

    fast_period: int = 10
    slow_period: int = 20
    bar_minutes: int = 1
    trade_notional_usd: Decimal | None = None
    trade_size_coin: Decimal | None = None
    atr_period: int = 14
    atr_filter_min_pct: Decimal | None = None
    atr_stop_multiple: Decimal | None = None


class TWAPIntent(_Base, frozen=True, kw_only=True, tag="twap"):
    """One order sliced evenly in time by NautilusTrader's TWAP execution algorithm."""

    side: Side
    size_coin: Decimal | None = None
    notional_usd: Decimal | None = None
    horizon_secs: int
    interval_secs: int | None = None
    reduce_only: bool = False


class DCAIntent(_Base, frozen=True, kw_only=True, tag="dca"):
    """A fixed notional every interval until the budget or the count is spent.

    Give the interval and two of: budget_usd, order_notional_usd, order_count, or a budget
    and a duration_secs (the count is then duration / interval).
    """

    side: Side = Side.BUY
    interval_secs: int
    budget_usd: Decimal | None = None
    order_notional_usd: Decimal | None = None
    order_count: int | None = None
    duration_secs: int | None = None
    max_price_usd: Decimal | None = None


type Intent = DirectBuyIntent | PriceLimitIntent | EMACrossIntent | TWAPIntent | DCAIntent

TEMPLATES: Final[dict[str, type[Intent]]] = {
    "direct": DirectBuyIntent,
    "price_limit": PriceLimitIntent,
    "ema_cross": EMACrossIntent,
    "twap": TWAPIntent,
    "dca": DCAIntent,
}

_DECODER: Final = msgspec.json.Decoder(Intent)


def decode_intent(data: bytes | str | dict[str, object]) -> Intent:
    """An intent from JSON text or a dict; raises IntentError naming the field on bad input."""
    try:
        if isinstance(data, dict):
            return msgspec.convert(data, Intent, strict=False)
        return _DECODER.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = "intent"
        if "at `$." in text:
            field = text.split("at `$.", 1)[1].split("`", 1)[0]
        return_text = text.split(" - at `", 1)[0]
        raise IntentError([Problem(field, return_text)]) from None
    except msgspec.DecodeError as exc:
        raise IntentError([Problem("intent", f"not valid JSON: {exc}")]) from None


def intent_to_builtins(intent: Intent) -> dict[str, object]:
    """The intent as JSON-ready builtins, with the ``template`` tag and defaults spelled out."""
    result = msgspec.to_builtins(intent)
    assert isinstance(result, dict)
    return result


def intent_json_schema() -> dict[str, object]:
    """The JSON schema of the intent union (handed to the LLM path)."""
    return msgspec.json.schema(Intent)


# --- rules that need no venue data ------------------------------------------------------------


def _positive(problems: list[Problem], field: str, value: Decimal | int | None) -> None:
    if value is not None and not value > 0:
        problems.append(Problem(field, f"must be greater than 0, was {value}"))


def _one_amount(
    problems: list[Problem],
    coin_field: str,
    coin: Decimal | None,
    usd_field: str,
    usd: Decimal | None,
) -> None:
    _positive(problems, coin_field, coin)
    _positive(problems, usd_field, usd)
    if coin is None and usd is None:
        problems.append(
            Problem(coin_field, f"give the size in coins ({coin_field}) or dollars ({usd_field})")
        )
    elif coin is not None and usd is not None:
        problems.append(Problem(coin_field, f"give {coin_field} or {usd_field}, not both"))


def _direct(intent: DirectBuyIntent, problems: list[Problem]) -> None:
    _one_amount(problems, "size_coin", intent.size_coin, "notional_usd", intent.notional_usd)
    _positive(problems, "limit_price_usd", intent.limit_price_usd)
    _positive(problems, "stop_price_usd", intent.stop_price_usd)
    needs_price = intent.order_kind != OrderKind.MARKET
    if needs_price and intent.limit_price_usd is None:
        problems.append(
            Problem("limit_price_usd", f"a {intent.order_kind} order needs a limit price")
        )
    if intent.order_kind == OrderKind.MARKET and intent.limit_price_usd is not None:
        problems.append(Problem("limit_price_usd", "a MARKET order takes no limit price"))
    if intent.leverage is not None and intent.leverage < 1:
        problems.append(Problem("leverage", f"must be an integer >= 1, was {intent.leverage}"))
    if intent.margin_mode is not None and intent.leverage is None:
        problems.append(Problem("margin_mode", "set together with leverage (the venue sets both)"))
    if intent.stop_price_usd is not None and intent.reduce_only:
        problems.append(Problem("stop_price_usd", "a reduce-only order opens nothing to protect"))


def _price_limit(intent: PriceLimitIntent, problems: list[Problem]) -> None:
    if intent.buy_price_usd is None and intent.sell_price_usd is None:
        problems.append(Problem("buy_price_usd", "give a buy price, a sell price or both"))
    _positive(problems, "buy_price_usd", intent.buy_price_usd)
    _positive(problems, "sell_price_usd", intent.sell_price_usd)
    _one_amount(problems, "size_coin", intent.size_coin, "notional_usd", intent.notional_usd)
    _positive(problems, "cancel_above_price_usd", intent.cancel_above_price_usd)
    _positive(problems, "cancel_below_price_usd", intent.cancel_below_price_usd)
    _positive(problems, "cancel_if_away_pct", intent.cancel_if_away_pct)
    _positive(problems, "cancel_after_secs", intent.cancel_after_secs)
    buy, sell = intent.buy_price_usd, intent.sell_price_usd
    if buy is not None and sell is not None and buy > 0 and sell > 0 and buy >= sell:
        problems.append(Problem("sell_price_usd", f"must be above the buy price {buy}, was {sell}"))
    above = intent.cancel_above_price_usd
    if above is not None and buy is not None and above > 0 and above <= buy:
        problems.append(
            Problem("cancel_above_price_usd", f"{above} must be above the buy price {buy}")
        )
    below = intent.cancel_below_price_usd
    if below is not None and sell is not None and below > 0 and below >= sell:
        problems.append(
            Problem("cancel_below_price_usd", f"{below} must be below the sell price {sell}")
        )


def _ema(intent: EMACrossIntent, problems: list[Problem]) -> None:
    _positive(problems, "fast_period", intent.fast_period)
    _positive(problems, "slow_period", intent.slow_period)
    _positive(problems, "bar_minutes", intent.bar_minutes)
    _positive(problems, "atr_period", intent.atr_period)
    _positive(problems, "atr_filter_min_pct", intent.atr_filter_min_pct)
    _positive(problems, "atr_stop_multiple", intent.atr_stop_multiple)
    if intent.fast_period > 0 and intent.fast_period >= intent.slow_period:
        problems.append(
            Problem(
                "fast_period",
                f"must be shorter than slow_period {intent.slow_period}, was {intent.fast_period}",
            )
        )
    _one_amount(
        problems,
        "trade_size_coin",
        intent.trade_size_coin,
        "trade_notional_usd",
        intent.trade_notional_usd,
    )


def _twap(intent: TWAPIntent, problems: list[Problem]) -> None:
    _one_amount(problems, "size_coin", intent.size_coin, "notional_usd", intent.notional_usd)
    _positive(problems, "horizon_secs", intent.horizon_secs)
    _positive(problems, "interval_secs", intent.interval_secs)
    interval = intent.interval_secs
    if interval is not None and interval > intent.horizon_secs > 0:
        problems.append(
            Problem(
                "interval_secs", f"{interval} s is longer than the horizon {intent.horizon_secs} s"
            )
        )


def _dca(intent: DCAIntent, problems: list[Problem]) -> None:
    _positive(problems, "interval_secs", intent.interval_secs)
    _positive(problems, "budget_usd", intent.budget_usd)
    _positive(problems, "order_notional_usd", intent.order_notional_usd)
    _positive(problems, "order_count", intent.order_count)
    _positive(problems, "duration_secs", intent.duration_secs)
    _positive(problems, "max_price_usd", intent.max_price_usd)
    if intent.max_price_usd is not None and intent.side == Side.SELL:
        problems.append(Problem("max_price_usd", "a price ceiling applies to buys only"))
    given = [
        name
        for name, value in (
            ("budget_usd", intent.budget_usd),
            ("order_notional_usd", intent.order_notional_usd),
            ("order_count", intent.order_count),
        )
        if value is not None
    ]
    if intent.duration_secs is not None:
        if intent.order_count is not None:
            problems.append(Problem("duration_secs", "give duration_secs or order_count, not both"))
        elif len(given) != 1:
            problems.append(
                Problem(
                    "duration_secs",
                    "with a duration give exactly one of budget_usd or order_notional_usd",
                )
            )
        elif intent.interval_secs > 0 and intent.duration_secs < intent.interval_secs:
            problems.append(
                Problem(
                    "duration_secs",
                    f"{intent.duration_secs} s is shorter than one interval "
                    f"({intent.interval_secs} s)",
                )
            )
    elif len(given) != 2:
        problems.append(
            Problem(
                "budget_usd",
                "give two of budget_usd, order_notional_usd, order_count "
                f"(or a budget and duration_secs); got {', '.join(given) or 'none'}",
            )
        )


_RULES: Final = {
    DirectBuyIntent: _direct,
    PriceLimitIntent: _price_limit,
    EMACrossIntent: _ema,
    TWAPIntent: _twap,
    DCAIntent: _dca,
}


def intent_problems(intent: Intent) -> list[Problem]:
    """Every rule the intent breaks on its own (no venue data), in field order; [] when fine."""
    problems: list[Problem] = []
    coin = intent.coin.strip()
    if not coin or coin != intent.coin or " " in coin:
        problems.append(Problem("coin", f"must be a coin name such as ETH, was {intent.coin!r}"))
    _RULES[type(intent)](intent, problems)  # type: ignore[operator]
    return problems
