"""Pure, deterministic Hyperliquid venue core: signatures, nonces, actions, matching, margin.

The engine has no I/O, no threads, no event loop and no wall clock: every call takes `now_ms`
from the caller (the server owns the clock), so the same calls produce byte-identical responses
and events. The server drains `drain_events()` after every call and fans the events out.

Conventions that the venue does not document precisely (chosen here, kept stable):
- Open interest is the sum of open LONG positions (equal to the sum of shorts), in coin units.
- Mark price = median(oracle, best bid, best ask) when both sides exist, else the oracle; it is
  recomputed on `set_oracle_px` and can be forced with `set_mark_px`.
- A modify cancels the old order and places the new one under a NEW oid; without the "a" flag a
  crossing Gtc replacement is treated as post-only, as the venue documents.
- Reduce-only orders are exempt from the $10 minimum; triggered orders keep their oid.
- A limit order priced more than `ORACLE_PRICE_BAND` (80%) away from the oracle is rejected with
  "Order price too far from oracle" (status `oracleRejected`). The venue documents the error but
  not its threshold: 80% is an ASSUMPTION (nothing in PROTOCOL.md or the fixtures says more),
  wide enough that no sane resting order is refused. Trigger orders are checked on execution
  only through their slippage-capped price, not on placement.
- `cumFunding` counts funding PAID by the position as positive.
- Nonce and margin-action rejection texts are not documented by the venue; see `errors.py`.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import deque
from collections.abc import Sequence
from typing import Any

from adapters.hyperliquid.constants import CALENDAR_MONTH_INTERVAL
from adapters.hyperliquid.constants import CANDLE_INTERVAL_MS
from adapters.hyperliquid.numbers import is_valid_address
from adapters.hyperliquid.numbers import is_valid_cloid
from adapters.hyperliquid.schemas.exchange import USER_SIGNED_ACTION_TYPES
from adapters.hyperliquid.signing import InvalidSignatureError
from adapters.hyperliquid.signing import MalformedActionError
from adapters.hyperliquid.signing import UnsupportedActionError
from adapters.hyperliquid.signing import recover_l1_signer
from adapters.hyperliquid.signing import recover_user_signed_signer
from simulator import errors
from simulator.accounts import SimAccount
from simulator.accounts import SimPosition
from simulator.accounts import cross_account_value
from simulator.accounts import cross_maintenance
from simulator.accounts import cross_margin_used
from simulator.accounts import isolated_equity
from simulator.accounts import maintenance_margin
from simulator.accounts import open_order_margin
from simulator.accounts import reserve
from simulator.events import BookChanged
from simulator.events import NonUserCancel
from simulator.events import Notification
from simulator.events import OrderUpdate
from simulator.events import SimEvent
from simulator.events import TradePrint
from simulator.events import UserFill
from simulator.events import UserFunding
from simulator.events import UserLiquidation
from simulator.info import handle_info
from simulator.matching import OrderBook
from simulator.orders import SimOrder
from simulator.orders import float_to_units
from simulator.orders import fmt_plain
from simulator.orders import fmt_units
from simulator.orders import fmt_usd
from simulator.orders import parse_units
from simulator.orders import price_has_valid_sig_figs
from simulator.orders import px_decimals_of
from simulator.orders import round_px_sig
from simulator.specs import DEFAULT_SPOT_PAIRS
from simulator.specs import DEFAULT_SPOT_TOKENS
from simulator.specs import CoinSpec

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
# Memory caps (a simulator that runs for days must not grow; see _prune_order_history):
# finished orders kept per account (the venue reports the newest 2000 in historicalOrders;
# orderStatus of an older, evicted oid answers unknownOid here), plus every live order.
ORDERS_KEPT = 10_000
_ORDERS_PRUNE_SLACK = 1_000
# The rolling 24 h volume (dayNtlVlm, dayBaseVlm, prevDayPx) is summed per venue minute: at most
# 1440 entries per coin instead of one per trade.
VOLUME_BUCKET_MS = 60_000
NONCE_WINDOW_PAST_MS = 2 * DAY_MS
NONCE_WINDOW_FUTURE_MS = DAY_MS
NONCES_KEPT = 100
TAKER_FEE = 0.00045
MAKER_FEE = 0.00015
MARKET_SLIPPAGE = 0.10
MIN_NOTIONAL_MICRO = 10_000_000  # $10 in micro-USD (px_units * sz_units for perps)
# Largest |limit price / oracle - 1| a new limit order may have. ASSUMED (module notes): the venue
# rejects "too far from oracle" but does not publish the band.
ORACLE_PRICE_BAND = 0.80
SCHEDULE_CANCEL_MIN_DELAY_MS = 5_000
SCHEDULE_CANCEL_MAX_PER_DAY = 10
RATE_LIMIT_BASE = 10_000
IMPACT_NOTIONAL_USD = 20_000.0
FUNDING_INTEREST_8H = 0.0001
FUNDING_CLAMP_8H = 0.0005
FUNDING_CAP_1H = 0.04
FUNDING_CATCH_UP_HOURS = 24 * 7
LIQUIDATOR_ADDRESS = "0x" + "0" * 38 + "11"
ZERO_HASH = "0x" + "0" * 64
FIRST_OID = 10_000_000_000
DEFAULT_LEVERAGE = 20


def _err(text: str) -> dict[str, Any]:
    return {"status": "err", "response": text}


def _ok_default() -> dict[str, Any]:
    return {"status": "ok", "response": {"type": "default"}}


class _Market:
    """Per-coin venue state: book, prices, tape, candles and funding."""

    def __init__(self, spec: CoinSpec, asset: int) -> None:
        self.spec = spec
        self.asset = asset
        self.coin = spec.name
        self.sz_decimals = spec.sz_decimals
        self.px_decimals = px_decimals_of(spec.sz_decimals)
        self.px_scale = 10**self.px_decimals
        self.sz_scale = 10**self.sz_decimals
        self.book = OrderBook(spec.name)
        self.oracle = spec.initial_px
        self.mark = spec.initial_px
        self.last_trade_px: float | None = None
        self.funding_override: float | None = None
        self.trades: deque[dict[str, Any]] = deque(maxlen=2000)
        self.volume_window: deque[tuple[int, float, int, float]] = deque()
        self.day_ntl = 0.0
        self.day_base = 0
        self.prev_day_px = spec.initial_px
        self.candles: dict[str, dict[int, list[Any]]] = {iv: {} for iv in CANDLE_INTERVAL_MS}
        self.funding_history: list[dict[str, Any]] = []
        self.triggers: dict[int, SimOrder] = {}

    def px_str(self, units: int) -> str:
        return fmt_units(units, self.px_decimals)

    def sz_str(self, units: int) -> str:
        return fmt_units(units, self.sz_decimals)

    def px_float(self, units: int) -> float:
        return units / self.px_scale

    def px_units(self, px: float) -> int:
        """Nearest valid price (grid and 5 significant figures)."""
        units = max(1, float_to_units(px, self.px_decimals))
        return round_px_sig(units, self.px_decimals, round_up=False)


CANDLES_KEPT = 5000


def candle_bounds(interval: str, t_ms: int) -> tuple[int, int]:
    """Open time and close time (inclusive, ms) of the candle containing `t_ms`.

    Fixed intervals are aligned to the Unix epoch; "1M" to UTC calendar months.
    """
    if interval != CALENDAR_MONTH_INTERVAL:
        width = CANDLE_INTERVAL_MS[interval]
        start = t_ms - t_ms % width
        return start, start + width - 1
    import datetime as _dt  # local: only months need the calendar

    moment = _dt.datetime.fromtimestamp(t_ms / 1000, tz=_dt.UTC)
    first = _dt.datetime(moment.year, moment.month, 1, tzinfo=_dt.UTC)
    nxt = (
        _dt.datetime(moment.year + 1, 1, 1, tzinfo=_dt.UTC)
        if moment.month == 12
        else _dt.datetime(moment.year, moment.month + 1, 1, tzinfo=_dt.UTC)
    )
    return int(first.timestamp() * 1000), int(nxt.timestamp() * 1000) - 1


def _hash_hex(*parts: object) -> str:
    text = ":".join(str(p) for p in parts)
    return "0x" + hashlib.sha256(text.encode()).hexdigest()


def _tid(maker_oid: int, taker_oid: int) -> int:
    """A 50-bit trade id hashed from the two order ids, as the venue documents."""
    digest = hashlib.sha256(f"{maker_oid}:{taker_oid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 50) - 1)


def _dir(start: int, end: int, is_buy: bool) -> str:
    if start == 0 or (start > 0 and end > 0 and is_buy) or (start < 0 and end < 0 and not is_buy):
        return "Open Long" if is_buy else "Open Short"
    if start > 0 and end < 0:
        return "Long > Short"
    if start < 0 and end > 0:
        return "Short > Long"
    return "Close Short" if is_buy else "Close Long"


class SimEngine:
    """The simulated venue: /exchange actions, matching, accounts and /info, with no I/O.

    Why: every adapter, strategy and end-to-end test runs against this core through the
    server, so it must answer exactly like Hyperliquid and be reproducible call for call.
    """

    def __init__(
        self,
        coins: Sequence[CoinSpec],
        *,
        is_mainnet: bool = False,
        initial_usdc: float = 0.0,
        enforce_address_rate_limit: bool = True,
        schedule_cancel_min_volume_usd: float = 0.0,
    ) -> None:
        if not coins:
            raise ValueError("the simulator needs at least one coin")
        self.is_mainnet = is_mainnet
        self.initial_usdc = initial_usdc
        self.enforce_address_rate_limit = enforce_address_rate_limit
        self.schedule_cancel_min_volume_usd = schedule_cancel_min_volume_usd
        self.coins: list[CoinSpec] = list(coins)
        self.markets: dict[str, _Market] = {}
        self.by_asset: dict[int, _Market] = {}
        for asset, spec in enumerate(self.coins):
            market = _Market(spec, asset)
            self.markets[spec.name] = market
            self.by_asset[asset] = market
        self.max_leverage: dict[str, int] = {c.name: c.max_leverage for c in self.coins}
        self.accounts: dict[str, SimAccount] = {}
        self.agents: dict[str, tuple[str, str, int | None]] = {}  # agent -> (master, name, until)
        self.vaults: set[str] = set()  # sub-accounts that are vaults (userRole "vault")
        self.nonces: dict[str, list[int]] = {}
        self.orders_by_oid: dict[int, SimOrder] = {}
        self.scheduled: dict[str, int] = {}
        self._events: list[SimEvent] = []
        self._dirty_books: dict[str, None] = {}
        self._next_oid = FIRST_OID
        self._next_lid = 1
        self._now = 0
        self._last_funding_hour: int | None = None
        self._exchange_volume: dict[str, float] = {}
        self.spot_tokens = DEFAULT_SPOT_TOKENS
        self.spot_pairs = DEFAULT_SPOT_PAIRS

    # ============================================================================================
    # Public plumbing
    # ============================================================================================

    def credit_usdc(self, user: str, amount: float) -> None:
        """Fund an account's perp USDC (creates it); amount 0 registers an unfunded account."""
        account = self._account(user.lower())
        account.usdc = round(account.usdc + amount, 6)
        if amount > 0:
            account.deposited = True
            account.ledger.append(
                {
                    "time": self._now,
                    "hash": _hash_hex("deposit", user, len(account.ledger)),
                    "delta": {"type": "deposit", "usdc": fmt_usd(amount)},
                }
            )

    def add_sub_account(self, master: str, sub_account: str) -> None:
        """Register `sub_account` as a sub-account of `master` (vaultAddress target)."""
        master = master.lower()
        sub = self._account(sub_account.lower())
        sub.master = master
        owner = self._account(master)
        if sub.address not in owner.sub_accounts:
            owner.sub_accounts.append(sub.address)

    def add_vault(self, leader: str, vault: str) -> None:
        """Register `vault` as a vault led by `leader` (traded with vaultAddress, like a
        sub-account; /info userRole answers "vault")."""
        self.add_sub_account(leader, vault)
        self.vaults.add(vault.lower())

    def set_oracle_px(self, coin: str, px: float, now_ms: int) -> None:
        """Set the oracle of `coin`; the mark becomes median(oracle, best bid, best ask)."""
        market = self._market(coin)
        self._now = now_ms
        market.oracle = px
        bid = market.book.best_bid()
        ask = market.book.best_ask()
        if bid is not None and ask is not None:
            trio = sorted((px, market.px_float(bid), market.px_float(ask)))
            market.mark = trio[1]
        else:
            market.mark = px

    def set_mark_px(self, coin: str, px: float, now_ms: int) -> None:
        """Force the mark of `coin` (until the next oracle update)."""
        self._market(coin).mark = px
        self._now = now_ms

    def set_funding_rate(self, coin: str, rate: float | None) -> None:
        """Force the hourly funding rate of `coin` (None returns to the premium formula)."""
        self._market(coin).funding_override = rate

    def place_internal_order(
        self,
        user: str,
        coin: str,
        is_buy: bool,
        px: float,
        sz: float,
        tif: str = "Gtc",
        reduce_only: bool = False,
        now_ms: int = 0,
    ) -> dict[str, Any]:
        """Place an unsigned order for a trusted market participant; returns its status dict."""
        self._now = now_ms
        market = self._market(coin)
        account = self._account(user.lower())
        units = float_to_units(px, market.px_decimals)
        px_units = round_px_sig(max(units, 1), market.px_decimals, round_up=not is_buy)
        sz_units = float_to_units(sz, market.sz_decimals)
        if sz_units <= 0:
            return {"error": errors.INVALID_SIZE}
        status = self._place(
            account,
            market,
            is_buy=is_buy,
            px_units=px_units,
            sz_units=sz_units,
            tif=tif,
            reduce_only=reduce_only,
            cloid=None,
            trigger=None,
            grouping="na",
            action_hash=_hash_hex("internal", self._next_oid, now_ms),
        )[0]
        self._flush_books()
        return status

    def cancel_internal(self, user: str, coin: str, oid: int, now_ms: int) -> bool:
        """Cancel an order of a trusted participant; False if it was not open."""
        self._now = now_ms
        order = self.orders_by_oid.get(oid)
        if order is None or order.user != user.lower() or order.coin != coin:
            return False
        if order.status != "open":
            return False
        self._cancel_order(order, "canceled")
        self._flush_books()
        return True

    def open_orders_of(self, user: str, coin: str | None = None) -> list[dict[str, Any]]:
        """Open orders of `user` (openOrders shape, newest first)."""
        account = self.accounts.get(user.lower())
        if account is None:
            return []
        out = [
            o.basic() for o in reversed(account.orders.values()) if coin is None or o.coin == coin
        ]
        return out

    def drain_events(self) -> list[SimEvent]:
        """Events since the last drain, in emission order."""
        self._flush_books()
        events = self._events
        self._events = []
        return events

    # ============================================================================================
    # Time
    # ============================================================================================

    def tick(self, now_ms: int) -> None:
        """Let time pass: scheduleCancel expiry, triggers on the mark, liquidations, funding."""
        self._now = now_ms
        self._expire_schedule_cancels(now_ms)
        self._check_triggers(now_ms)
        self._check_liquidations(now_ms)
        self._pay_funding(now_ms)
        self._prune_order_history()
        self._flush_books()

    def _prune_order_history(self) -> None:
        """Forget the oldest finished orders of an account beyond ``ORDERS_KEPT`` (bounded memory).

        Live orders (open, triggered, or with an open TP/SL child) are never forgotten. Runs when
        an account is ``_ORDERS_PRUNE_SLACK`` over the cap, so its cost is amortised.
        """
        for account in self.accounts.values():
            history = account.history
            excess = len(history) - ORDERS_KEPT
            if excess <= _ORDERS_PRUNE_SLACK:
                continue
            for oid in list(itertools.islice(history, excess)):
                order = history[oid]
                live = order.status in ("open", "triggered") or any(
                    child.status == "open" for child in order.children
                )
                if live:
                    continue
                del history[oid]
                if self.orders_by_oid.get(oid) is order:
                    del self.orders_by_oid[oid]
                if order.cloid is not None and account.cloids.get(order.cloid) == oid:
                    del account.cloids[order.cloid]

    # ============================================================================================
    # /exchange
    # ============================================================================================

    def exchange(self, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """Handle one /exchange body (JSON-decoded, key order kept); returns the venue response."""
        self._now = now_ms
        try:
            return self._exchange(body, now_ms)
        finally:
            self._flush_books()

    def _exchange(self, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
        if not isinstance(body, dict):
            return _err(errors.DESERIALIZE)
        action = body.get("action")
        nonce = body.get("nonce")
        signature = body.get("signature")
        vault = body.get("vaultAddress")
        expires_after = body.get("expiresAfter")
        if (
            not isinstance(action, dict)
            or not isinstance(action.get("type"), str)
            or not isinstance(nonce, int)
            or isinstance(nonce, bool)
            or not isinstance(signature, dict)
            or (vault is not None and not is_valid_address(vault))
            or (expires_after is not None and not isinstance(expires_after, int))
        ):
            return _err(errors.DESERIALIZE)
        action_type: str = action["type"]
        user_signed = action_type in USER_SIGNED_ACTION_TYPES
        try:
            if user_signed:
                if expires_after is not None:
                    return _err(errors.EXPIRES_AFTER_USER_SIGNED)
                signer = self._recover_user_signed(action, signature)
            else:
                signer = recover_l1_signer(
                    action, nonce, vault, expires_after, self.is_mainnet, signature
                )
        except (InvalidSignatureError, MalformedActionError, UnsupportedActionError, ValueError):
            return _err(errors.DESERIALIZE)
        signer = signer.lower()

        # Map the signer to the account it acts for.
        agent = self.agents.get(signer)
        if agent is not None and (agent[2] is None or agent[2] > now_ms) and not user_signed:
            master = agent[0]
        elif signer in self.accounts:
            master = signer
        elif self.initial_usdc > 0 and agent is None:
            self.credit_usdc(signer, self.initial_usdc)
            master = signer
        else:
            return _err(errors.UNKNOWN_SIGNER.format(address=signer))
        target = master
        if vault is not None:
            vault = vault.lower()
            sub = self.accounts.get(vault)
            if sub is None or sub.master != master:
                return _err(errors.UNKNOWN_VAULT.format(address=vault))
            target = vault
        account = self.accounts[target]
        if not account.deposited and not self.accounts[master].deposited:
            return _err(errors.MUST_DEPOSIT.format(address=master))
        if expires_after is not None and now_ms > expires_after:
            return _err(errors.EXPIRED.format(expires_after=expires_after, now=now_ms))
        if user_signed:
            inner = action.get("nonce", action.get("time"))
            if inner != nonce:
                return _err(errors.DESERIALIZE)
        nonce_error = self._check_nonce(signer, nonce, now_ms)
        if nonce_error is not None:
            return _err(nonce_error)
        weight = self._action_weight(action)
        rate_error = self._check_rate_limit(self.accounts[master], weight, action_type)
        if rate_error is not None:
            return _err(rate_error)
        self._use_nonce(signer, nonce)
        self.accounts[master].n_requests += weight
        handler = self._HANDLERS.get(action_type)
        if handler is None:
            return _err(errors.DESERIALIZE)
        return handler(self, account, action, signer, now_ms, nonce)

    def _recover_user_signed(self, action: dict[str, Any], signature: dict[str, Any]) -> str:
        chain = "Mainnet" if self.is_mainnet else "Testnet"
        if action.get("hyperliquidChain") != chain:
            # The venue hashes with its own chain, so a wrong-chain signature recovers garbage.
            action = {**action, "hyperliquidChain": chain}
        return recover_user_signed_signer(action, signature)

    def _check_nonce(self, signer: str, nonce: int, now_ms: int) -> str | None:
        if not now_ms - NONCE_WINDOW_PAST_MS < nonce < now_ms + NONCE_WINDOW_FUTURE_MS:
            return errors.NONCE_WINDOW.format(nonce=nonce)
        used = self.nonces.get(signer)
        if used is None:
            return None
        if nonce in used:
            return errors.NONCE_DUPLICATE.format(nonce=nonce)
        if len(used) >= NONCES_KEPT and nonce <= used[0]:
            return errors.NONCE_TOO_LOW.format(nonce=nonce)
        return None

    def _use_nonce(self, signer: str, nonce: int) -> None:
        used = self.nonces.setdefault(signer, [])
        # Keep the NONCES_KEPT highest nonces, sorted ascending.
        lo, hi = 0, len(used)
        while lo < hi:
            mid = (lo + hi) // 2
            if used[mid] < nonce:
                lo = mid + 1
            else:
                hi = mid
        used.insert(lo, nonce)
        if len(used) > NONCES_KEPT:
            del used[0]

    @staticmethod
    def _action_weight(action: dict[str, Any]) -> int:
        for key in ("orders", "cancels", "modifies"):
            items = action.get(key)
            if isinstance(items, list):
                return max(1, len(items))
        return 1

    def _check_rate_limit(self, account: SimAccount, weight: int, action_type: str) -> str | None:
        if not self.enforce_address_rate_limit:
            return None
        cap = RATE_LIMIT_BASE + int(account.cum_vlm)
        if action_type in ("cancel", "cancelByCloid"):
            cap = min(cap + 100_000, 2 * cap)
        used = account.n_requests + weight
        if used > cap:
            return errors.RATE_LIMITED.format(used=used, cap=cap, volume=f"{account.cum_vlm:.2f}")
        return None

    # --- order -----------------------------------------------------------------------------------

    def _act_order(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        wires = action.get("orders")
        grouping = action.get("grouping", "na")
        if (
            not isinstance(wires, list)
            or not wires
            or grouping
            not in (
                "na",
                "normalTpsl",
                "positionTpsl",
            )
        ):
            return _err(errors.DESERIALIZE)
        action_hash = _hash_hex("action", signer, nonce)
        statuses: list[Any] = []
        if grouping == "normalTpsl":
            statuses = self._place_normal_tpsl(account, wires, action_hash)
        else:
            for wire in wires:
                statuses.append(self._place_wire(account, wire, grouping, action_hash)[0])
        return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}

    def _place_normal_tpsl(
        self, account: SimAccount, wires: list[Any], action_hash: str
    ) -> list[Any]:
        parent_status, parent = self._place_wire(account, wires[0], "normalTpsl", action_hash)
        statuses: list[Any] = [parent_status]
        children: list[SimOrder] = []
        for wire in wires[1:]:
            parsed = self._parse_wire(wire)
            if isinstance(parsed, str):
                statuses.append({"error": parsed})
                continue
            market, is_buy, px_units, sz_units, _tif, reduce_only, cloid, trigger = parsed
            if trigger is None:
                statuses.append({"error": errors.with_asset(errors.BAD_TRIGGER_PX, market.asset)})
                continue
            if parent is None:
                statuses.append(parent_status)
                continue
            child = self._new_order(
                account, market, is_buy, px_units, sz_units, None, reduce_only, cloid, trigger
            )
            child.grouping = "normalTpsl"
            child.parent = parent
            children.append(child)
            statuses.append("waitingForFill")
        if parent is None:
            return statuses
        parent.children = children
        for child in children:
            self.orders_by_oid[child.oid] = child
            account.history[child.oid] = child
            if child.cloid is not None:
                account.cloids[child.cloid] = child.oid
        if parent.status == "filled":
            for child in children:
                self._activate_child(child)
            statuses = [statuses[0]] + [
                "waitingForTrigger" if s == "waitingForFill" else s for s in statuses[1:]
            ]
        elif parent.status == "open":
            for child in children:
                child.active = False
                account.orders[child.oid] = child
                self._bind(account, child)
        else:
            for child in children:
                self._finish(child, "canceled")
        return statuses

    def _parse_wire(
        self, wire: Any
    ) -> (
        str
        | tuple[_Market, bool, int, int, str | None, bool, str | None, tuple[bool, int, str] | None]
    ):
        """Validate one order wire; returns an error text or the parsed fields."""
        if not isinstance(wire, dict):
            return errors.DESERIALIZE
        asset = wire.get("a")
        market = self.by_asset.get(asset) if isinstance(asset, int) else None
        if market is None:
            return errors.with_asset(errors.UNKNOWN_ASSET, asset)
        is_buy = wire.get("b")
        reduce_only = wire.get("r")
        order_type = wire.get("t")
        cloid = wire.get("c")
        if (
            not isinstance(is_buy, bool)
            or not isinstance(reduce_only, bool)
            or not isinstance(order_type, dict)
            or (cloid is not None and not is_valid_cloid(cloid))
        ):
            return errors.DESERIALIZE
        sz_units = parse_units(wire.get("s"), market.sz_decimals)
        if sz_units is None or sz_units <= 0:
            return errors.INVALID_SIZE
        px_units = parse_units(wire.get("p"), market.px_decimals)
        if px_units is None or px_units <= 0:
            return errors.INVALID_PRICE
        tif: str | None = None
        trigger: tuple[bool, int, str] | None = None
        if "limit" in order_type:
            limit = order_type["limit"]
            tif = limit.get("tif") if isinstance(limit, dict) else None
            if tif not in ("Gtc", "Ioc", "Alo"):
                return errors.DESERIALIZE
        elif "trigger" in order_type:
            spec = order_type["trigger"]
            if not isinstance(spec, dict):
                return errors.DESERIALIZE
            is_market = spec.get("isMarket")
            tpsl = spec.get("tpsl")
            if not isinstance(is_market, bool) or tpsl not in ("tp", "sl"):
                return errors.DESERIALIZE
            trigger_units = parse_units(spec.get("triggerPx"), market.px_decimals)
            if trigger_units is None:
                return errors.INVALID_PRICE
            trigger = (is_market, trigger_units, tpsl)
        else:
            return errors.DESERIALIZE
        return market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger

    def _place_wire(
        self, account: SimAccount, wire: Any, grouping: str, action_hash: str
    ) -> tuple[Any, SimOrder | None]:
        parsed = self._parse_wire(wire)
        if isinstance(parsed, str):
            return {"error": parsed}, None
        market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger = parsed
        return self._place(
            account,
            market,
            is_buy=is_buy,
            px_units=px_units,
            sz_units=sz_units,
            tif=tif,
            reduce_only=reduce_only,
            cloid=cloid,
            trigger=trigger,
            grouping=grouping,
            action_hash=action_hash,
        )

    def _new_order(
        self,
        account: SimAccount,
        market: _Market,
        is_buy: bool,
        px_units: int,
        sz_units: int,
        tif: str | None,
        reduce_only: bool,
        cloid: str | None,
        trigger: tuple[bool, int, str] | None,
    ) -> SimOrder:
        oid = self._next_oid
        self._next_oid += 1
        order = SimOrder(
            oid=oid,
            user=account.address,
            coin=market.coin,
            asset=market.asset,
            is_buy=is_buy,
            limit_px=px_units,
            sz=sz_units,
            timestamp=self._now,
            tif=tif,
            reduce_only=reduce_only,
            cloid=cloid,
            sz_decimals=market.sz_decimals,
            px_decimals=market.px_decimals,
        )
        if trigger is not None:
            order.is_trigger = True
            order.is_market, order.trigger_px, order.tpsl = trigger
        return order

    def _reject(self, order: SimOrder, account: SimAccount, text: str, status: str) -> Any:
        account.history[order.oid] = order
        self.orders_by_oid[order.oid] = order
        if order.cloid is not None:
            account.cloids[order.cloid] = order.oid
        order.status = status
        order.status_ts = self._now
        self._events.append(OrderUpdate(order.user, order.update_entry()))
        return {"error": errors.with_asset(text, order.asset)}

    def _place(
        self,
        account: SimAccount,
        market: _Market,
        *,
        is_buy: bool,
        px_units: int,
        sz_units: int,
        tif: str | None,
        reduce_only: bool,
        cloid: str | None,
        trigger: tuple[bool, int, str] | None,
        grouping: str,
        action_hash: str,
    ) -> tuple[Any, SimOrder | None]:
        order = self._new_order(
            account, market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger
        )
        order.grouping = grouping
        if not price_has_valid_sig_figs(px_units, market.px_decimals):
            return self._reject(order, account, errors.TICK, "tickRejected"), None
        if trigger is not None and (
            trigger[1] <= 0 or not price_has_valid_sig_figs(trigger[1], market.px_decimals)
        ):
            text, status = errors.BAD_TRIGGER_PX, "badTriggerPxRejected"
            if trigger[1] > 0:
                text, status = errors.TICK, "tickRejected"
            return self._reject(order, account, text, status), None
        if trigger is None and self._too_far_from_oracle(market, px_units):
            return self._reject(order, account, errors.ORACLE, "oracleRejected"), None
        ref_px = trigger[1] if trigger is not None else px_units
        pos = account.positions.get(market.coin)
        szi = pos.szi if pos is not None else 0
        if grouping == "positionTpsl":
            order.is_position_tpsl = True
            if trigger is None:
                return self._reject(order, account, errors.BAD_TRIGGER_PX, "rejected"), None
            if szi:
                order.sz = order.orig_sz = abs(szi)
        elif not reduce_only and ref_px * sz_units < MIN_NOTIONAL_MICRO:
            return self._reject(order, account, errors.MIN_TRADE_NTL, "minTradeNtlRejected"), None
        if trigger is not None:
            return self._rest_trigger(order, account, market), order
        if reduce_only and (szi == 0 or (szi > 0) == is_buy):
            return self._reject(order, account, errors.REDUCE_ONLY, "reduceOnlyRejected"), None
        book = market.book
        if tif == "Alo":
            best = book.best_ask() if is_buy else book.best_bid()
            if best is not None and (px_units >= best if is_buy else px_units <= best):
                bid = book.best_bid()
                ask = book.best_ask()
                bbo = (
                    f"{fmt_plain(bid, market.px_decimals) if bid is not None else '0'}@"
                    f"{fmt_plain(ask, market.px_decimals) if ask is not None else '0'}"
                )
                text = errors.BAD_ALO_PX.format(bbo=bbo)
                return self._reject(order, account, text, "badAloPxRejected"), None
        if not reduce_only and not self._has_margin_for(account, market, order):
            return self._reject(order, account, errors.PERP_MARGIN, "perpMarginRejected"), None
        return self._execute(order, account, market, action_hash), order

    @staticmethod
    def _too_far_from_oracle(market: _Market, px_units: int) -> bool:
        """Whether a limit price is outside the assumed oracle band (``ORACLE_PRICE_BAND``)."""
        oracle = market.oracle
        if oracle <= 0:
            return False
        px = px_units / market.px_scale
        return abs(px / oracle - 1) > ORACLE_PRICE_BAND

    def _has_margin_for(self, account: SimAccount, market: _Market, order: SimOrder) -> bool:
        pos = account.positions.get(market.coin)
        increase = order.sz
        if pos is not None and pos.szi and (pos.szi > 0) != order.is_buy:
            increase = max(0, increase - abs(pos.szi))
        if increase == 0:
            return True
        lev = self._leverage_of(account, market.coin)[1]
        # Margin on the limit price: conservative for buys that would fill lower.
        px = order.limit_px
        needed = px * increase / 10 ** (market.px_decimals + market.sz_decimals) / lev
        marks = self._marks()
        available = (
            cross_account_value(account, marks)
            - cross_margin_used(account, marks)
            - open_order_margin(account)
        )
        return needed <= available + 1e-9

    def _rest_trigger(self, order: SimOrder, account: SimAccount, market: _Market) -> Any:
        account.orders[order.oid] = order
        self._bind(account, order)
        account.history[order.oid] = order
        self.orders_by_oid[order.oid] = order
        if order.cloid is not None:
            account.cloids[order.cloid] = order.oid
        market.triggers[order.oid] = order
        self._events.append(OrderUpdate(order.user, order.update_entry()))
        return {"resting": {"oid": order.oid}}

    def _execute(
        self,
        order: SimOrder,
        account: SimAccount,
        market: _Market,
        action_hash: str,
        limit: int | None = None,
        liquidation: dict[str, Any] | None = None,
    ) -> Any:
        """Match a new (or just-triggered) order against the book, then rest or finish it."""
        account.history[order.oid] = order
        self.orders_by_oid[order.oid] = order
        if order.cloid is not None:
            account.cloids[order.cloid] = order.oid
        book = market.book
        best = book.best_ask() if order.is_buy else book.best_bid()
        crosses = best is not None and (
            (order.limit_px >= best) if order.is_buy else (order.limit_px <= best)
        )
        if crosses:
            # The venue reports the order open and then its outcome (see ws_orderUpdates).
            self._events.append(OrderUpdate(order.user, order.update_entry()))
            self._match(order, account, market, action_hash, liquidation)
        if order.sz == 0:
            self._finish(order, "filled")
            self._on_parent_filled(order)
            return self._filled_status(order, market)
        if (
            order.reduce_only
            and order.filled_sz > 0
            and order.status == "open"
            and self._reducible(account, market.coin, order.is_buy) <= 0
        ):
            self._finish(order, "reduceOnlyCanceled" if order.tif == "Gtc" else "canceled")
            return self._filled_status(order, market)
        if order.tif in ("Gtc", "Alo") and order.status == "open":
            book.add(order)
            if not order.reduce_only:
                reserve(account, order, order.sz)
            self._dirty_books[market.coin] = None
            account.orders[order.oid] = order
            self._bind(account, order)
            if not crosses:
                self._events.append(OrderUpdate(order.user, order.update_entry()))
            return {"resting": {"oid": order.oid}}
        if order.filled_sz == 0:
            if order.tif in ("FrontendMarket", "LiquidationMarket") or order.is_trigger:
                self._finish(order, "marketOrderNoLiquidityRejected")
                return {"error": errors.with_asset(errors.MARKET_NO_LIQUIDITY, order.asset)}
            self._finish(order, "iocCancelRejected")
            return {"error": errors.with_asset(errors.IOC_CANCEL, order.asset)}
        if order.status == "open":
            self._finish(order, "canceled")
        self._cancel_children(order)
        return self._filled_status(order, market)

    def _filled_status(self, order: SimOrder, market: _Market) -> dict[str, Any]:
        avg = order.filled_ntl * market.sz_scale / order.filled_sz
        return {
            "filled": {
                "totalSz": market.sz_str(order.filled_sz),
                "avgPx": fmt_usd(avg, 8),
                "oid": order.oid,
            }
        }

    def _match(
        self,
        taker: SimOrder,
        account: SimAccount,
        market: _Market,
        action_hash: str,
        liquidation: dict[str, Any] | None,
    ) -> None:
        book = market.book
        for px in book.crossing_levels(taker.is_buy, taker.limit_px):
            queue = book.queue_at(not taker.is_buy, px)
            while queue and taker.sz > 0:
                maker = queue[0]
                if maker.user == taker.user:
                    queue.popleft()
                    maker.on_book = False
                    self._finish_resting(maker, "selfTradeCanceled", market)
                    continue
                qty = min(taker.sz, maker.sz)
                if taker.reduce_only:
                    qty = min(qty, self._reducible(account, market.coin, taker.is_buy))
                    if qty <= 0:
                        break
                maker_account = self.accounts[maker.user]
                if maker.reduce_only:
                    allowed = self._reducible(maker_account, market.coin, maker.is_buy)
                    if allowed <= 0:
                        queue.popleft()
                        maker.on_book = False
                        self._finish_resting(maker, "reduceOnlyCanceled", market)
                        continue
                    qty = min(qty, allowed)
                self._trade(
                    taker, account, maker, maker_account, market, px, qty, action_hash, liquidation
                )
                if maker.sz == 0:
                    queue.popleft()
                    maker.on_book = False
                    self._finish(maker, "filled")
                    self._notify_resting_filled(maker, market)
                    self._on_parent_filled(maker)
            book.pop_empty_front(not taker.is_buy, px)
            self._dirty_books[market.coin] = None
            if taker.sz == 0:
                break
            if taker.reduce_only and self._reducible(account, market.coin, taker.is_buy) <= 0:
                break

    def _reducible(self, account: SimAccount, coin: str, is_buy: bool) -> int:
        pos = account.positions.get(coin)
        if pos is None or pos.szi == 0 or (pos.szi > 0) == is_buy:
            return 0
        return abs(pos.szi)

    def _trade(
        self,
        taker: SimOrder,
        taker_account: SimAccount,
        maker: SimOrder,
        maker_account: SimAccount,
        market: _Market,
        px: int,
        qty: int,
        action_hash: str,
        liquidation: dict[str, Any] | None,
    ) -> None:
        now = self._now
        ntl_micro = px * qty
        ntl = ntl_micro / 1_000_000
        tid = _tid(maker.oid, taker.oid)
        taker.sz -= qty
        maker.sz -= qty
        taker.filled_sz += qty
        maker.filled_sz += qty
        taker.filled_ntl += ntl
        maker.filled_ntl += ntl
        if maker.reserved:
            reserve(maker_account, maker, -min(qty, maker.reserved))
        buyer, seller = (taker.user, maker.user) if taker.is_buy else (maker.user, taker.user)
        trade = {
            "coin": market.coin,
            "side": taker.side,
            "px": market.px_str(px),
            "sz": market.sz_str(qty),
            "time": now,
            "hash": action_hash,
            "tid": tid,
            "users": [buyer, seller],
        }
        market.trades.append(trade)
        self._events.append(TradePrint(market.coin, trade))
        self._record_volume(market, now, px, qty, ntl)
        fee_rate_taker = 0.0 if liquidation and liquidation["method"] == "backstop" else TAKER_FEE
        fee_rate_maker = 0.0 if liquidation and liquidation["method"] == "backstop" else MAKER_FEE
        self._fill_side(
            taker_account,
            taker,
            market,
            px,
            qty,
            ntl,
            True,
            tid,
            action_hash,
            fee_rate_taker,
            liquidation,
        )
        self._fill_side(
            maker_account,
            maker,
            market,
            px,
            qty,
            ntl,
            False,
            tid,
            action_hash,
            fee_rate_maker,
            liquidation,
        )
        day = now // DAY_MS
        key = str(day)
        self._exchange_volume[key] = self._exchange_volume.get(key, 0.0) + ntl

    def _fill_side(
        self,
        account: SimAccount,
        order: SimOrder,
        market: _Market,
        px: int,
        qty: int,
        ntl: float,
        crossed: bool,
        tid: int,
        action_hash: str,
        fee_rate: float,
        liquidation: dict[str, Any] | None,
    ) -> None:
        pos = self._position(account, market.coin)
        start = pos.szi
        px_f = market.px_float(px)
        closed_pnl = self._apply_fill(account, pos, order.is_buy, qty, px_f, ntl)
        fee = round(ntl * fee_rate, 6)
        account.usdc = round(account.usdc - fee, 6)
        account.cum_vlm += ntl
        fill: dict[str, Any] = {
            "coin": market.coin,
            "px": market.px_str(px),
            "sz": market.sz_str(qty),
            "side": order.side,
            "time": self._now,
            "startPosition": market.sz_str(start),
            "dir": _dir(start, pos.szi, order.is_buy),
            "closedPnl": fmt_usd(closed_pnl),
            "hash": action_hash,
            "oid": order.oid,
            "crossed": crossed,
            "fee": fmt_usd(fee),
            "tid": tid,
        }
        if order.cloid is not None:
            fill["cloid"] = order.cloid
        fill["feeToken"] = "USDC"
        fill["twapId"] = None
        if liquidation is not None:
            fill["liquidation"] = dict(liquidation)
        account.fills.append(fill)
        self._events.append(UserFill(account.address, fill))
        self._after_position_change(account, market, pos)

    def _apply_fill(
        self, account: SimAccount, pos: SimPosition, is_buy: bool, qty: int, px: float, ntl: float
    ) -> float:
        """Update a position with a fill; returns the realised PnL of the closed part."""
        signed = qty if is_buy else -qty
        start = pos.szi
        closed_pnl = 0.0
        if start == 0 or (start > 0) == is_buy:
            opened = qty
            closed = 0
        else:
            closed = min(qty, abs(start))
            opened = qty - closed
        scale = 10**pos.sz_decimals
        if closed:
            entry_part = pos.entry_ntl * closed / abs(start)
            exit_part = px * closed / scale
            closed_pnl = (exit_part - entry_part) if start > 0 else (entry_part - exit_part)
            pos.entry_ntl -= entry_part
            if pos.is_cross:
                account.usdc = round(account.usdc + closed_pnl, 6)
            else:
                released = pos.iso_margin * closed / abs(start)
                pos.iso_margin -= released
                account.usdc = round(account.usdc + released + closed_pnl, 6)
        pos.szi = start + signed
        if pos.szi == 0:
            pos.entry_ntl = 0.0
            if not pos.is_cross and pos.iso_margin:
                account.usdc = round(account.usdc + pos.iso_margin, 6)
                pos.iso_margin = 0.0
            pos.funding_since_open = 0.0
        if opened:
            open_ntl = px * opened / scale
            pos.entry_ntl += open_ntl
            if not pos.is_cross:
                need = open_ntl / pos.leverage
                account.usdc = round(account.usdc - need, 6)
                pos.iso_margin += need
            if start == 0 or (start > 0) != is_buy:
                pos.funding_since_open = 0.0
        pos.funding_since_change = 0.0
        return closed_pnl

    def _record_volume(self, market: _Market, now: int, px: int, qty: int, ntl: float) -> None:
        px_f = market.px_float(px)
        market.last_trade_px = px_f
        window = market.volume_window
        bucket = now - now % VOLUME_BUCKET_MS
        if window and window[-1][0] == bucket:
            _, bucket_ntl, bucket_qty, _ = window[-1]
            window[-1] = (bucket, bucket_ntl + ntl, bucket_qty + qty, px_f)
        else:
            window.append((bucket, ntl, qty, px_f))
        market.day_ntl += ntl
        market.day_base += qty
        while window and window[0][0] <= now - DAY_MS:
            old = window.popleft()
            market.day_ntl -= old[1]
            market.day_base -= old[2]
            market.prev_day_px = old[3]
        for interval, candles in market.candles.items():
            start, end = candle_bounds(interval, now)
            candle = candles.get(start)
            if candle is None:
                candles[start] = [start, end, px, px, px, px, qty, 1]
                if len(candles) > CANDLES_KEPT:
                    del candles[next(iter(candles))]
            else:
                candle[3] = px
                if px > candle[4]:
                    candle[4] = px
                if px < candle[5]:
                    candle[5] = px
                candle[6] += qty
                candle[7] += 1

    def _after_position_change(
        self, account: SimAccount, market: _Market, pos: SimPosition
    ) -> None:
        """Keep reduce-only and position TP/SL orders consistent with the new position."""
        if not account.position_bound:
            return
        for order in list(account.position_bound.values()):
            if order.coin != market.coin or not order.active:
                continue
            if order.is_position_tpsl:
                if pos.szi == 0:
                    self._cancel_order(order, "siblingFilledCanceled")
                else:
                    order.sz = order.orig_sz = abs(pos.szi)
            elif order.is_trigger and order.parent is not None and pos.szi == 0:
                self._cancel_order(order, "siblingFilledCanceled")
            elif (
                order.reduce_only
                and not order.is_trigger
                and order.sz > 0
                and (pos.szi == 0 or (pos.szi > 0) == order.is_buy)
                and order.on_book
            ):
                self._cancel_order(order, "reduceOnlyCanceled")

    @staticmethod
    def _bind(account: SimAccount, order: SimOrder) -> None:
        """Remember orders whose fate depends on the position (see _after_position_change)."""
        if order.reduce_only or order.is_position_tpsl or order.parent is not None:
            account.position_bound[order.oid] = order

    def _on_parent_filled(self, order: SimOrder) -> None:
        for child in order.children:
            if child.status == "open" and not child.active:
                self._activate_child(child)

    def _activate_child(self, child: SimOrder) -> None:
        account = self.accounts[child.user]
        market = self.markets[child.coin]
        child.active = True
        account.orders[child.oid] = child
        self._bind(account, child)
        market.triggers[child.oid] = child
        self._events.append(OrderUpdate(child.user, child.update_entry()))

    def _cancel_children(self, order: SimOrder) -> None:
        for child in order.children:
            if child.status == "open":
                self._cancel_order(child, "canceled")

    def _notify_resting_filled(self, order: SimOrder, market: _Market) -> None:
        verb = "Bought" if order.is_buy else "Sold"
        avg = order.filled_ntl * market.sz_scale / order.filled_sz
        text = (
            f"Resting order filled: {verb} {fmt_plain(order.orig_sz, market.sz_decimals)} "
            f"{market.coin} at ${fmt_usd(avg, 8).removesuffix('.0')}"
        )
        self._events.append(Notification(order.user, text))

    # --- order state transitions ------------------------------------------------------------------

    def _finish(self, order: SimOrder, status: str) -> None:
        """Move an order to a final status and publish the update."""
        account = self.accounts[order.user]
        account.orders.pop(order.oid, None)
        account.position_bound.pop(order.oid, None)
        self.markets[order.coin].triggers.pop(order.oid, None)
        if order.reserved:
            reserve(account, order, -order.reserved)
        order.status = status
        order.status_ts = self._now
        self._events.append(OrderUpdate(order.user, order.update_entry()))

    def _finish_resting(self, order: SimOrder, status: str, market: _Market) -> None:
        """A resting order cancelled by the venue while matching (already popped from its queue)."""
        self._finish(order, status)
        self._dirty_books[market.coin] = None
        self._events.append(NonUserCancel(order.user, [{"coin": order.coin, "oid": order.oid}]))
        self._cancel_children(order)

    def _cancel_order(self, order: SimOrder, status: str) -> None:
        """Cancel an open order (book, trigger list, waiting children) with `status`."""
        market = self.markets[order.coin]
        if order.on_book and market.book.remove(order):
            self._dirty_books[market.coin] = None
        self._finish(order, status)
        if status not in ("canceled",):
            self._events.append(NonUserCancel(order.user, [{"coin": order.coin, "oid": order.oid}]))
        self._cancel_children(order)

    # --- cancel / modify -------------------------------------------------------------------------

    def _act_cancel(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        cancels = action.get("cancels")
        if not isinstance(cancels, list) or not cancels:
            return _err(errors.DESERIALIZE)
        by_cloid = action["type"] == "cancelByCloid"
        statuses: list[Any] = []
        for item in cancels:
            if not isinstance(item, dict):
                return _err(errors.DESERIALIZE)
            asset = item.get("asset") if by_cloid else item.get("a")
            order: SimOrder | None = None
            if by_cloid:
                cloid = item.get("cloid")
                if not is_valid_cloid(cloid):
                    return _err(errors.DESERIALIZE)
                oid = account.cloids.get(cloid)
                order = self.orders_by_oid.get(oid) if oid is not None else None
            else:
                oid = item.get("o")
                order = self.orders_by_oid.get(oid) if isinstance(oid, int) else None
            if (
                order is None
                or order.user != account.address
                or order.asset != asset
                or order.status != "open"
            ):
                statuses.append({"error": errors.with_asset(errors.MISSING_ORDER, asset)})
                continue
            self._cancel_order(order, "canceled")
            statuses.append("success")
        return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}

    def _modify_one(
        self, account: SimAccount, oid: Any, wire: Any, action_hash: str
    ) -> tuple[Any, SimOrder | None]:
        order: SimOrder | None = None
        if isinstance(oid, int) and not isinstance(oid, bool):
            order = self.orders_by_oid.get(oid)
        elif is_valid_cloid(oid):
            found = account.cloids.get(oid)
            order = self.orders_by_oid.get(found) if found is not None else None
        else:
            return {"error": errors.DESERIALIZE}, None
        if order is None or order.user != account.address or order.status != "open":
            return {"error": errors.CANNOT_MODIFY}, None
        parsed = self._parse_wire(wire)
        if isinstance(parsed, str):
            return {"error": parsed}, None
        market, is_buy, px_units, sz_units, tif, reduce_only, cloid, trigger = parsed
        if market.asset != order.asset:
            return {"error": errors.CANNOT_MODIFY}, None
        self._cancel_order(order, "canceled")
        if tif == "Gtc":
            tif = "Alo"  # without "a":true a Gtc replacement may not cross
        status, new = self._place(
            account,
            market,
            is_buy=is_buy,
            px_units=px_units,
            sz_units=sz_units,
            tif=tif,
            reduce_only=reduce_only,
            cloid=cloid,
            trigger=trigger,
            grouping="positionTpsl" if order.is_position_tpsl else "na",
            action_hash=action_hash,
        )
        if new is not None and tif == "Alo" and wire["t"].get("limit", {}).get("tif") == "Gtc":
            new.tif = "Gtc"
        return status, new

    def _act_modify(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        action_hash = _hash_hex("action", signer, nonce)
        status, _ = self._modify_one(account, action.get("oid"), action.get("order"), action_hash)
        if isinstance(status, dict) and "error" in status:
            return {
                "status": "ok",
                "response": {"type": "order", "data": {"statuses": [status]}},
            }
        return _ok_default()

    def _act_batch_modify(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        modifies = action.get("modifies")
        if not isinstance(modifies, list) or not modifies:
            return _err(errors.DESERIALIZE)
        action_hash = _hash_hex("action", signer, nonce)
        statuses = []
        for item in modifies:
            if not isinstance(item, dict):
                return _err(errors.DESERIALIZE)
            status, _ = self._modify_one(account, item.get("oid"), item.get("order"), action_hash)
            statuses.append(status)
        return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}

    # --- scheduleCancel / leverage / margin / agents / transfers ---------------------------------

    def _act_schedule_cancel(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        when = action.get("time")
        if when is None:
            account.schedule_cancel_ms = None
            self.scheduled.pop(account.address, None)
            return _ok_default()
        if not isinstance(when, int) or isinstance(when, bool):
            return _err(errors.DESERIALIZE)
        if account.cum_vlm < self.schedule_cancel_min_volume_usd:
            return _err(errors.SCHEDULE_CANCEL_VOLUME)
        if when < now_ms + SCHEDULE_CANCEL_MIN_DELAY_MS:
            return _err(errors.SCHEDULE_CANCEL_TOO_EARLY)
        day = now_ms // DAY_MS
        if account.schedule_cancel_day == day and (
            account.schedule_cancel_count >= SCHEDULE_CANCEL_MAX_PER_DAY
        ):
            return _err(errors.SCHEDULE_CANCEL_TOO_MANY)
        account.schedule_cancel_ms = when
        self.scheduled[account.address] = when
        return _ok_default()

    def _act_update_leverage(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        asset = action.get("asset")
        is_cross = action.get("isCross")
        leverage = action.get("leverage")
        market = self.by_asset.get(asset) if isinstance(asset, int) else None
        if market is None or not isinstance(is_cross, bool) or not isinstance(leverage, int):
            return _err(errors.DESERIALIZE)
        if leverage < 1 or leverage > market.spec.max_leverage:
            return _err(errors.INVALID_LEVERAGE)
        if is_cross and market.spec.only_isolated:
            return _err(errors.CROSS_NOT_ALLOWED)
        pos = account.positions.get(market.coin)
        if pos is not None and pos.szi:
            if pos.is_cross != is_cross:
                return _err(errors.SWITCH_MARGIN_MODE_WITH_POSITION)
            marks = self._marks()
            if is_cross:
                old_margin = pos.value(marks[market.coin]) / pos.leverage
                new_margin = pos.value(marks[market.coin]) / leverage
                free = (
                    cross_account_value(account, marks)
                    - cross_margin_used(account, marks)
                    + old_margin
                )
                if new_margin > free + 1e-9:
                    return _err(errors.LEVERAGE_MARGIN)
            pos.leverage = leverage
        account.leverage[market.coin] = (is_cross, leverage)
        if pos is not None and not pos.szi:
            pos.is_cross = is_cross
            pos.leverage = leverage
        return _ok_default()

    def _act_update_isolated_margin(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        asset = action.get("asset")
        ntli = action.get("ntli")
        market = self.by_asset.get(asset) if isinstance(asset, int) else None
        if market is None or not isinstance(ntli, int) or isinstance(ntli, bool):
            return _err(errors.DESERIALIZE)
        pos = account.positions.get(market.coin)
        if pos is None or pos.szi == 0 or pos.is_cross:
            return _err(errors.NO_ISOLATED_POSITION)
        amount = ntli / 1_000_000
        marks = self._marks()
        if amount >= 0:
            free = (
                cross_account_value(account, marks)
                - cross_margin_used(account, marks)
                - open_order_margin(account)
            )
            if amount > free + 1e-9:
                return _err(errors.ISOLATED_MARGIN_INSUFFICIENT)
        else:
            need = pos.value(marks[market.coin]) / pos.leverage
            if isolated_equity(pos, marks[market.coin]) + amount < need - 1e-9:
                return _err(errors.ISOLATED_MARGIN_INSUFFICIENT)
        pos.iso_margin += amount
        account.usdc = round(account.usdc - amount, 6)
        return _ok_default()

    def _act_approve_agent(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        agent = action.get("agentAddress")
        name = action.get("agentName", "")
        if not is_valid_address(agent) or not isinstance(name, str):
            return _err(errors.DESERIALIZE)
        agent = agent.lower()
        if signer != account.address:
            return _err(errors.UNKNOWN_SIGNER.format(address=signer))
        valid_until: int | None = None
        base_name = name
        marker = " valid_until "
        if marker in name:
            base_name, _, until = name.partition(marker)
            if not until.isdigit():
                return _err(errors.DESERIALIZE)
            valid_until = int(until)
        if agent in self.accounts:
            return _err(errors.AGENT_IS_USER)
        named = [n for n in account.agents if n]
        if base_name and base_name not in account.agents and len(named) >= 3:
            return _err(errors.TOO_MANY_AGENTS)
        previous = account.agents.get(base_name)
        if previous is not None:
            self.agents.pop(previous[0], None)
        account.agents[base_name] = (agent, valid_until)
        self.agents[agent] = (account.address, base_name, valid_until)
        return _ok_default()

    def _act_usd_class_transfer(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        amount_text = action.get("amount")
        to_perp = action.get("toPerp")
        if not isinstance(amount_text, str) or not isinstance(to_perp, bool):
            return _err(errors.DESERIALIZE)
        target = account
        if " subaccount:" in amount_text:
            amount_text, _, sub = amount_text.partition(" subaccount:")
            found = self.accounts.get(sub.lower())
            if found is None or found.master != account.address:
                return _err(errors.UNKNOWN_VAULT.format(address=sub.lower()))
            target = found
        amount_units = parse_units(amount_text, 6)
        if amount_units is None or amount_units <= 0:
            return _err(errors.DESERIALIZE)
        amount = amount_units / 1_000_000
        if to_perp:
            if target.spot_usdc + 1e-9 < amount:
                return _err(errors.INSUFFICIENT_TRANSFER)
            target.spot_usdc = round(target.spot_usdc - amount, 6)
            target.usdc = round(target.usdc + amount, 6)
        else:
            if self._withdrawable(target) + 1e-9 < amount:
                return _err(errors.INSUFFICIENT_TRANSFER)
            target.usdc = round(target.usdc - amount, 6)
            target.spot_usdc = round(target.spot_usdc + amount, 6)
        target.ledger.append(
            {
                "time": now_ms,
                "hash": _hash_hex("action", signer, nonce),
                "delta": {
                    "type": "accountClassTransfer",
                    "usdc": fmt_usd(amount),
                    "toPerp": to_perp,
                },
            }
        )
        return _ok_default()

    def _act_noop(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        return _ok_default()

    def _act_create_sub_account(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        name = action.get("name")
        if not isinstance(name, str) or not name:
            return _err(errors.DESERIALIZE)
        address = "0x" + hashlib.sha256(f"sub:{account.address}:{name}".encode()).hexdigest()[:40]
        self.add_sub_account(account.address, address)
        return {"status": "ok", "response": {"type": "createSubAccount", "data": address}}

    def _act_sub_account_transfer(
        self, account: SimAccount, action: dict[str, Any], signer: str, now_ms: int, nonce: int
    ) -> dict[str, Any]:
        sub_address = action.get("subAccountUser")
        is_deposit = action.get("isDeposit")
        usd = action.get("usd")
        if (
            not is_valid_address(sub_address)
            or not isinstance(is_deposit, bool)
            or not isinstance(usd, int)
            or usd <= 0
        ):
            return _err(errors.DESERIALIZE)
        sub = self.accounts.get(sub_address.lower())
        if sub is None or sub.master != account.address:
            return _err(errors.UNKNOWN_VAULT.format(address=sub_address.lower()))
        amount = usd / 1_000_000
        src, dst = (account, sub) if is_deposit else (sub, account)
        if self._withdrawable(src) + 1e-9 < amount:
            return _err(errors.INSUFFICIENT_TRANSFER)
        src.usdc = round(src.usdc - amount, 6)
        dst.usdc = round(dst.usdc + amount, 6)
        dst.deposited = True
        return _ok_default()

    _HANDLERS: dict[str, Any] = {
        "order": _act_order,
        "cancel": _act_cancel,
        "cancelByCloid": _act_cancel,
        "modify": _act_modify,
        "batchModify": _act_batch_modify,
        "scheduleCancel": _act_schedule_cancel,
        "updateLeverage": _act_update_leverage,
        "updateIsolatedMargin": _act_update_isolated_margin,
        "approveAgent": _act_approve_agent,
        "usdClassTransfer": _act_usd_class_transfer,
        "noop": _act_noop,
        "createSubAccount": _act_create_sub_account,
        "subAccountTransfer": _act_sub_account_transfer,
    }

    # ============================================================================================
    # Time-driven venue work
    # ============================================================================================

    def _expire_schedule_cancels(self, now_ms: int) -> None:
        for address, when in list(self.scheduled.items()):
            if now_ms < when:
                continue
            del self.scheduled[address]
            account = self.accounts[address]
            account.schedule_cancel_ms = None
            day = now_ms // DAY_MS
            if account.schedule_cancel_day != day:
                account.schedule_cancel_day = day
                account.schedule_cancel_count = 0
            account.schedule_cancel_count += 1
            cancelled = []
            for order in list(account.orders.values()):
                if order.status == "open" and order.oid in account.orders:
                    self._cancel_order_quiet(order, "scheduledCancel")
                    cancelled.append({"coin": order.coin, "oid": order.oid})
            if cancelled:
                self._events.append(NonUserCancel(address, cancelled))

    def _cancel_order_quiet(self, order: SimOrder, status: str) -> None:
        """Cancel without a per-order nonUserCancel event (the caller batches them)."""
        market = self.markets[order.coin]
        if order.on_book and market.book.remove(order):
            self._dirty_books[market.coin] = None
        self._finish(order, status)
        for child in order.children:
            if child.status == "open":
                self._finish(child, status)

    def _check_triggers(self, now_ms: int) -> None:
        for market in self.markets.values():
            if not market.triggers:
                continue
            mark_units = market.mark * market.px_scale
            fired = [
                o
                for o in sorted(market.triggers.values(), key=lambda o: o.oid)
                if o.active
                and (
                    mark_units >= o.trigger_px if o.trigger_above() else mark_units <= o.trigger_px
                )
            ]
            for order in fired:
                if order.status != "open" or order.oid not in market.triggers:
                    continue
                self._fire_trigger(order, market)

    def _fire_trigger(self, order: SimOrder, market: _Market) -> None:
        account = self.accounts[order.user]
        market.triggers.pop(order.oid, None)
        account.orders.pop(order.oid, None)
        account.position_bound.pop(order.oid, None)
        order.status = "triggered"
        order.status_ts = self._now
        self._events.append(OrderUpdate(order.user, order.update_entry()))
        order.status = "open"
        if order.reduce_only:
            reducible = self._reducible(account, market.coin, order.is_buy)
            if reducible <= 0:
                self._finish(order, "reduceOnlyCanceled")
                return
            order.sz = min(order.sz, reducible)
        if order.is_market:
            slip = 1 + MARKET_SLIPPAGE if order.is_buy else 1 - MARKET_SLIPPAGE
            units = float_to_units(market.mark * slip, market.px_decimals)
            order.limit_px = round_px_sig(max(units, 1), market.px_decimals, not order.is_buy)
            order.tif = "FrontendMarket"
        else:
            order.tif = "Gtc"
        self._execute(order, account, market, _hash_hex("trigger", order.oid, self._now))

    def _check_liquidations(self, now_ms: int) -> None:
        marks = self._marks()
        for account in list(self.accounts.values()):
            if account.address == LIQUIDATOR_ADDRESS or not account.positions:
                continue
            has_cross = any(p.szi and p.is_cross for p in account.positions.values())
            if has_cross:
                equity = cross_account_value(account, marks)
                mm = cross_maintenance(account, marks, self.max_leverage)
                if equity < mm:
                    coins = [c for c, p in account.positions.items() if p.szi and p.is_cross]
                    self._liquidate(account, coins, equity, marks)
            for coin, pos in list(account.positions.items()):
                if pos.szi and not pos.is_cross:
                    mark = marks[coin]
                    equity = isolated_equity(pos, mark)
                    if equity < maintenance_margin(pos, mark, self.max_leverage[coin]):
                        self._liquidate(account, [coin], equity, marks)

    def _liquidate(
        self, account: SimAccount, coins: list[str], equity: float, marks: dict[str, float]
    ) -> None:
        """Close positions at market against the book; the rest goes to the backstop liquidator."""
        cancelled = []
        for order in list(account.orders.values()):
            if order.coin in coins and order.status == "open" and order.oid in account.orders:
                self._cancel_order_quiet(order, "liquidatedCanceled")
                cancelled.append({"coin": order.coin, "oid": order.oid})
        if cancelled:
            self._events.append(NonUserCancel(account.address, cancelled))
        ntl_pos = sum(account.positions[c].value(marks[c]) for c in coins)
        lid = self._next_lid
        self._next_lid += 1
        liquidator = self._account(LIQUIDATOR_ADDRESS)
        for coin in coins:
            market = self.markets[coin]
            pos = account.positions[coin]
            if not pos.szi:
                continue
            is_buy = pos.szi < 0
            mark = marks[coin]
            info = {
                "liquidatedUser": account.address,
                "markPx": fmt_usd(mark, 8),
                "method": "market",
            }
            slip = 1 + MARKET_SLIPPAGE if is_buy else 1 - MARKET_SLIPPAGE
            units = float_to_units(mark * slip, market.px_decimals)
            order = self._new_order(
                account,
                market,
                is_buy,
                round_px_sig(max(units, 1), market.px_decimals, not is_buy),
                abs(pos.szi),
                "LiquidationMarket",
                True,
                None,
                None,
            )
            action_hash = _hash_hex("liquidation", lid, coin)
            account.history[order.oid] = order
            self.orders_by_oid[order.oid] = order
            self._events.append(OrderUpdate(order.user, order.update_entry()))
            self._match(order, account, market, action_hash, info)
            if order.sz > 0 and pos.szi:
                # Backstop: the liquidator takes the rest at the mark.
                backstop = dict(info, method="backstop")
                mark_units = market.px_units(mark)
                qty = min(order.sz, abs(pos.szi))
                counter = self._new_order(
                    liquidator, market, not is_buy, mark_units, qty, "Gtc", False, None, None
                )
                liquidator.history[counter.oid] = counter
                self.orders_by_oid[counter.oid] = counter
                self._trade(
                    order,
                    account,
                    counter,
                    liquidator,
                    market,
                    mark_units,
                    qty,
                    action_hash,
                    backstop,
                )
                self._finish(counter, "filled")
            self._finish(order, "filled" if order.sz == 0 else "canceled")
        if account.usdc < 0 and not any(p.szi for p in account.positions.values()):
            # Bad debt is absorbed by the liquidator (the venue's backstop vault).
            liquidator.usdc = round(liquidator.usdc + account.usdc, 6)
            account.usdc = 0.0
        payload = {
            "lid": lid,
            "liquidator": LIQUIDATOR_ADDRESS,
            "liquidated_user": account.address,
            "liquidated_ntl_pos": fmt_usd(ntl_pos),
            "liquidated_account_value": fmt_usd(equity),
        }
        self._events.append(UserLiquidation(account.address, payload))

    def current_funding_rate(self, coin: str) -> tuple[float, float]:
        """(hourly rate, premium) of `coin` now: override, else the venue's formula on the mark."""
        market = self._market(coin)
        premium = (market.mark - market.oracle) / market.oracle if market.oracle else 0.0
        if market.funding_override is not None:
            return market.funding_override, premium
        clamp = max(-FUNDING_CLAMP_8H, min(FUNDING_CLAMP_8H, FUNDING_INTEREST_8H - premium))
        rate = (premium + clamp) / 8
        rate = max(-FUNDING_CAP_1H, min(FUNDING_CAP_1H, rate))
        return rate, premium

    def _pay_funding(self, now_ms: int) -> None:
        hour = now_ms // HOUR_MS
        if self._last_funding_hour is None:
            self._last_funding_hour = hour
            return
        if hour <= self._last_funding_hour:
            return
        first = max(self._last_funding_hour + 1, hour - FUNDING_CATCH_UP_HOURS + 1)
        self._last_funding_hour = hour
        for h in range(first, hour + 1):
            when = h * HOUR_MS
            for market in self.markets.values():
                rate, premium = self.current_funding_rate(market.coin)
                rate = round(rate, 10)
                market.funding_history.append(
                    {
                        "coin": market.coin,
                        "fundingRate": fmt_usd(rate, 10),
                        "premium": fmt_usd(premium, 8),
                        "time": when,
                    }
                )
                for account in self.accounts.values():
                    pos = account.positions.get(market.coin)
                    if pos is None or not pos.szi:
                        continue
                    payment = round(-pos.size * market.oracle * rate, 6)
                    if pos.is_cross:
                        account.usdc = round(account.usdc + payment, 6)
                    else:
                        pos.iso_margin += payment
                    pos.funding_all_time -= payment
                    pos.funding_since_open -= payment
                    pos.funding_since_change -= payment
                    delta = {
                        "time": when,
                        "coin": market.coin,
                        "usdc": fmt_usd(payment),
                        "szi": market.sz_str(pos.szi),
                        "fundingRate": fmt_usd(rate, 10),
                        "nSamples": 1,
                    }
                    account.fundings.append(
                        {
                            "time": when,
                            "hash": _hash_hex("funding", account.address, market.coin, when),
                            "delta": {
                                "type": "funding",
                                **{k: v for k, v in delta.items() if k != "time"},
                            },
                        }
                    )
                    self._events.append(UserFunding(account.address, delta))

    # ============================================================================================
    # Read models
    # ============================================================================================

    def l2_book(
        self,
        coin: str,
        n_sig_figs: int | None = None,
        mantissa: int | None = None,
        n_levels: int = 20,
    ) -> dict[str, Any]:
        """The l2Book payload `{coin, time, levels:[bids, asks]}`, optionally aggregated."""
        market = self._market(coin)
        return {
            "coin": coin,
            "time": self._now,
            "levels": [
                self._side_levels(market, True, n_sig_figs, mantissa, n_levels),
                self._side_levels(market, False, n_sig_figs, mantissa, n_levels),
            ],
        }

    def _side_levels(
        self,
        market: _Market,
        is_bid: bool,
        n_sig_figs: int | None,
        mantissa: int | None,
        n_levels: int,
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if n_sig_figs is None:
            for px, queue in market.book.levels(is_bid):
                if len(out) >= n_levels:
                    break
                out.append(
                    {
                        "px": market.px_str(px),
                        "sz": market.sz_str(sum(o.sz for o in queue)),
                        "n": len(queue),
                    }
                )
            return out
        buckets: dict[int, list[int]] = {}
        for px, queue in market.book.levels(is_bid):
            digits = len(str(px))
            step = 10 ** max(0, digits - n_sig_figs) * (mantissa or 1)
            key = px - px % step
            if not is_bid and key != px:
                key += step
            bucket = buckets.get(key)
            if bucket is None:
                if len(buckets) >= n_levels:
                    break
                bucket = buckets[key] = [0, 0]
            bucket[0] += sum(o.sz for o in queue)
            bucket[1] += len(queue)
        for key, (sz, n) in buckets.items():
            out.append({"px": market.px_str(key), "sz": market.sz_str(sz), "n": n})
        return out

    def bbo(self, coin: str) -> dict[str, Any]:
        """The bbo payload `{coin, time, bbo:[bid|None, ask|None]}`."""
        market = self._market(coin)
        levels: list[dict[str, Any] | None] = []
        for is_bid in (True, False):
            level = None
            for px, queue in market.book.levels(is_bid):
                level = {
                    "px": market.px_str(px),
                    "sz": market.sz_str(sum(o.sz for o in queue)),
                    "n": len(queue),
                }
                break
            levels.append(level)
        return {"coin": coin, "time": self._now, "bbo": levels}

    def open_interest(self, coin: str) -> int:
        """Open interest in size units: the sum of open long positions (= the sum of shorts)."""
        total = 0
        for account in self.accounts.values():
            pos = account.positions.get(coin)
            if pos is not None and pos.szi > 0:
                total += pos.szi
        return total

    def _impact_px(self, market: _Market, is_bid: bool) -> float | None:
        remaining = IMPACT_NOTIONAL_USD
        last: float | None = None
        for px, queue in market.book.levels(is_bid):
            last = market.px_float(px)
            remaining -= last * sum(o.sz for o in queue) / market.sz_scale
            if remaining <= 0:
                break
        return last

    def asset_ctx(self, coin: str) -> dict[str, Any]:
        """The perp asset context as in metaAndAssetCtxs / activeAssetCtx (decimals as strings)."""
        market = self._market(coin)
        rate, _ = self.current_funding_rate(coin)
        bid = market.book.best_bid()
        ask = market.book.best_ask()
        mid: str | None = None
        impact: list[str] | None = None
        premium: str | None = None
        if bid is not None and ask is not None:
            mid = fmt_usd((market.px_float(bid) + market.px_float(ask)) / 2, market.px_decimals + 1)
            impact_bid = self._impact_px(market, True)
            impact_ask = self._impact_px(market, False)
            if impact_bid is not None and impact_ask is not None:
                impact = [
                    fmt_usd(impact_bid, market.px_decimals),
                    fmt_usd(impact_ask, market.px_decimals),
                ]
                impact_mid = (impact_bid + impact_ask) / 2
                premium = fmt_usd((impact_mid - market.oracle) / market.oracle, 10)
        return {
            "funding": fmt_usd(rate, 10),
            "openInterest": market.sz_str(self.open_interest(coin)),
            "prevDayPx": self._fmt_px(market, market.prev_day_px),
            "dayNtlVlm": fmt_usd(market.day_ntl, 10),
            "premium": premium,
            "oraclePx": self._fmt_px(market, market.oracle),
            "markPx": self._fmt_px(market, market.mark),
            "midPx": mid,
            "impactPxs": impact,
            "dayBaseVlm": market.sz_str(market.day_base),
        }

    @staticmethod
    def _fmt_px(market: _Market, px: float) -> str:
        return fmt_usd(px, market.px_decimals)

    def all_mids(self) -> dict[str, str]:
        """Mid per coin (last trade, then mark, when a side of the book is empty)."""
        mids: dict[str, str] = {}
        for market in self.markets.values():
            bid = market.book.best_bid()
            ask = market.book.best_ask()
            if bid is not None and ask is not None:
                value = (market.px_float(bid) + market.px_float(ask)) / 2
                mids[market.coin] = fmt_usd(value, market.px_decimals + 1)
            elif market.last_trade_px is not None:
                mids[market.coin] = self._fmt_px(market, market.last_trade_px)
            else:
                mids[market.coin] = self._fmt_px(market, market.mark)
        for pair in self.spot_pairs:
            mids[pair.name] = fmt_usd(pair.initial_px, 8)
        return mids

    def candles(self, coin: str, interval: str, start_ms: int, end_ms: int) -> list[dict[str, Any]]:
        """Candles of `coin` whose open time lies in [start_ms, end_ms], oldest first."""
        market = self._market(coin)
        if interval not in CANDLE_INTERVAL_MS:
            raise errors.InfoRequestError(errors.DESERIALIZE)
        out = []
        for t, c in market.candles[interval].items():
            if start_ms <= t <= end_ms or (t < start_ms <= c[1]):
                out.append(
                    {
                        "t": c[0],
                        "T": c[1],
                        "s": coin,
                        "i": interval,
                        "o": market.px_str(c[2]),
                        "c": market.px_str(c[3]),
                        "h": market.px_str(c[4]),
                        "l": market.px_str(c[5]),
                        "v": market.sz_str(c[6]),
                        "n": c[7],
                    }
                )
        return out

    def info(self, body: dict[str, Any], now_ms: int) -> Any:
        """Handle one /info body; raises InfoRequestError for bad requests."""
        self._now = max(self._now, now_ms) if now_ms else self._now
        return handle_info(self, body, now_ms)

    # ============================================================================================
    # Helpers
    # ============================================================================================

    def _market(self, coin: str) -> _Market:
        market = self.markets.get(coin)
        if market is None:
            raise KeyError(f"unknown coin {coin!r}")
        return market

    def _account(self, address: str) -> SimAccount:
        account = self.accounts.get(address)
        if account is None:
            account = SimAccount(address=address)
            self.accounts[address] = account
        return account

    def _leverage_of(self, account: SimAccount, coin: str) -> tuple[bool, int]:
        setting = account.leverage.get(coin)
        if setting is None:
            spec = self.markets[coin].spec
            setting = (not spec.only_isolated, min(DEFAULT_LEVERAGE, spec.max_leverage))
            account.leverage[coin] = setting
        return setting

    def _position(self, account: SimAccount, coin: str) -> SimPosition:
        pos = account.positions.get(coin)
        if pos is None:
            is_cross, lev = self._leverage_of(account, coin)
            pos = SimPosition(
                coin=coin,
                sz_decimals=self.markets[coin].sz_decimals,
                is_cross=is_cross,
                leverage=lev,
            )
            account.positions[coin] = pos
        elif pos.szi == 0:
            pos.is_cross, pos.leverage = self._leverage_of(account, coin)
        return pos

    def _marks(self) -> dict[str, float]:
        return {coin: m.mark for coin, m in self.markets.items()}

    def _withdrawable(self, account: SimAccount) -> float:
        marks = self._marks()
        free = (
            cross_account_value(account, marks)
            - cross_margin_used(account, marks)
            - open_order_margin(account)
        )
        return max(0.0, min(free, account.usdc))

    def _flush_books(self) -> None:
        if self._dirty_books:
            for coin in self._dirty_books:
                self._events.append(BookChanged(coin))
            self._dirty_books = {}
