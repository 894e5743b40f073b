"""The deterministic natural-language parser: common phrasings -> one intent, or a refusal.

It never guesses. Every piece of the text must be read by one of the patterns below (a few
filler words aside); anything left over, missing or ambiguous becomes an ``IntentError`` whose
problems name the missing piece (``coin``, ``amount``, ``price``, ``interval_secs`` ...) — the
422 the sidecar returns. Phrasings (case-insensitive, amounts as ``0.5 ETH``, ``$500``,
``500 usd``, ``$1.5k``, ``2m``; times as ``30s``, ``30m``, ``10 hours``, ``1d``):

* direct:      ``buy|sell|long|short AMOUNT [of] COIN [at market | at PRICE [gtc|ioc|post-only]]
  [reduce-only] [5x [isolated|cross]] [stop PRICE]``
* price limit: ``buy AMOUNT COIN if it drops to PRICE[, cancel above PRICE]``, ``sell ... if it
  rises to PRICE[, cancel below PRICE]``, ``buy AMOUNT COIN at PRICE / sell at PRICE``, with
  ``cancel after TIME``, ``cancel if N% away``
* DCA:         ``DCA $N into COIN over TIME every TIME``, ``DCA $N each into COIN every TIME,
  K times``, ``... max price PRICE``
* TWAP:        ``TWAP buy|sell AMOUNT COIN over TIME [every TIME]``
* EMA cross:   ``EMA cross COIN FAST/SLOW size AMOUNT [on 5m bars] [atr stop 2x] [atr filter 0.5%]``

Every template also reads ``live`` / ``paper`` / ``dry run`` and ``only in sideways|expansion``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from decimal import InvalidOperation
from typing import Final

from intents.schema import DCAIntent
from intents.schema import DirectBuyIntent
from intents.schema import EMACrossIntent
from intents.schema import Intent
from intents.schema import IntentError
from intents.schema import MarginMode
from intents.schema import OrderKind
from intents.schema import PriceLimitIntent
from intents.schema import Problem
from intents.schema import RegimeGate
from intents.schema import Side
from intents.schema import TWAPIntent
from intents.schema import intent_problems

__all__ = ["MAX_TEXT_CHARS", "parse_intent"]

MAX_TEXT_CHARS: Final[int] = 500

_NUM = r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
_SUFFIX = r"([km])?"
_UNIT = r"(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days)\b"
_TIME = _NUM + r"\s*" + _UNIT
_COIN = r"([a-z][a-z0-9]{1,9})"
_UNIT_SECS: Final[dict[str, int]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
}
# Words that may stand between the pieces without meaning anything.
_FILLER: Final[frozenset[str]] = frozenset(
    {"please", "of", "worth", "the", "and", "a", "an", "with", "then", "order", "orders", "me"}
)
# Words that are never a coin name.
_KEYWORDS: Final[frozenset[str]] = frozenset(
    {
        "buy", "sell", "long", "short", "at", "market", "limit", "ioc", "gtc", "alo", "post",
        "only", "reduce", "stop", "loss", "sl", "if", "when", "it", "price", "drops", "falls",
        "dips", "rises", "climbs", "reaches", "to", "cancel", "above", "below", "under", "over",
        "after", "away", "every", "for", "times", "each", "per", "total", "budget", "into", "in",
        "dca", "twap", "ema", "cross", "size", "on", "bars", "bar", "atr", "filter", "live",
        "paper", "dry", "run", "isolated", "leverage", "usd", "usdc", "dollars", "max", "ceiling",
        "fast", "slow", "sideways", "expansion", "regime", "via", "goes", "moves", "is",
        "candles", "candle", "maker", "expire", "expires", "purchase", "buys", "stop-loss",
        *_UNIT_SECS, *_FILLER,
    }
)  # fmt: skip


class _Text:
    """The text being read: every matched span is blanked, so leftovers are easy to find."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.problems: list[Problem] = []

    def take(self, pattern: str) -> re.Match[str] | None:
        """The first match of ``pattern`` (word-bounded by the caller), consumed."""
        match = re.search(pattern, self.s)
        if match is not None:
            self.s = self.s[: match.start()] + " " * len(match.group(0)) + self.s[match.end() :]
        return match

    def take_all(self, pattern: str) -> list[re.Match[str]]:
        found = []
        while (match := self.take(pattern)) is not None:
            found.append(match)
        return found

    def fail(self, field: str, message: str) -> None:
        self.problems.append(Problem(field, message))

    def leftovers(self) -> list[str]:
        words = [w.strip(",;.!") for w in self.s.split()]
        return [w for w in words if w and w not in _FILLER]


def _normalize(text: str) -> str:
    s = text.lower().strip()
    s = re.sub(r"(?<=[0-9]),(?=[0-9]{3}\b)", "", s)  # 1,000 -> 1000
    s = s.replace("$ ", "$")
    s = re.sub(r"\s+", " ", s)
    return s


def _number(raw: str, suffix: str | None = None) -> Decimal:
    value = Decimal(raw)
    if suffix == "k":
        value *= 1000
    elif suffix == "m":
        value *= 1_000_000
    return value


def _secs(raw: str, unit: str) -> int:
    return int(Decimal(raw) * _UNIT_SECS[unit])


def _time_after(t: _Text, words: str) -> int | None:
    match = t.take(rf"\b(?:{words})\s+{_TIME}")
    return None if match is None else _secs(match.group(1), match.group(2))


def _price_after(t: _Text, words: str, at_sign: bool = False) -> Decimal | None:
    lead = rf"(?:\b(?:{words})|@)" if at_sign else rf"\b(?:{words})"
    match = t.take(rf"{lead}\s*\$?{_NUM}{_SUFFIX}(?![a-z0-9%])")
    return None if match is None else _number(match.group(1), match.group(2))


class _Amount:
    """An amount read from the text: coins or dollars, and the coin if it was named there."""

    def __init__(self, coin_qty: Decimal | None, usd: Decimal | None, coin: str | None) -> None:
        self.coin_qty = coin_qty
        self.usd = usd
        self.coin = coin


def _take_amount(t: _Text, prefix: str = "") -> _Amount | None:
    """``$500``, ``500 usd``, ``$1.5k [of|into|in] ETH``, ``0.5 ETH``; None when absent."""
    usd = t.take(
        rf"{prefix}(?:\${_NUM}{_SUFFIX}|{_NUM}{_SUFFIX}\s*(?:usd|usdc|dollars|\$))(?![a-z0-9])"
    )
    if usd is not None:
        raw = usd.group(1) or usd.group(3)
        suffix = usd.group(2) if usd.group(1) else usd.group(4)
        return _Amount(None, _number(raw, suffix), None)
    coin = t.take(rf"{prefix}{_NUM}{_SUFFIX}\s+{_COIN}\b")
    if coin is not None and coin.group(3) not in _KEYWORDS:
        return _Amount(_number(coin.group(1), coin.group(2)), None, coin.group(3).upper())
    if coin is not None:  # "500 at ...": a number without a unit; put the words back
        t.s = t.s[: coin.start()] + coin.group(0) + t.s[coin.end() :]
    return None


def _take_coin(t: _Text) -> str | None:
    match = t.take(rf"\b(?:of|into|in|on)\s+{_COIN}\b")
    if match is not None and match.group(1) not in _KEYWORDS:
        return match.group(1).upper()
    if match is not None:
        t.s = t.s[: match.start()] + match.group(0) + t.s[match.end() :]
    for word in re.findall(r"\b[a-z][a-z0-9]{1,9}\b", t.s):
        if word not in _KEYWORDS:
            t.take(rf"\b{word}\b")
            return word.upper()
    return None


def _common(t: _Text) -> tuple[bool | None, RegimeGate | None]:
    live: bool | None = None
    if t.take(r"\blive\b"):
        live = True
    if t.take(r"\b(?:paper|dry[- ]?run)\b"):
        if live:
            t.fail("live", "both 'live' and 'paper' were said")
        live = False
    gate = t.take(r"\bonly in (sideways|expansion)(?: regime)?\b")
    return live, None if gate is None else RegimeGate(gate.group(1).upper())


def _side(t: _Text) -> Side | None:
    match = t.take(r"\b(buy|long|sell|short)\b")
    if match is None:
        return None
    if re.search(r"\b(buy|long|sell|short)\b", t.s) and not re.search(r"/\s*sell\b", t.s):
        t.fail("side", "more than one of buy / sell / long / short: say one")
    return Side.BUY if match.group(1) in ("buy", "long") else Side.SELL


def _amount_and_coin(t: _Text, field: str) -> tuple[_Amount | None, str | None]:
    amount = _take_amount(t)
    coin = amount.coin if amount is not None and amount.coin else _take_coin(t)
    if amount is None:
        bare = t.take(rf"(?<![0-9.@$])(?<!at ){_NUM}{_SUFFIX}(?![0-9a-z%])")
        if bare is not None:
            n = bare.group(0)
            t.fail(field, f"{n} of what? say {n} ETH (coins) or ${n} (dollars)")
        else:
            t.fail(field, "missing: how much (e.g. 0.5 ETH or $500)")
    if coin is None:
        t.fail("coin", "missing: which coin (e.g. ETH)")
    return amount, coin


def _finish(t: _Text, build: dict[str, object], cls: type[Intent]) -> Intent:
    left = t.leftovers()
    if left:
        t.fail("text", f"could not read {' '.join(left)!r}")
    if t.problems:
        raise IntentError(t.problems)
    intent = cls(**build)  # type: ignore[arg-type]
    problems = intent_problems(intent)
    if problems:
        raise IntentError(problems)
    return intent


def _dca(t: _Text) -> Intent:
    live, gate = _common(t)
    each = bool(t.take(r"\b(?:each|per (?:order|buy|purchase))\b"))
    side = Side.SELL if t.take(r"\bsell\b") else Side.BUY
    t.take(r"\bbuy\b")
    total = bool(t.take(r"\b(?:total|budget|in total)\b"))
    amount, coin = _amount_and_coin(t, "budget_usd")
    duration = _time_after(t, "over|for")
    interval = _time_after(t, "every")
    count_m = t.take(r"\b([0-9]+)\s*(?:times|orders|buys)\b")
    ceiling = _price_after(t, r"max price|price ceiling|ceiling|only below|below|under")
    if amount is not None and amount.coin_qty is not None:
        t.fail("budget_usd", "DCA amounts are in dollars (e.g. $500), not coins")
    if interval is None:
        t.fail("interval_secs", "missing: how often (e.g. every 30m)")
    count = int(count_m.group(1)) if count_m else None
    if duration is None and count is None:
        t.fail("duration_secs", "missing: for how long (over 10h) or how many times (10 times)")
    if each and total:
        t.fail("budget_usd", "both 'each' and 'total' were said")
    usd = amount.usd if amount is not None else None
    budget = order_usd = None
    if duration is not None and count is None:
        if each:
            order_usd = usd
        else:
            budget = usd
    elif each:
        order_usd = usd
    elif total or count is None:
        budget = usd
    else:
        t.fail(
            "budget_usd",
            f"is ${usd} the whole budget or one buy? say 'total' or 'each'",
        )
    return _finish(
        t,
        {
            "coin": coin or "",
            "live": live,
            "regime_gate": gate,
            "side": side,
            "interval_secs": interval or 0,
            "budget_usd": budget,
            "order_notional_usd": order_usd,
            "order_count": count,
            "duration_secs": duration if count is None else None,
            "max_price_usd": ceiling,
        },
        DCAIntent,
    )


def _twap(t: _Text) -> Intent:
    live, gate = _common(t)
    reduce_only = bool(t.take(r"\breduce[- ]?only\b"))
    t.take(r"\bvia\b")
    side = _side(t)
    if side is None:
        t.fail("side", "missing: buy or sell")
    amount, coin = _amount_and_coin(t, "size_coin")
    horizon = _time_after(t, "over|for|in")
    interval = _time_after(t, "every")
    if horizon is None:
        t.fail("horizon_secs", "missing: over how long (e.g. over 1h)")
    return _finish(
        t,
        {
            "coin": coin or "",
            "live": live,
            "regime_gate": gate,
            "side": side or Side.BUY,
            "size_coin": amount.coin_qty if amount else None,
            "notional_usd": amount.usd if amount else None,
            "horizon_secs": horizon or 0,
            "interval_secs": interval,
            "reduce_only": reduce_only,
        },
        TWAPIntent,
    )


def _ema(t: _Text) -> Intent:
    live, gate = _common(t)
    atr_stop = t.take(
        rf"\batr stop\s*{_NUM}\s*x?(?![a-z0-9])|\bstop (?:at )?{_NUM}\s*x? atr\b"
        rf"|\b{_NUM}\s*x atr stop\b"
    ) or t.take(rf"\bstop\s*{_NUM}\s*x(?![a-z0-9])")
    atr_filter = t.take(rf"\batr filter\s*{_NUM}\s*%|\batr (?:above|over|>=?)\s*{_NUM}\s*%")
    atr_period = t.take(r"\batr\s*\(?([0-9]+)\)?(?![a-z0-9%.])")
    bars = t.take(r"\b(?:on\s+)?([0-9]+)\s*[- ]?(m|min|minute|h|hour)s?\s+(?:bars?|candles?)\b")
    periods = t.take(r"\b([0-9]+)\s*/\s*([0-9]+)\b")
    fast = t.take(r"\bfast\s*([0-9]+)\b")
    slow = t.take(r"\bslow\s*([0-9]+)\b")
    amount = _take_amount(t, r"\bsize\s*") or _take_amount(t)
    coin = _take_coin(t)
    if amount is not None and amount.coin and coin is None:
        coin = amount.coin
    elif amount is not None and amount.coin and amount.coin != coin:
        t.fail("coin", f"two coins: {coin} and {amount.coin}")
    if amount is None:
        t.fail("trade_notional_usd", "missing: the size per trade (e.g. size $1000)")
    if coin is None:
        t.fail("coin", "missing: which coin (e.g. BTC)")
    fast_p = slow_p = None
    if periods is not None:
        fast_p, slow_p = int(periods.group(1)), int(periods.group(2))
    if fast is not None:
        fast_p = int(fast.group(1))
    if slow is not None:
        slow_p = int(slow.group(1))
    if fast_p is None or slow_p is None:
        t.fail("fast_period", "missing: the EMA periods (e.g. 10/20 or fast 10 slow 20)")
    minutes = 1
    if bars is not None:
        minutes = int(bars.group(1)) * (60 if bars.group(2).startswith("h") else 1)
    build: dict[str, object] = {
        "coin": coin or "",
        "live": live,
        "regime_gate": gate,
        "fast_period": fast_p or 0,
        "slow_period": slow_p or 0,
        "bar_minutes": minutes,
        "trade_notional_usd": amount.usd if amount else None,
        "trade_size_coin": amount.coin_qty if amount else None,
        "atr_filter_min_pct": None
        if atr_filter is None
        else Decimal(atr_filter.group(1) or atr_filter.group(2)),
        "atr_stop_multiple": None
        if atr_stop is None
        else Decimal(next(g for g in atr_stop.groups() if g is not None)),
    }
    if atr_period is not None:
        build["atr_period"] = int(atr_period.group(1))
    return _finish(t, build, EMACrossIntent)


def _order(t: _Text) -> Intent:
    """Direct orders and price-limit orders (the latter when a trigger or cancel is said)."""
    live, gate = _common(t)
    reduce_only = bool(t.take(r"\breduce[- ]?only\b"))
    cancel_above = _price_after(t, r"cancel (?:if (?:it |price )?goes )?(?:above|over)")
    cancel_below = _price_after(t, r"cancel (?:if (?:it |price )?goes )?(?:below|under)")
    away = t.take(
        rf"\bcancel (?:if )?(?:(?:it|price|the price) )?(?:(?:moves|is) )?{_NUM}\s*% away\b"
    )
    cancel_after = _time_after(t, "cancel after|expires? after|expires? in")
    drop = _price_after(t, r"(?:if|when) (?:it|price|the price) (?:drops|falls|dips) to")
    rise = _price_after(t, r"(?:if|when) (?:it|price|the price) (?:rises|climbs|reaches) to")
    second = t.take(
        rf"(?:/|,?\s*and|,?\s*then)\s*sell\s*(?:at\s*|@\s*)\$?{_NUM}{_SUFFIX}(?![a-z0-9%])"
    )
    second_sell = None if second is None else _number(second.group(1), second.group(2))
    stop = _price_after(t, r"(?:stop[- ]loss|stop|sl)(?: at)?")
    leverage = t.take(r"\b(?:([0-9]+)\s*x(?: leverage)?|leverage\s*([0-9]+)\s*x?)(?![a-z0-9])")
    margin = t.take(r"\b(isolated|cross)\b")
    kind_m = t.take(r"\b(ioc|gtc|post[- ]?only|alo|maker[- ]only|limit(?!\s*\$?[0-9]))\b")
    market = t.take(r"\b(?:at )?market\b")
    side = _side(t)
    price = _price_after(t, r"at|limit", at_sign=True)
    amount, coin = _amount_and_coin(t, "size_coin")
    if side is None:
        t.fail("side", "missing: buy, sell, long or short")
    limit_like = any(
        x is not None for x in (cancel_above, cancel_below, away, cancel_after, drop, rise)
    )
    if limit_like or second_sell is not None:
        return _price_limit(
            t,
            side=side,
            amount=amount,
            coin=coin,
            price=price,
            drop=drop,
            rise=rise,
            second_sell=second_sell,
            cancels=(cancel_above, cancel_below, away, cancel_after),
            extras=(stop, leverage, kind_m, market, reduce_only),
            common=(live, gate),
        )
    kind = OrderKind.MARKET
    if kind_m is not None:
        word = kind_m.group(1)
        kind = {"ioc": OrderKind.IOC, "gtc": OrderKind.LIMIT_GTC, "limit": OrderKind.LIMIT_GTC}.get(
            word, OrderKind.LIMIT_ALO
        )
    elif price is not None:
        kind = OrderKind.LIMIT_GTC
    if market is not None and (price is not None or kind_m is not None):
        t.fail("order_kind", "both 'market' and a limit price or time in force were said")
    if kind != OrderKind.MARKET and price is None:
        t.fail(
            "limit_price_usd",
            f"missing: the price of the {kind_m.group(1) if kind_m else ''} order (e.g. at 2400)",
        )
    lev = None if leverage is None else int(leverage.group(1) or leverage.group(2))
    return _finish(
        t,
        {
            "coin": coin or "",
            "live": live,
            "regime_gate": gate,
            "side": side or Side.BUY,
            "size_coin": amount.coin_qty if amount else None,
            "notional_usd": amount.usd if amount else None,
            "order_kind": kind,
            "limit_price_usd": price,
            "reduce_only": reduce_only,
            "leverage": lev,
            "margin_mode": None if margin is None else MarginMode(margin.group(1)),
            "stop_price_usd": stop,
        },
        DirectBuyIntent,
    )


def _price_limit(
    t: _Text,
    *,
    side: Side | None,
    amount: _Amount | None,
    coin: str | None,
    price: Decimal | None,
    drop: Decimal | None,
    rise: Decimal | None,
    second_sell: Decimal | None,
    cancels: tuple[Decimal | None, Decimal | None, re.Match[str] | None, int | None],
    extras: tuple[object, ...],
    common: tuple[bool | None, RegimeGate | None],
) -> Intent:
    cancel_above, cancel_below, away, cancel_after = cancels
    stop, leverage, kind_m, market, reduce_only = extras
    if stop is not None or leverage is not None or market is not None or reduce_only:
        t.fail("text", "a resting price-limit order takes no stop, leverage, market or reduce-only")
    if kind_m is not None and kind_m.group(1) not in ("gtc", "limit"):  # type: ignore[attr-defined]
        t.fail("text", "a resting price-limit order is GTC: ioc / post-only do not apply")
    buy_px = sell_px = None
    if side == Side.BUY:
        if rise is not None:
            t.fail("buy_price_usd", "a buy 'if it rises to' is a stop entry, not a resting limit")
        buy_px = drop if drop is not None else price
        sell_px = second_sell
        if drop is not None and price is not None:
            t.fail("buy_price_usd", "two buy prices: 'at' and 'drops to'")
    elif side == Side.SELL:
        if drop is not None:
            t.fail("sell_price_usd", "a sell 'if it drops to' is a stop, not a resting limit")
        if second_sell is not None:
            t.fail("sell_price_usd", "'/ sell at' follows a buy leg")
        sell_px = rise if rise is not None else price
        if rise is not None and price is not None:
            t.fail("sell_price_usd", "two sell prices: 'at' and 'rises to'")
    if side is not None and buy_px is None and sell_px is None and drop is None and rise is None:
        t.fail("buy_price_usd" if side == Side.BUY else "sell_price_usd", "missing: the price")
    live, gate = common
    return _finish(
        t,
        {
            "coin": coin or "",
            "live": live,
            "regime_gate": gate,
            "buy_price_usd": buy_px,
            "sell_price_usd": sell_px,
            "size_coin": amount.coin_qty if amount else None,
            "notional_usd": amount.usd if amount else None,
            "cancel_above_price_usd": cancel_above,
            "cancel_below_price_usd": cancel_below,
            "cancel_if_away_pct": None if away is None else Decimal(away.group(1)),
            "cancel_after_secs": cancel_after,
        },
        PriceLimitIntent,
    )


def parse_intent(text: str) -> Intent:
    """Read one intent from ``text``; raise IntentError listing what is missing or unreadable."""
    if not isinstance(text, str) or not text.strip():
        raise IntentError([Problem("text", "empty: say what to trade")])
    if len(text) > MAX_TEXT_CHARS:
        raise IntentError([Problem("text", f"longer than {MAX_TEXT_CHARS} characters")])
    t = _Text(_normalize(text))
    try:
        if t.take(r"^dca\b") or t.take(r"\bdca\b"):
            return _dca(t)
        if t.take(r"\btwap\b"):
            return _twap(t)
        if t.take(r"\bema[- ]?cross(?:over)?\b"):
            return _ema(t)
        if re.search(r"\b(buy|sell|long|short)\b", t.s):
            return _order(t)
    except (InvalidOperation, ValueError, OverflowError) as exc:
        if isinstance(exc, IntentError):
            raise
        raise IntentError([Problem("text", f"a number could not be read ({exc})")]) from None
    raise IntentError(
        [Problem("template", "no known instruction: start with buy, sell, DCA, TWAP or EMA cross")]
    )
