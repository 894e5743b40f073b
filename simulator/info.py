"""The simulated venue's /info queries, answered from the venue state in venue shapes.

Handlers take the `VenueState` (never the engine), so /info only reads and no import circle
forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from adapters.hyperliquid.numbers import is_valid_address
from simulator.accounts import SimAccount
from simulator.accounts import cross_account_value
from simulator.accounts import cross_maintenance
from simulator.accounts import cross_margin_used
from simulator.accounts import isolated_equity
from simulator.accounts import liquidation_px
from simulator.accounts import open_order_margin
from simulator.errors import DESERIALIZE
from simulator.errors import InfoRequestError
from simulator.funding import predicted_fundings
from simulator.info_unmodelled import UNMODELLED_HANDLERS
from simulator.orders import fmt_usd
from simulator.spot import spot_balances
from simulator.state import DAY_MS
from simulator.state import MarketState
from simulator.state import VenueState
from simulator.views import all_mids
from simulator.views import asset_ctx
from simulator.views import candles
from simulator.views import l2_book
from simulator.views import open_orders_of
from simulator.views import spot_mid

MAX_FILLS = 2000
MAX_TIME_RANGE_ITEMS = 500
MAX_CANDLES = 5000

InfoHandler = Callable[[VenueState, dict[str, Any], int], Any]


def _user(body: dict[str, Any]) -> str:
    user = body.get("user")
    if not isinstance(user, str) or len(user) != 42 or not user.startswith("0x"):
        raise InfoRequestError(DESERIALIZE)
    return user.lower()


def _int_param(body: dict[str, Any], key: str, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InfoRequestError(DESERIALIZE)
    return value


def _time_window(body: dict[str, Any], now_ms: int, start_required: bool = True) -> tuple[int, int]:
    """[startTime, endTime] of a time-range query; endTime defaults to now (inclusive).

    The user ledgers (userFunding, userNonFundingLedgerUpdates) are asked without startTime by
    ccxt's fetchFundingHistory / fetchLedger, which work on the venue: there it defaults to 0
    [inferred from ccxt]."""
    start = _int_param(body, "startTime", required=start_required) or 0
    end = _int_param(body, "endTime", required=False)
    return start, end if end is not None else now_ms


def _rows_in(rows: Any, window: tuple[int, int]) -> list[dict[str, Any]]:
    """The rows whose "time" lies in the window, in stored order."""
    start, stop = window
    return [r for r in rows if start <= r["time"] <= stop]


def _coin(state: VenueState, body: dict[str, Any]) -> str:
    coin = body.get("coin")
    if not isinstance(coin, str) or coin not in state.markets:
        raise InfoRequestError(DESERIALIZE)
    return coin


def _book_coin(state: VenueState, body: dict[str, Any]) -> str:
    """A perp coin or a spot pair name (books, candles and trades exist for both)."""
    coin = body.get("coin")
    if not isinstance(coin, str) or (coin not in state.markets and coin not in state.spot_markets):
        raise InfoRequestError(DESERIALIZE)
    return coin


def _account(state: VenueState, body: dict[str, Any]) -> SimAccount | None:
    return state.accounts.get(_user(body))


# --- metadata ---------------------------------------------------------------------------------


def meta(state: VenueState) -> dict[str, Any]:
    """`meta`: the perp universe, one margin table per distinct max leverage."""
    universe = []
    for spec in state.coins:
        entry: dict[str, Any] = {
            "szDecimals": spec.sz_decimals,
            "name": spec.name,
            "maxLeverage": spec.max_leverage,
            "marginTableId": spec.max_leverage,
        }
        if spec.only_isolated:
            entry["onlyIsolated"] = True
        universe.append(entry)
    tables = []
    for lev in sorted({c.max_leverage for c in state.coins}):
        tables.append(
            [
                lev,
                {
                    "description": "",
                    "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}],
                },
            ]
        )
    return {"universe": universe, "marginTables": tables, "collateralToken": 0}


def spot_meta(state: VenueState) -> dict[str, Any]:
    """`spotMeta`: tokens and pairs."""
    tokens = [
        {
            "name": t.name,
            "szDecimals": t.sz_decimals,
            "weiDecimals": t.wei_decimals,
            "index": t.index,
            "tokenId": t.token_id,
            "isCanonical": True,
            "evmContract": None,
            "fullName": t.full_name,
        }
        for t in state.spot_tokens
    ]
    universe = [
        {"name": p.name, "tokens": [p.base, p.quote], "index": p.index, "isCanonical": True}
        for p in state.spot_pairs
    ]
    return {"tokens": tokens, "universe": universe}


def spot_ctx(market: MarketState) -> dict[str, Any]:
    """The spot asset context of one pair (spotMetaAndAssetCtxs / activeSpotAssetCtx).

    Supplies are not modelled: the listed token is given a fixed supply of one billion."""
    mid = spot_mid(market)
    return {
        "prevDayPx": fmt_usd(market.prev_day_px, 8),
        "dayNtlVlm": fmt_usd(market.day_ntl, 8),
        "markPx": fmt_usd(mid, 8),
        "midPx": fmt_usd(mid, 8),
        "circulatingSupply": "1000000000.0",
        "coin": market.coin,
        "totalSupply": "1000000000.0",
        "dayBaseVlm": market.sz_str(market.day_base),
    }


def spot_ctxs(state: VenueState) -> list[dict[str, Any]]:
    """Spot asset contexts, one per pair in `spotMeta.universe` order."""
    return [spot_ctx(state.spot_markets[pair.name]) for pair in state.spot_pairs]


# --- accounts ---------------------------------------------------------------------------------


def clearinghouse_state(state: VenueState, user: str, now_ms: int) -> dict[str, Any]:
    """`clearinghouseState`: margin summaries and positions at the current marks."""
    account = state.accounts.get(user)
    marks = state.marks()
    positions: list[dict[str, Any]] = []
    cross_av = 0.0
    total_av = 0.0
    cross_ntl = 0.0
    total_ntl = 0.0
    cross_signed = 0.0
    total_signed = 0.0
    cross_used = 0.0
    total_used = 0.0
    cross_mm = 0.0
    withdrawable = 0.0
    if account is not None:
        cross_av = cross_account_value(account, marks)
        total_av = cross_av
        cross_used = cross_margin_used(account, marks)
        total_used = cross_used
        cross_mm = cross_maintenance(account, marks, state.max_leverage)
        for coin in state.markets:
            pos = account.positions.get(coin)
            if pos is None or not pos.szi:
                continue
            market = state.markets[coin]
            mark = marks[coin]
            value = pos.value(mark)
            upnl = pos.upnl(mark)
            if pos.is_cross:
                margin = value / pos.leverage
                leverage: dict[str, Any] = {"type": "cross", "value": pos.leverage}
                cross_ntl += value
                cross_signed += pos.size * mark
            else:
                margin = isolated_equity(pos, mark)
                leverage = {
                    "type": "isolated",
                    "value": pos.leverage,
                    "rawUsd": fmt_usd(pos.iso_margin - pos.size * pos.entry_px()),
                }
                total_av += margin
                total_used += margin
            total_ntl += value
            total_signed += pos.size * mark
            initial = pos.entry_ntl / pos.leverage if pos.entry_ntl else 0.0
            liq = liquidation_px(account, pos, marks, state.max_leverage)
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": market.sz_str(pos.szi),
                        "leverage": leverage,
                        "entryPx": fmt_usd(pos.entry_px(), market.px_decimals + 2),
                        "positionValue": fmt_usd(value),
                        "unrealizedPnl": fmt_usd(upnl),
                        "returnOnEquity": fmt_usd(upnl / initial if initial else 0.0, 8),
                        "liquidationPx": None if liq is None else fmt_usd(liq, 8),
                        "marginUsed": fmt_usd(margin),
                        "maxLeverage": market.spec.max_leverage,
                        "cumFunding": {
                            "allTime": fmt_usd(pos.funding_all_time),
                            "sinceOpen": fmt_usd(pos.funding_since_open),
                            "sinceChange": fmt_usd(pos.funding_since_change),
                        },
                    },
                }
            )
        free = cross_av - cross_used - open_order_margin(account)
        withdrawable = max(0.0, min(free, account.usdc))

    def summary(av: float, ntl: float, signed: float, used: float) -> dict[str, str]:
        return {
            "accountValue": fmt_usd(av),
            "totalNtlPos": fmt_usd(ntl),
            "totalRawUsd": fmt_usd(av - signed),
            "totalMarginUsed": fmt_usd(used),
        }

    return {
        "marginSummary": summary(total_av, total_ntl, total_signed, total_used),
        "crossMarginSummary": summary(cross_av, cross_ntl, cross_signed, cross_used),
        "crossMaintenanceMarginUsed": fmt_usd(cross_mm),
        "withdrawable": fmt_usd(withdrawable),
        "assetPositions": positions,
        "time": now_ms,
    }


def spot_clearinghouse_state(state: VenueState, user: str) -> dict[str, Any]:
    """`spotClearinghouseState`: every token balance with what open orders hold."""
    return {"balances": spot_balances(state, state.accounts.get(user))}


def _aggregate(fills: list[dict[str, Any]], sz_decimals: dict[str, int]) -> list[dict[str, Any]]:
    """Merge consecutive fills of one order at one time (aggregateByTime)."""
    out: list[dict[str, Any]] = []
    for fill in fills:
        last = out[-1] if out else None
        if last is not None and last["oid"] == fill["oid"] and last["time"] == fill["time"]:
            sz_a = float(last["sz"])
            sz_b = float(fill["sz"])
            total = sz_a + sz_b
            merged = dict(last)
            merged["px"] = fmt_usd((float(last["px"]) * sz_a + float(fill["px"]) * sz_b) / total, 8)
            merged["sz"] = fmt_usd(total, sz_decimals.get(fill["coin"], 8))
            merged["fee"] = fmt_usd(float(last["fee"]) + float(fill["fee"]))
            merged["closedPnl"] = fmt_usd(float(last["closedPnl"]) + float(fill["closedPnl"]))
            out[-1] = merged
        else:
            out.append(fill)
    return out


# --- dispatch -----------------------------------------------------------------------------------


def _h_meta(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return meta(state)


def _h_meta_ctxs(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return [meta(state), [asset_ctx(state, c.name) for c in state.coins]]


def _h_spot_meta(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return spot_meta(state)


def _h_spot_meta_ctxs(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return [spot_meta(state), spot_ctxs(state)]


def _h_all_mids(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return all_mids(state)


def _h_l2_book(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    coin = _book_coin(state, body)
    n_sig = body.get("nSigFigs")
    mantissa = body.get("mantissa")
    if n_sig is not None and (not isinstance(n_sig, int) or not 2 <= n_sig <= 5):
        raise InfoRequestError(DESERIALIZE)
    if mantissa is not None and (n_sig != 5 or mantissa not in (1, 2, 5)):
        raise InfoRequestError(DESERIALIZE)
    return l2_book(state, coin, n_sig, mantissa)


def _h_candles(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    req = body.get("req")
    if not isinstance(req, dict):
        raise InfoRequestError(DESERIALIZE)
    coin = _book_coin(state, req)
    interval = req.get("interval")
    start = _int_param(req, "startTime")
    end = _int_param(req, "endTime", required=False)
    if not isinstance(interval, str) or start is None:
        raise InfoRequestError(DESERIALIZE)
    out = candles(state, coin, interval, start, end if end is not None else now_ms)
    return out[-MAX_CANDLES:]


def _h_clearinghouse(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return clearinghouse_state(state, _user(body), now_ms)


def _h_spot_clearinghouse(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return spot_clearinghouse_state(state, _user(body))


def _h_open_orders(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return open_orders_of(state, _user(body))


def _h_frontend_open_orders(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    if account is None:
        return []
    return [o.frontend() for o in reversed(account.orders.values())]


def _h_order_status(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    user = _user(body)
    oid = body.get("oid")
    account = state.accounts.get(user)
    order = None
    if account is not None:
        if isinstance(oid, int) and not isinstance(oid, bool):
            order = account.history.get(oid)
        elif isinstance(oid, str):
            found = account.cloids.get(oid.lower())
            order = account.history.get(found) if found is not None else None
        else:
            raise InfoRequestError(DESERIALIZE)
    if order is None:
        return {"status": "unknownOid"}
    return {"status": "order", "order": order.status_entry()}


def _h_historical_orders(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    if account is None:
        return []
    out = []
    for order in reversed(account.history.values()):
        out.append(order.status_entry())
        if len(out) >= MAX_FILLS:
            break
    return out


def _sz_decimals(state: VenueState) -> dict[str, int]:
    return {c: m.sz_decimals for c, m in state.markets.items()}


def _h_user_fills(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    if account is None:
        return []
    fills: list[dict[str, Any]] = list(account.fills)  # type: ignore[arg-type]
    if body.get("aggregateByTime"):
        fills = _aggregate(fills, _sz_decimals(state))
    return fills[::-1][:MAX_FILLS]


def _h_user_fills_by_time(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """Fills with startTime <= time <= endTime, oldest first, at most 2000 (page on time)."""
    account = _account(state, body)
    window = _time_window(body, now_ms)
    if account is None:
        return []
    fills = _rows_in(account.fills, window)
    if body.get("aggregateByTime"):
        fills = _aggregate(fills, _sz_decimals(state))
    return fills[:MAX_FILLS]


def _h_user_funding(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    window = _time_window(body, now_ms, start_required=False)
    if account is None:
        return []
    return _rows_in(account.fundings, window)[:MAX_TIME_RANGE_ITEMS]


def _h_ledger(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    window = _time_window(body, now_ms, start_required=False)
    if account is None:
        return []
    return _rows_in(account.ledger, window)[:MAX_TIME_RANGE_ITEMS]


def _h_funding_history(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    coin = _coin(state, body)
    window = _time_window(body, now_ms)
    return _rows_in(state.markets[coin].funding_history, window)[:MAX_TIME_RANGE_ITEMS]


def _h_user_rate_limit(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    vlm = account.cum_vlm if account is not None else 0.0
    used = account.n_requests if account is not None else 0
    return {"cumVlm": fmt_usd(vlm), "nRequestsUsed": used, "nRequestsCap": 10_000 + int(vlm)}


def _h_user_fees(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    account = _account(state, body)
    taker = account.fee_taker if account is not None else 0.00045
    maker = account.fee_maker if account is not None else 0.00015
    daily: dict[int, list[float]] = {}
    if account is not None:
        for fill in account.fills:
            day = int(fill["time"]) // 86_400_000  # type: ignore[call-overload]
            bucket = daily.setdefault(day, [0.0, 0.0])
            ntl = float(fill["px"]) * float(fill["sz"])  # type: ignore[arg-type]
            bucket[0 if fill["crossed"] else 1] += ntl
    rows = []
    for day in sorted(daily)[-14:]:
        date = dt.datetime.fromtimestamp(day * 86_400, tz=dt.UTC).strftime("%Y-%m-%d")
        rows.append(
            {
                "date": date,
                "userCross": fmt_usd(daily[day][0]),
                "userAdd": fmt_usd(daily[day][1]),
                "exchange": fmt_usd(state.exchange_volume.get(str(day), 0.0)),
            }
        )
    return {
        "dailyUserVlm": rows,
        "feeSchedule": {
            "cross": "0.00045",
            "add": "0.00015",
            "tiers": {
                "vip": [{"ntlCutoff": "5000000.0", "cross": "0.0004", "add": "0.00012"}],
                "mm": [{"makerFractionCutoff": "0.005", "add": "-0.00001"}],
            },
            "referralDiscount": "0.04",
        },
        "userCrossRate": fmt_usd(taker, 8),
        "userAddRate": fmt_usd(maker, 8),
        "activeReferralDiscount": "0.0",
    }


# The venue lists every named agent with a `validUntil` (ms); an agent approved without
# " valid_until <ms>" never expires, shown here as this far-future time (year 3000).
NO_EXPIRY_MS = 32_503_680_000_000


def _h_extra_agents(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`extraAgents`: the account's NAMED API wallets, expired ones included (the client judges
    `validUntil`); the unnamed agent is not listed (ask `userRole` about it)."""
    account = _account(state, body)
    if account is None:
        return []
    return [
        {
            "name": name,
            "address": address,
            "validUntil": NO_EXPIRY_MS if until is None else until,
        }
        for name, (address, until) in account.agents.items()
        if name
    ]


def _h_user_role(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`userRole`: what an address is to the venue.

    An agent is reported with its master only while it may sign (not expired): an expired
    agent's signatures are refused like an unknown wallet's, so it is `missing` [inferred].
    """
    user = _user(body)
    agent = state.agents.get(user)
    if agent is not None and (agent[2] is None or agent[2] > now_ms):
        return {"role": "agent", "data": {"user": agent[0]}}
    if user in state.vaults:
        return {"role": "vault"}
    account = state.accounts.get(user)
    if account is None:
        return {"role": "missing"}
    if account.master is not None:
        return {"role": "subAccount", "data": {"master": account.master}}
    return {"role": "user"}


def _h_recent_trades(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    coin = _book_coin(state, body)
    return list(state.market(coin).trades)[-100:][::-1]


# --- frontend and account summaries (answered so clients that ask for them do not stall) ------
#
# Where no venue capture exists, the shape follows the venue's documentation (GitBook "Info
# endpoint" pages); each handler says which. Values the simulator does not model (other venues'
# funding, staking, referral rewards, vault followers) are the neutral values a fresh account
# sees on the venue.

PORTFOLIO_PERIODS = (
    ("day", DAY_MS),
    ("week", 7 * DAY_MS),
    ("month", 30 * DAY_MS),
    ("allTime", None),
    ("perpDay", DAY_MS),
    ("perpWeek", 7 * DAY_MS),
    ("perpMonth", 30 * DAY_MS),
    ("perpAllTime", None),
)
"""The periods of `portfolio` / `vaultDetails.portfolio`, in the documented order."""


def _address_param(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not is_valid_address(value):
        raise InfoRequestError(DESERIALIZE)
    return str(value).lower()


def _h_perp_dexs(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`perpDexs`: `[null]`: only the first (default) perp dex; no builder-deployed dexs.
    Shape: GitBook perpetuals page (index 0 is null for the default dex)."""
    return [None]


def _h_all_perp_metas(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`allPerpMetas`: one `meta` per perp dex, the default dex only (capture: allPerpMetas)."""
    return [meta(state)]


def _h_exchange_status(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`exchangeStatus`: `{specialStatuses, time}`. Not in the GitBook and no capture: the shape is
    the one ccxt's fetchStatus/fetchTime parse (`specialStatuses` null when the venue runs
    normally; `time` in ms) [?]."""
    return {"specialStatuses": None, "time": now_ms}


def _h_predicted_fundings(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`predictedFundings`: the venue's own (`HlPerp`) rate per coin (see `funding`); other
    venues' rates (BinPerp, BybitPerp) are not simulated."""
    return predicted_fundings(state, now_ms)


def active_asset_data(state: VenueState, user: str, coin: str) -> dict[str, Any]:
    """`activeAssetData` (perps): leverage, what can still be traded per side, and the mark.

    Capture: ws_activeAssetData. `availableToTrade` is the free cross collateral in USD (the
    venue's own split per side is not documented); `maxTradeSzs` is what that buys at the
    leverage, plus, on the side that reduces a position, the position itself [approximation]."""
    market = state.market(coin)
    account = state.accounts.get(user)
    mark = market.mark
    if account is None:
        is_cross, lev = (not market.spec.only_isolated, min(20, market.spec.max_leverage))
        free = 0.0
        szi = 0
    else:
        is_cross, lev = state.leverage_of(account, coin)
        marks = state.marks()
        free = max(
            0.0,
            cross_account_value(account, marks)
            - cross_margin_used(account, marks)
            - open_order_margin(account),
        )
        pos = account.positions.get(coin)
        szi = pos.szi if pos is not None else 0
    leverage: dict[str, Any] = {"type": "cross" if is_cross else "isolated", "value": lev}
    if not is_cross:
        pos = account.positions.get(coin) if account is not None else None
        raw = pos.iso_margin - pos.size * pos.entry_px() if pos is not None and pos.szi else 0.0
        leverage["rawUsd"] = fmt_usd(raw)
    scale = 10**market.sz_decimals
    base_units = int(free * lev / mark * scale) if mark > 0 else 0
    buy_units = base_units + (-szi if szi < 0 else 0)
    sell_units = base_units + (szi if szi > 0 else 0)
    return {
        "user": user,
        "coin": coin,
        "leverage": leverage,
        "maxTradeSzs": [market.sz_str(buy_units), market.sz_str(sell_units)],
        "availableToTrade": [fmt_usd(free), fmt_usd(free)],
        "markPx": market.fmt_px(mark),
    }


def _h_active_asset_data(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return active_asset_data(state, _user(body), _coin(state, body))


def _h_max_builder_fee(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`maxBuilderFee`: the user's approval for a builder, a bare integer in tenths of a basis
    point (GitBook info endpoint); 0 when never approved."""
    account = _account(state, body)
    builder = _address_param(body, "builder")
    return account.builder_fees.get(builder, 0) if account is not None else 0


def net_deposits(account: SimAccount | None) -> float:
    """USDC that came into the account from outside: deposits less withdrawals (`cumLedger`)."""
    if account is None:
        return 0.0
    total = 0.0
    for row in account.ledger:
        delta = row.get("delta")
        if isinstance(delta, dict) and delta.get("type") in ("deposit", "withdraw"):
            sign = 1.0 if delta["type"] == "deposit" else -1.0
            total += sign * float(delta.get("usdc", 0.0))
    return total


def portfolio(state: VenueState, user: str, now_ms: int) -> list[Any]:
    """`portfolio`: account value, PnL and volume per period (GitBook info endpoint).

    The simulator keeps no value history: each period's histories hold one point, now
    [difference: the venue samples the whole period]."""
    account = state.accounts.get(user)
    perp_value = 0.0
    spot_value = 0.0
    pnl = 0.0
    if account is not None:
        summary = clearinghouse_state(state, user, now_ms)["marginSummary"]
        perp_value = float(summary["accountValue"])
        spot_value = account.spot_usdc
        pnl = perp_value + spot_value - net_deposits(account)
    out: list[Any] = []
    for name, span in PORTFOLIO_PERIODS:
        since = 0 if span is None else now_ms - span
        fills = account.fills if account is not None else []
        vlm = 0.0
        for fill in fills:
            if int(str(fill["time"])) < since:
                continue
            if name.startswith("perp") and str(fill["coin"]) not in state.markets:
                continue  # a spot fill
            vlm += float(str(fill["px"])) * float(str(fill["sz"]))
        value = perp_value if name.startswith("perp") else perp_value + spot_value
        entry = {
            "accountValueHistory": [[now_ms, fmt_usd(value)]],
            "pnlHistory": [[now_ms, fmt_usd(pnl)]],
            "vlm": fmt_usd(vlm),
        }
        out.append([name, entry])
    return out


def _h_portfolio(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    return portfolio(state, _user(body), now_ms)


def _h_sub_accounts(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`subAccounts`: name, address, master and both states of each sub-account (GitBook info
    endpoint). An account without sub-accounts gets `[]` [? the venue may send null]."""
    account = _account(state, body)
    if account is None:
        return []
    out = []
    for address in account.sub_accounts:
        if address in state.vaults:
            continue  # a vault it leads, not a sub-account
        sub = state.accounts[address]
        out.append(
            {
                "name": sub.name or address,
                "subAccountUser": address,
                "master": account.address,
                "clearinghouseState": clearinghouse_state(state, address, now_ms),
                "spotState": spot_clearinghouse_state(state, address),
            }
        )
    return out


def _h_referral(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`referral`: referral state of a user (GitBook info endpoint). Referral codes are not
    simulated: nobody was referred, nobody refers, no rewards; `cumVlm` is the user's volume."""
    account = _account(state, body)
    vlm = fmt_usd(account.cum_vlm if account is not None else 0.0)
    rewards = {"cumVlm": vlm, "unclaimedRewards": "0.0", "claimedRewards": "0.0"}
    rewards["builderRewards"] = "0.0"
    return {
        "referredBy": None,
        **rewards,
        "tokenToState": [[0, dict(rewards)]],
        "referrerState": {"stage": "needToTrade", "data": {"required": "10000.0"}},
        "rewardHistory": [],
    }


def _h_vault_details(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """`vaultDetails`: a vault's description, portfolio and followers (GitBook info endpoint).

    Vaults here are accounts registered as vaults (no deposits by followers): the leader owns
    everything, and the vault's own value is its portfolio. `null` for an address that is not a
    vault [? the venue's answer for that case is not documented]."""
    vault = _address_param(body, "vaultAddress")
    if body.get("user") is not None:
        _user(body)
    account = state.accounts.get(vault)
    if vault not in state.vaults or account is None:
        return None
    leader = account.master or vault
    withdrawable = state.withdrawable(account)
    return {
        "name": account.name or vault,
        "vaultAddress": vault,
        "leader": leader,
        "description": "",
        "portfolio": portfolio(state, vault, now_ms),
        "apr": 0.0,
        "followerState": None,
        "leaderFraction": 1.0,
        "leaderCommission": 0,
        "followers": [],
        "maxDistributable": withdrawable,
        "maxWithdrawable": withdrawable,
        "isClosed": False,
        "relationship": {"type": "normal"},
        "allowDeposits": False,
        "alwaysCloseOnWithdraw": False,
    }


_HANDLERS: dict[str, InfoHandler] = {
    "meta": _h_meta,
    "metaAndAssetCtxs": _h_meta_ctxs,
    "spotMeta": _h_spot_meta,
    "spotMetaAndAssetCtxs": _h_spot_meta_ctxs,
    "allMids": _h_all_mids,
    "l2Book": _h_l2_book,
    "candleSnapshot": _h_candles,
    "clearinghouseState": _h_clearinghouse,
    "spotClearinghouseState": _h_spot_clearinghouse,
    "openOrders": _h_open_orders,
    "frontendOpenOrders": _h_frontend_open_orders,
    "orderStatus": _h_order_status,
    "historicalOrders": _h_historical_orders,
    "userFills": _h_user_fills,
    "userFillsByTime": _h_user_fills_by_time,
    "userFunding": _h_user_funding,
    "userNonFundingLedgerUpdates": _h_ledger,
    "fundingHistory": _h_funding_history,
    "userRateLimit": _h_user_rate_limit,
    "userFees": _h_user_fees,
    "recentTrades": _h_recent_trades,
    "extraAgents": _h_extra_agents,
    "userRole": _h_user_role,
    "perpDexs": _h_perp_dexs,
    "allPerpMetas": _h_all_perp_metas,
    "exchangeStatus": _h_exchange_status,
    "predictedFundings": _h_predicted_fundings,
    "activeAssetData": _h_active_asset_data,
    "maxBuilderFee": _h_max_builder_fee,
    "portfolio": _h_portfolio,
    "subAccounts": _h_sub_accounts,
    "referral": _h_referral,
    "vaultDetails": _h_vault_details,
    **UNMODELLED_HANDLERS,
}

SUPPORTED_INFO_TYPES: tuple[str, ...] = tuple(_HANDLERS)
"""Every /info `type` the simulator answers."""


def handle_info(state: VenueState, body: dict[str, Any], now_ms: int) -> Any:
    """Dispatch one /info body; unknown types and bad parameters raise InfoRequestError."""
    if not isinstance(body, dict):
        raise InfoRequestError(DESERIALIZE)
    handler = _HANDLERS.get(body.get("type"))  # type: ignore[arg-type]
    if handler is None:
        raise InfoRequestError(DESERIALIZE)
    dex = body.get("dex")
    if dex not in (None, ""):
        raise InfoRequestError(DESERIALIZE)
    return handler(state, body, now_ms)


__all__ = [
    "NO_EXPIRY_MS",
    "PORTFOLIO_PERIODS",
    "SUPPORTED_INFO_TYPES",
    "active_asset_data",
    "clearinghouse_state",
    "handle_info",
    "meta",
    "net_deposits",
    "portfolio",
    "spot_clearinghouse_state",
    "spot_ctx",
    "spot_ctxs",
    "spot_meta",
]
