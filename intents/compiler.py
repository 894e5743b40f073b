"""The intent compiler: intent -> every problem at once, or a plan and a strategy config.

Pure: no HTTP, no clock, no node. The caller passes the venue snapshot, the user's limits and
history, and ``now_ms`` (only used to say how old the snapshot is — it is not hashed, so the same
intent on the same snapshot and user always gives the same config hash).

Rules, each reported with the field it concerns:
the intent's own rules (``schema.intent_problems``); the coin exists in the snapshot and has a
reference price; the user's allowlist; every price valid for the venue (5 significant figures,
``6 - szDecimals`` decimals); every size valid (szDecimals); every order worth at least the
venue's $10 (with the margin of ``strategies.templates.sizing``); resting orders that would not
rest; per-order and per-intent notional caps; leverage within the instrument's and the user's
limits; the dry-run-first rule for live trading.
"""

from __future__ import annotations

import hashlib
import json
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import ROUND_HALF_EVEN
from decimal import Decimal
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.config import ImportableStrategyConfig
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.constants import CALENDAR_MONTH_INTERVAL
from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from adapters.hyperliquid.numbers import price_error
from adapters.hyperliquid.numbers import size_error
from adapters.hyperliquid.parsing import CANDLE_INTERVAL_SPECS
from adapters.hyperliquid.parsing import bar_type_for_interval
from intents.plan import Plan
from intents.schema import DCAIntent
from intents.schema import DirectBuyIntent
from intents.schema import EMACrossIntent
from intents.schema import Intent
from intents.schema import IntentError
from intents.schema import OrderKind
from intents.schema import PriceLimitIntent
from intents.schema import Problem
from intents.schema import Side
from intents.schema import TWAPIntent
from intents.schema import intent_problems
from intents.schema import intent_to_builtins
from intents.venue import InstrumentMeta
from intents.venue import VenueSnapshot
from strategies.templates.sizing import MIN_ORDER_NOTIONAL_USD
from strategies.templates.sizing import quantity_for_notional
from strategies.templates.sizing import twap_slices

__all__ = [
    "TEMPLATE_PATHS",
    "UserProfile",
    "compile_intent",
    "config_hash",
]

TEMPLATE_PATHS: Final[dict[type, tuple[str, str]]] = {
    DirectBuyIntent: ("strategies.templates.direct_buy", "DirectBuy"),
    PriceLimitIntent: ("strategies.templates.price_limit", "PriceLimit"),
    EMACrossIntent: ("strategies.templates.ema_cross", "EMACrossTemplate"),
    TWAPIntent: ("strategies.templates.twap", "TWAPTemplate"),
    DCAIntent: ("strategies.templates.dca", "DCA"),
}
"""Module and class of each template; the config class is the class name + ``Config``."""

DEFAULT_TWAP_SLICES: Final[int] = 10
# The venue's candle intervals NautilusTrader can name, by length in minutes (not the month).
CANDLE_MINUTES: Final[dict[int, str]] = {
    CANDLE_INTERVAL_MS[name] // 60_000: name
    for name in CANDLE_INTERVAL_SPECS
    if name != CALENDAR_MONTH_INTERVAL
}
CENT: Final[Decimal] = Decimal("0.01")


class UserProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What a user may do.

    Parameters
    ----------
    user_id : str
        Who.
    allowed_coins : tuple[str, ...] | None
        The instrument allowlist (None: every coin of the snapshot).
    max_order_notional_usd : Decimal
        The most one order may be worth.
    max_intent_notional_usd : Decimal
        The most one intent may trade in total.
    max_leverage : int
        The highest leverage the user may set.
    live_allowed : bool
        Whether the user may trade live at all.
    coins_traded : tuple[str, ...]
        Coins the user has already run an intent on (the dry-run-first rule).
    """

    user_id: str = "local"
    allowed_coins: tuple[str, ...] | None = None
    max_order_notional_usd: Decimal = Decimal(10_000)
    max_intent_notional_usd: Decimal = Decimal(50_000)
    max_leverage: int = 5
    live_allowed: bool = False
    coins_traded: tuple[str, ...] = ()


def _usd(value: Decimal, up: bool = False) -> str:
    """Dollars to the cent; ``up`` rounds toward the larger figure (fees and losses)."""
    return f"${value.quantize(CENT, ROUND_CEILING if up else ROUND_HALF_EVEN):,}"


def config_hash(strategy_path: str, config_path: str, config: dict[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of a strategy config."""
    canonical = json.dumps(
        {"strategy_path": strategy_path, "config_path": config_path, "config": config},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


class _Ctx:
    """One compilation: the inputs and the problems found so far."""

    def __init__(
        self, intent: Intent, meta: InstrumentMeta, user: UserProfile, problems: list[Problem]
    ) -> None:
        self.intent = intent
        self.meta = meta
        self.user = user
        self.problems: list[Problem] = list(problems)
        self.refused_fields = {p.field for p in problems}  # by the schema already
        self.notes: list[str] = []

    def fail(self, field: str, message: str) -> None:
        """Record a problem, unless the schema already refused this field (one cause, one
        message: a negative size is not also "worth $-2.50")."""
        if field not in self.refused_fields:
            self.problems.append(Problem(field, message))

    @property
    def mark(self) -> Decimal:
        assert self.meta.mark_px_usd is not None
        return self.meta.mark_px_usd

    def price(self, field: str, value: Decimal | None) -> None:
        if value is None or value <= 0:
            return
        problem = price_error(value, self.meta.sz_decimals, is_spot=False)
        if problem is not None:
            self.fail(field, f"{problem} (the venue's rule for {self.meta.coin})")

    def size(self, field: str, value: Decimal | None) -> None:
        if value is None or value <= 0:
            return
        problem = size_error(value, self.meta.sz_decimals)
        if problem is not None:
            self.fail(field, f"{problem} for {self.meta.coin}")

    def min_order(self, field: str, notional: Decimal, what: str = "the order") -> None:
        if notional < MIN_ORDER_NOTIONAL_USD:
            self.fail(
                field,
                f"{what} is worth {_usd(notional)}, below the venue's $10 minimum "
                f"(orders are sized to at least {_usd(MIN_ORDER_NOTIONAL_USD)} for slippage)",
            )

    def order_cap(self, field: str, notional: Decimal) -> None:
        cap = self.user.max_order_notional_usd
        if notional > cap:
            self.fail(
                field, f"one order of {_usd(notional)} is above your per-order cap {_usd(cap)}"
            )

    def intent_cap(self, field: str, notional: Decimal) -> None:
        cap = self.user.max_intent_notional_usd
        if notional > cap:
            self.fail(field, f"{_usd(notional)} in total is above your per-intent cap {_usd(cap)}")

    def quantity(
        self, size_coin: Decimal | None, notional_usd: Decimal | None, px: Decimal
    ) -> Decimal:
        if size_coin is not None:
            return size_coin
        assert notional_usd is not None
        return quantity_for_notional(notional_usd, px, self.meta.sz_decimals)


def compile_intent(
    intent: Intent, snapshot: VenueSnapshot, user: UserProfile, *, now_ms: int
) -> Plan:
    """Validate ``intent`` and return its plan; raise IntentError with every problem found."""
    problems = intent_problems(intent)
    meta = snapshot.instruments.get(intent.coin)
    if meta is None:
        known = ", ".join(sorted(snapshot.instruments)[:12])
        problems.append(
            Problem("coin", f"{intent.coin!r} is not a perp in {snapshot.source} (known: {known})")
        )
    elif meta.mark_px_usd is None:
        problems.append(
            Problem("coin", f"{intent.coin} has no reference price in {snapshot.source}")
        )
    if user.allowed_coins is not None and intent.coin not in user.allowed_coins:
        allowed = ", ".join(user.allowed_coins) or "none"
        problems.append(Problem("coin", f"{intent.coin} is not in your allowlist ({allowed})"))
    if meta is None or meta.mark_px_usd is None or any(p.field == "coin" for p in problems):
        raise IntentError(problems)
    ctx = _Ctx(intent, meta, user, problems)
    try:
        body = _BUILDERS[type(intent)](ctx)  # type: ignore[operator]
    except IntentError:
        raise IntentError(ctx.problems) from None
    except (ArithmeticError, ValueError, TypeError, AssertionError) as exc:
        # Values the schema already refused (a zero interval, no amount) can break the plan's
        # arithmetic; those problems say what is wrong. Anything else is a bug: raise it.
        if not problems:
            raise
        raise IntentError(ctx.problems) from exc
    live = _mode(ctx)
    if ctx.problems:
        raise IntentError(ctx.problems)
    module, cls = TEMPLATE_PATHS[type(intent)]
    config: dict[str, Any] = {
        "instrument_id": meta.instrument_id,
        "dry_run": not live,
        "regime_gate": None if intent.regime_gate is None else str(intent.regime_gate),
        **body.config,
    }
    strategy_path, config_path = f"{module}:{cls}", f"{module}:{cls}Config"
    digest = config_hash(strategy_path, config_path, config)
    config["order_id_tag"] = digest[:8]
    config["intent_hash"] = digest
    return Plan(
        template=cls,
        coin=meta.coin,
        instrument_id=meta.instrument_id,
        lines=body.lines,
        schedule=body.schedule,
        notional_usd=body.notional_usd,
        fees_usd=body.fees_usd,
        fee_basis=body.fee_basis,
        worst_case_loss=body.worst_case_loss,
        leverage=body.leverage,
        live=live,
        notes=tuple(ctx.notes),
        config_hash=digest,
        metadata=f"{snapshot.source}, {snapshot.describe_age(now_ms)}",
        intent=intent_to_builtins(intent),
        strategy_config=ImportableStrategyConfig(
            strategy_path=strategy_path, config_path=config_path, config=config
        ),
    )


def _mode(ctx: _Ctx) -> bool:
    """Live or paper: a first intent on an instrument is paper unless live is asked and allowed."""
    asked = ctx.intent.live
    coin = ctx.intent.coin
    if asked is False:
        return False
    if not ctx.user.live_allowed:
        if asked:
            ctx.notes.append(
                f"live trading was asked for, but user {ctx.user.user_id} is not allowed live "
                "trading: this runs on paper"
            )
        return False
    if asked:
        return True
    if coin in ctx.user.coins_traded:
        ctx.notes.append(f"live: you have run intents on {coin} before (say 'paper' to dry-run)")
        return True
    ctx.notes.append(f"paper: your first intent on {coin} runs on paper unless you say 'live'")
    return False


class _Body(msgspec.Struct, kw_only=True):
    config: dict[str, Any]
    lines: tuple[str, ...]
    schedule: str
    notional_usd: Decimal
    fees_usd: Decimal
    fee_basis: str
    worst_case_loss: str
    leverage: str


def _d(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _leverage_text(ctx: _Ctx, leverage: int | None, margin: str | None) -> str:
    if leverage is None:
        return f"unchanged (the account's current setting for {ctx.meta.coin})"
    return f"{leverage}x {margin or 'cross'}, set at the venue before the order"


def _check_leverage(ctx: _Ctx, leverage: int | None) -> None:
    if leverage is None or leverage < 1:
        return
    if leverage > ctx.meta.max_leverage:
        ctx.fail(
            "leverage",
            f"{leverage}x is above {ctx.meta.coin}'s venue maximum {ctx.meta.max_leverage}x",
        )
    if leverage > ctx.user.max_leverage:
        ctx.fail("leverage", f"{leverage}x is above your limit {ctx.user.max_leverage}x")


def _direct(ctx: _Ctx) -> _Body:
    i = ctx.intent
    assert isinstance(i, DirectBuyIntent)
    ctx.price("limit_price_usd", i.limit_price_usd)
    ctx.price("stop_price_usd", i.stop_price_usd)
    ctx.size("size_coin", i.size_coin)
    _check_leverage(ctx, i.leverage)
    px = i.limit_price_usd if i.limit_price_usd is not None else ctx.mark
    qty = ctx.quantity(i.size_coin, i.notional_usd, px)
    notional = qty * px
    amount_field = "size_coin" if i.size_coin is not None else "notional_usd"
    ctx.min_order(amount_field, notional)
    ctx.order_cap(amount_field, notional)
    ctx.intent_cap(amount_field, notional)
    buy = i.side == Side.BUY
    if i.order_kind == OrderKind.LIMIT_ALO and i.limit_price_usd is not None:
        crosses = i.limit_price_usd >= ctx.mark if buy else i.limit_price_usd <= ctx.mark
        if crosses:
            ctx.fail(
                "limit_price_usd",
                f"a post-only (ALO) {i.side} at {i.limit_price_usd} would cross the mark "
                f"{ctx.mark} and be refused by the venue",
            )
    stop = i.stop_price_usd
    if stop is not None and stop > 0:
        wrong = stop >= px if buy else stop <= px
        if wrong:
            side = "below" if buy else "above"
            ctx.fail(
                "stop_price_usd", f"a {i.side}'s stop must be {side} the entry {px}, was {stop}"
            )
    resting = i.order_kind in (OrderKind.LIMIT_GTC, OrderKind.LIMIT_ALO)
    rate = ctx.meta.maker_fee if resting else ctx.meta.taker_fee
    fees = notional * rate
    worst = "no stop: the loss is not bounded by an order"
    if stop is not None and stop > 0:
        stop_fees = qty * stop * ctx.meta.taker_fee
        loss = abs(px - stop) * qty + fees + stop_fees
        worst = (
            f"{_usd(loss, up=True)} if the stop at {stop} fills at its price "
            f"({qty} {ctx.meta.coin} x {abs(px - stop)} + fees; gaps can cost more)"
        )
    kind_text = {
        OrderKind.MARKET: "a market order",
        OrderKind.IOC: f"an IOC limit at {i.limit_price_usd}",
        OrderKind.LIMIT_GTC: f"a GTC limit at {i.limit_price_usd}",
        OrderKind.LIMIT_ALO: f"a post-only (ALO) limit at {i.limit_price_usd}",
    }[i.order_kind]
    how_sized = (
        f"{qty} {ctx.meta.coin}"
        if i.size_coin is not None
        else f"{_usd(i.notional_usd or Decimal(0))} of {ctx.meta.coin} (about {qty} at {px}; "
        "sized from the live price at start)"
    )
    lines = [f"{i.side} {how_sized} with {kind_text}" + (" (reduce-only)" if i.reduce_only else "")]
    if stop is not None:
        lines.append(f"then a reduce-only stop-market at {stop} once filled")
    config = {
        "order_side": str(i.side),
        "quantity": _d(i.size_coin),
        "notional_usd": _d(i.notional_usd),
        "order_kind": str(i.order_kind),
        "limit_price": _d(i.limit_price_usd),
        "reduce_only": i.reduce_only,
        "leverage": i.leverage,
        "margin_mode": None if i.margin_mode is None else str(i.margin_mode),
        "stop_price": _d(stop),
        "close_on_stop": stop is not None,
    }
    return _Body(
        config=config,
        lines=tuple(lines),
        schedule="once, as soon as the strategy starts",
        notional_usd=notional,
        fees_usd=fees,
        fee_basis=f"{'maker' if resting else 'taker'} {(rate * 100).normalize():f}%",
        worst_case_loss=worst,
        leverage=_leverage_text(
            ctx, i.leverage, None if i.margin_mode is None else str(i.margin_mode)
        ),
    )


def _price_limit(ctx: _Ctx) -> _Body:
    i = ctx.intent
    assert isinstance(i, PriceLimitIntent)
    for field in (
        "buy_price_usd",
        "sell_price_usd",
        "cancel_above_price_usd",
        "cancel_below_price_usd",
    ):
        ctx.price(field, getattr(i, field))
    ctx.size("size_coin", i.size_coin)
    amount_field = "size_coin" if i.size_coin is not None else "notional_usd"
    legs: list[tuple[Side, Decimal, Decimal]] = []
    for side, px in ((Side.BUY, i.buy_price_usd), (Side.SELL, i.sell_price_usd)):
        if px is None or px <= 0:
            continue
        field = "buy_price_usd" if side == Side.BUY else "sell_price_usd"
        rests = px < ctx.mark if side == Side.BUY else px > ctx.mark
        if not rests:
            where = "below" if side == Side.BUY else "above"
            ctx.fail(
                field,
                f"{px} would fill at once against the mark {ctx.mark}: a resting {side} must be "
                f"{where} it (use a direct order to trade now)",
            )
        qty = ctx.quantity(i.size_coin, i.notional_usd, px)
        legs.append((side, px, qty))
        ctx.min_order(amount_field, qty * px, f"the {side} leg")
        ctx.order_cap(amount_field, qty * px)
    total = sum((qty * px for _, px, qty in legs), Decimal(0))
    if i.cancel_on_opposite_fill and len(legs) == 2:
        counted = max(qty * px for _, px, qty in legs)
    else:
        counted = total
    ctx.intent_cap(amount_field, counted)
    fees = counted * ctx.meta.maker_fee
    lines = [f"rest a GTC {side} of {qty} {ctx.meta.coin} at {px}" for side, px, qty in legs]
    conditions = []
    if i.cancel_above_price_usd is not None:
        conditions.append(f"the mid rises above {i.cancel_above_price_usd}")
    if i.cancel_below_price_usd is not None:
        conditions.append(f"the mid falls below {i.cancel_below_price_usd}")
    if i.cancel_if_away_pct is not None:
        conditions.append(f"the mid moves more than {i.cancel_if_away_pct}% away from a leg")
    if i.cancel_after_secs is not None:
        conditions.append(f"{_duration(i.cancel_after_secs)} pass")
    if i.cancel_on_opposite_fill and len(legs) == 2:
        conditions.append("the other leg fills")
    cancel = "; cancel when " + ", or ".join(conditions) if conditions else "; no cancel condition"
    config = {
        "buy_price": _d(i.buy_price_usd),
        "sell_price": _d(i.sell_price_usd),
        "buy_quantity": next((str(q) for s, _, q in legs if s == Side.BUY), None),
        "sell_quantity": next((str(q) for s, _, q in legs if s == Side.SELL), None),
        "cancel_above_price": _d(i.cancel_above_price_usd),
        "cancel_below_price": _d(i.cancel_below_price_usd),
        "cancel_if_away_pct": _d(i.cancel_if_away_pct),
        "cancel_after_secs": i.cancel_after_secs,
        "cancel_on_opposite_fill": i.cancel_on_opposite_fill,
    }
    return _Body(
        config=config,
        lines=tuple(lines),
        schedule="placed at start, resting until filled" + cancel,
        notional_usd=counted,
        fees_usd=fees,
        fee_basis=f"maker {(ctx.meta.maker_fee * 100).normalize():f}% if it fills",
        worst_case_loss="no stop: the loss is not bounded by an order",
        leverage=_leverage_text(ctx, None, None),
    )


def _ema(ctx: _Ctx) -> _Body:
    i = ctx.intent
    assert isinstance(i, EMACrossIntent)
    ctx.size("trade_size_coin", i.trade_size_coin)
    interval = CANDLE_MINUTES.get(i.bar_minutes)
    if interval is None:
        ctx.fail(
            "bar_minutes",
            f"{i.bar_minutes} is not a Hyperliquid candle length "
            f"(minutes: {', '.join(str(m) for m in sorted(CANDLE_MINUTES))})",
        )
        interval = "1m"
    qty = ctx.quantity(i.trade_size_coin, i.trade_notional_usd, ctx.mark)
    notional = qty * ctx.mark
    field = "trade_size_coin" if i.trade_size_coin is not None else "trade_notional_usd"
    ctx.min_order(field, notional)
    # A reversal closes the position and opens the other side: two orders of this size.
    ctx.order_cap(field, notional)
    ctx.intent_cap(field, notional)
    fees = notional * ctx.meta.taker_fee
    worst = "no stop: the loss is not bounded by an order"
    if i.atr_stop_multiple is not None:
        worst = (
            f"a stop at {i.atr_stop_multiple} x ATR({i.atr_period}) from each entry; "
            "ATR is only known once bars arrive, so the loss per trade is bounded then, "
            "not in this plan"
        )
    lines = [
        f"trade {qty} {ctx.meta.coin} (about {_usd(notional)}) on each cross of "
        f"EMA({i.fast_period}) and EMA({i.slow_period}) of {i.bar_minutes}-minute bars: "
        "long above, short below",
    ]
    if i.atr_filter_min_pct is not None:
        lines.append(
            f"only enter when ATR({i.atr_period}) is at least {i.atr_filter_min_pct}% of price"
        )
    config = {
        "bar_type": str(
            bar_type_for_interval(InstrumentId.from_str(ctx.meta.instrument_id), interval)
        ),
        "trade_size": str(qty),
        "fast_ema_period": i.fast_period,
        "slow_ema_period": i.slow_period,
        "atr_period": i.atr_period,
        "atr_filter_min_pct": _d(i.atr_filter_min_pct),
        "atr_stop_multiple": _d(i.atr_stop_multiple),
        # The execution client prices a MARKET order from the latest quote.
        "subscribe_quote_ticks": True,
    }
    return _Body(
        config=config,
        lines=tuple(lines),
        schedule=f"after {i.slow_period} bars of warm-up, on every bar close, until stopped",
        notional_usd=notional,
        fees_usd=fees,
        fee_basis=f"taker {_pct(ctx.meta.taker_fee)} per trade; a reversal trades twice",
        worst_case_loss=worst,
        leverage=_leverage_text(ctx, None, None),
    )


def _twap(ctx: _Ctx) -> _Body:
    i = ctx.intent
    assert isinstance(i, TWAPIntent)
    ctx.size("size_coin", i.size_coin)
    field = "size_coin" if i.size_coin is not None else "notional_usd"
    if i.horizon_secs <= 0 or (i.interval_secs is not None and i.interval_secs <= 0):
        ctx.fail("horizon_secs", "must be greater than 0")
        raise IntentError(ctx.problems)
    wanted_interval = i.interval_secs or max(1, i.horizon_secs // DEFAULT_TWAP_SLICES)
    wanted = max(1, i.horizon_secs // wanted_interval)
    if i.size_coin is not None:
        total = i.size_coin
    else:
        assert i.notional_usd is not None
        total = (i.notional_usd / ctx.mark).quantize(
            Decimal(1).scaleb(-ctx.meta.sz_decimals), rounding=ROUND_FLOOR
        )
    slices, per = twap_slices(total, ctx.mark, wanted, ctx.meta.sz_decimals)
    if slices == 0:
        ctx.min_order(field, total * ctx.mark, "the whole order")
        slices, per = 1, total
    executed = per * slices
    interval = i.horizon_secs // slices
    notional = executed * ctx.mark
    ctx.order_cap(field, per * ctx.mark)
    ctx.intent_cap(field, notional)
    lines = [
        f"{i.side} {executed} {ctx.meta.coin} (about {_usd(notional)}) in {slices} market "
        f"slices of {per} (about {_usd(per * ctx.mark)} each)"
        + (" (reduce-only)" if i.reduce_only else "")
    ]
    if slices < wanted:
        ctx.notes.append(
            f"{slices} slices instead of {wanted}: each child must be worth at least "
            f"{_usd(MIN_ORDER_NOTIONAL_USD)} (the venue's $10 minimum plus slippage margin)"
        )
    if executed != total:
        ctx.notes.append(f"{total} rounded to {slices} equal slices: {executed} in total")
    config = {
        "order_side": str(i.side),
        "quantity": str(executed) if i.size_coin is not None else None,
        "notional_usd": _d(i.notional_usd),
        "slices": slices,
        "horizon_secs": interval * slices,
        "interval_secs": interval,
        "reduce_only": i.reduce_only,
    }
    return _Body(
        config=config,
        lines=tuple(lines),
        schedule=(
            f"first slice at start, then one every {_duration(interval)}, "
            f"over {_duration(interval * (slices - 1)) if slices > 1 else 'one order'}"
        ),
        notional_usd=notional,
        fees_usd=notional * ctx.meta.taker_fee,
        fee_basis=f"taker {(ctx.meta.taker_fee * 100).normalize():f}%",
        worst_case_loss="no stop: the loss is not bounded by an order",
        leverage=_leverage_text(ctx, None, None),
    )


def _dca(ctx: _Ctx) -> _Body:
    i = ctx.intent
    assert isinstance(i, DCAIntent)
    ctx.price("max_price_usd", i.max_price_usd)
    if i.interval_secs <= 0:
        raise IntentError(ctx.problems)
    count = i.order_count
    each = i.order_notional_usd
    if i.duration_secs is not None:
        count = i.duration_secs // i.interval_secs
    if each is None and i.budget_usd is not None and count:
        each = (i.budget_usd / count).quantize(CENT, rounding=ROUND_FLOOR)
    if count is None and i.budget_usd is not None and each:
        count = int(i.budget_usd / each)
    if count is None or each is None or count <= 0:
        # Into ctx.problems: compile_intent re-raises those (a list passed here alone was lost).
        if not ctx.problems:
            ctx.fail("order_count", "the plan has no orders")
        raise IntentError(ctx.problems)
    field = "order_notional_usd" if i.order_notional_usd is not None else "budget_usd"
    if each < MIN_ORDER_NOTIONAL_USD:
        most = int((i.budget_usd or each * count) / MIN_ORDER_NOTIONAL_USD)
        ctx.fail(
            field,
            f"{count} orders of {_usd(each)} are each below the venue's $10 minimum "
            f"(orders are sized to at least {_usd(MIN_ORDER_NOTIONAL_USD)}); "
            f"at most {most} orders fit this budget",
        )
    total = each * count
    ctx.order_cap(field, each)
    ctx.intent_cap(field, total)
    if i.max_price_usd is not None and i.max_price_usd > 0:
        above = i.max_price_usd < ctx.mark if i.side == Side.BUY else i.max_price_usd > ctx.mark
        if above:
            ctx.notes.append(
                f"the price limit {i.max_price_usd} is past the mark {ctx.mark}: "
                "no order is placed until the price comes back"
            )
    lines = [f"{i.side} {_usd(each)} of {ctx.meta.coin} at market, {count} times"]
    if i.max_price_usd is not None:
        word = "above" if i.side == Side.BUY else "below"
        lines.append(f"skip a turn when the price is {word} {i.max_price_usd}")
    config = {
        "order_side": str(i.side),
        "order_notional_usd": str(each),
        "order_count": count,
        "interval_secs": i.interval_secs,
        "max_price": _d(i.max_price_usd),
    }
    last = i.interval_secs * (count - 1)
    return _Body(
        config=config,
        lines=tuple(lines),
        schedule=(
            f"every {_duration(i.interval_secs)}: first at start, last after {_duration(last)} "
            "(resumes after a restart without buying twice)"
        ),
        notional_usd=total,
        fees_usd=total * ctx.meta.taker_fee,
        fee_basis=f"taker {(ctx.meta.taker_fee * 100).normalize():f}%",
        worst_case_loss="no stop: the loss is not bounded by an order",
        leverage=_leverage_text(ctx, None, None),
    )


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _duration(secs: int) -> str:
    if secs == 0:
        return "0 s"
    parts = []
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        value, secs = divmod(secs, size)
        if value:
            parts.append(f"{value} {unit}")
    return " ".join(parts)


_BUILDERS: Final = {
    DirectBuyIntent: _direct,
    PriceLimitIntent: _price_limit,
    EMACrossIntent: _ema,
    TWAPIntent: _twap,
    DCAIntent: _dca,
}
