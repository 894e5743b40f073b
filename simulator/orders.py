"""Orders of the simulated venue and the number formats the venue writes and reads.

Prices and sizes are held as integers on the finest grid the venue allows for the coin: sizes in
units of ``10**-szDecimals`` and prices in units of ``10**-(6 - szDecimals)``. A perp notional is
then ``px_units * sz_units`` micro-USD exactly, so matching and books never see float error.
USD balances are floats rounded to 6 decimals (USDC has 6 decimals on the venue).
"""

from __future__ import annotations

from typing import Any

from simulator.specs import MAX_DECIMALS_PERP

USD_DECIMALS = 6


def fmt_units(value: int, decimals: int) -> str:
    """Format an integer on a 10**-decimals grid the way the venue does ("80639.0", "0.00022")."""
    neg = value < 0
    digits = str(-value if neg else value)
    if decimals == 0:
        text = digits + ".0"
    else:
        digits = digits.rjust(decimals + 1, "0")
        frac = digits[-decimals:].rstrip("0") or "0"
        text = digits[:-decimals] + "." + frac
    if neg and text != "0.0":
        return "-" + text
    return text


def fmt_plain(value: int, decimals: int) -> str:
    """Format like `fmt_units` but drop a bare ".0" ("64143", "1800.1"), as in venue messages."""
    text = fmt_units(value, decimals)
    return text[:-2] if text.endswith(".0") else text


def fmt_usd(value: float, places: int = USD_DECIMALS) -> str:
    """Format a USD (or any float) amount with at most `places` decimals ("1438.041001", "0.0")."""
    text = f"{round(value, places):.{places}f}".rstrip("0")
    if text.endswith("."):
        text += "0"
    if text == "-0.0":
        return "0.0"
    return text


def parse_units(text: Any, decimals: int) -> int | None:
    """Parse a wire decimal string onto a 10**-decimals grid; None if malformed or too precise."""
    if not isinstance(text, str) or not text or len(text) > 40:
        return None
    if text[0] == "-":
        return None
    whole, dot, frac = text.partition(".")
    if dot and not frac:
        frac = ""
    if not whole:
        whole = "0"
    if not whole.isdigit() or (frac and not frac.isdigit()):
        return None
    frac = frac.rstrip("0")
    if len(frac) > decimals:
        return None
    return int(whole) * 10**decimals + (int(frac.ljust(decimals, "0")) if decimals else 0)


def price_has_valid_sig_figs(px_units: int, px_decimals: int) -> bool:
    """Integers are always valid; otherwise at most 5 significant figures (PROTOCOL §3)."""
    scale = 10**px_decimals
    if px_units % scale == 0:
        return True
    return len(str(px_units).rstrip("0")) <= 5


def px_decimals_of(sz_decimals: int) -> int:
    """Price decimals allowed for a perp with these size decimals."""
    return MAX_DECIMALS_PERP - sz_decimals


def float_to_units(value: float, decimals: int) -> int:
    """Round a float onto a 10**-decimals grid (internal, trusted inputs only)."""
    return round(value * 10**decimals)


def round_px_sig(px_units: int, px_decimals: int, round_up: bool) -> int:
    """Round a price to 5 significant figures (integers excepted) in the given direction."""
    if price_has_valid_sig_figs(px_units, px_decimals):
        return px_units
    n_digits = len(str(px_units))
    # Integers are always valid, so the step never needs to exceed one whole unit.
    step = min(10 ** max(0, n_digits - 5), 10**px_decimals)
    down = px_units - px_units % step
    if round_up and down != px_units:
        return down + step
    return down


class SimOrder:
    """One order on the simulated venue (resting, triggered, waiting TP/SL child, or history)."""

    __slots__ = (
        "active",
        "asset",
        "builder",
        "children",
        "cloid",
        "coin",
        "filled_ntl",
        "filled_sz",
        "grouping",
        "is_buy",
        "is_market",
        "is_position_tpsl",
        "is_trigger",
        "limit_px",
        "oid",
        "on_book",
        "orig_sz",
        "parent",
        "px_decimals",
        "reduce_only",
        "reserved",
        "status",
        "status_ts",
        "sz",
        "sz_decimals",
        "tif",
        "timestamp",
        "tpsl",
        "trigger_px",
        "user",
    )

    def __init__(
        self,
        *,
        oid: int,
        user: str,
        coin: str,
        asset: int,
        is_buy: bool,
        limit_px: int,
        sz: int,
        timestamp: int,
        tif: str | None,
        reduce_only: bool,
        cloid: str | None,
        sz_decimals: int,
        px_decimals: int,
        is_trigger: bool = False,
        trigger_px: int = 0,
        tpsl: str | None = None,
        is_market: bool = False,
        is_position_tpsl: bool = False,
    ) -> None:
        self.oid = oid
        self.user = user
        self.coin = coin
        self.asset = asset
        self.is_buy = is_buy
        self.limit_px = limit_px
        self.sz = sz
        self.orig_sz = sz
        self.timestamp = timestamp
        self.tif = tif
        self.reduce_only = reduce_only
        self.cloid = cloid
        self.sz_decimals = sz_decimals
        self.px_decimals = px_decimals
        self.is_trigger = is_trigger
        self.trigger_px = trigger_px
        self.tpsl = tpsl
        self.is_market = is_market
        self.is_position_tpsl = is_position_tpsl
        # (builder address, fee in tenths of a basis point) when the action named a builder.
        self.builder: tuple[str, int] | None = None
        self.children: list[SimOrder] = []
        self.parent: SimOrder | None = None
        self.active = True
        self.on_book = False
        self.reserved = 0
        self.status = "open"
        self.status_ts = timestamp
        self.filled_sz = 0
        self.filled_ntl = 0.0
        self.grouping = "na"

    # --- venue shapes ----------------------------------------------------------------------------

    @property
    def side(self) -> str:
        """ "B" for buys, "A" for sells."""
        return "B" if self.is_buy else "A"

    def trigger_above(self) -> bool:
        """Whether the trigger fires when the mark rises to the trigger price (else falls)."""
        return (self.tpsl == "tp") != self.is_buy

    def order_type(self) -> str:
        """The frontend `orderType` text."""
        if not self.is_trigger:
            return "Market" if self.tif in ("FrontendMarket", "LiquidationMarket") else "Limit"
        kind = "Take Profit" if self.tpsl == "tp" else "Stop"
        return f"{kind} {'Market' if self.is_market else 'Limit'}"

    def basic(self) -> dict[str, Any]:
        """Basic order shape (openOrders / orderUpdates): cloid only when present."""
        out: dict[str, Any] = {
            "coin": self.coin,
            "side": self.side,
            "limitPx": fmt_units(self.limit_px, self.px_decimals),
            "sz": fmt_units(self.sz, self.sz_decimals),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "origSz": fmt_units(self.orig_sz, self.sz_decimals),
        }
        if self.cloid is not None:
            out["cloid"] = self.cloid
        return out

    def frontend(self) -> dict[str, Any]:
        """Frontend order shape (frontendOpenOrders / orderStatus / historicalOrders)."""
        if self.is_trigger:
            word = "above" if self.trigger_above() else "below"
            condition = f"Price {word} {fmt_plain(self.trigger_px, self.px_decimals)}"
            trigger_px = fmt_units(self.trigger_px, self.px_decimals)
        else:
            condition = "N/A"
            trigger_px = "0.0"
        return {
            "coin": self.coin,
            "side": self.side,
            "limitPx": fmt_units(self.limit_px, self.px_decimals),
            "sz": fmt_units(self.sz, self.sz_decimals),
            "oid": self.oid,
            "timestamp": self.timestamp,
            "triggerCondition": condition,
            "isTrigger": self.is_trigger,
            "triggerPx": trigger_px,
            "children": [child.frontend() for child in self.children],
            "isPositionTpsl": self.is_position_tpsl,
            "reduceOnly": self.reduce_only,
            "orderType": self.order_type(),
            "origSz": fmt_units(self.orig_sz, self.sz_decimals),
            "tif": None if self.is_trigger else self.tif,
            "cloid": self.cloid,
        }

    def status_entry(self) -> dict[str, Any]:
        """`{order:<frontend>, status, statusTimestamp}` for orderStatus / historicalOrders."""
        return {"order": self.frontend(), "status": self.status, "statusTimestamp": self.status_ts}

    def update_entry(self) -> dict[str, Any]:
        """`{order:<basic>, status, statusTimestamp}` for the orderUpdates channel."""
        return {"order": self.basic(), "status": self.status, "statusTimestamp": self.status_ts}
