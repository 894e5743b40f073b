"""Payloads of the venue's aggregate user channels: webData2, webData3, spotState and friends.

The venue's web app lives on these WebSocket channels (one frame carries the account, its open
orders and the market contexts), and bots built against it wait on them; a simulator that
answered `Invalid subscription` would stall them. Each builder reads the venue state only.

Sources of the shapes: webData3, clearinghouseState, openOrders, spotState and activeAssetData
follow real frames in `tests/resources/hyperliquid/ws_*.json`. webData2 has no capture and is no
longer in the GitBook (webData3 replaced it): its layout follows the public TypeScript client
`nktkas/hyperliquid` (`WebData2Response`) [? not verified against a live frame].
"""

from __future__ import annotations

from typing import Any

from simulator.accounts import SimAccount
from simulator.info import active_asset_data
from simulator.info import clearinghouse_state
from simulator.info import meta
from simulator.info import net_deposits
from simulator.info import spot_clearinghouse_state
from simulator.info import spot_ctxs
from simulator.orders import fmt_usd
from simulator.state import VenueState
from simulator.views import asset_ctx

__all__ = [
    "active_asset_data_frame",
    "clearinghouse_state_frame",
    "open_orders_frame",
    "spot_state_frame",
    "web_data2",
    "web_data3",
]


def _frontend_orders(account: SimAccount | None) -> list[dict[str, Any]]:
    if account is None:
        return []
    return [o.frontend() for o in reversed(account.orders.values())]


def _agent(account: SimAccount | None) -> tuple[str | None, int | None]:
    """The unnamed API wallet of the account and its expiry (None, None without one)."""
    if account is None or "" not in account.agents:
        return None, None
    address, until = account.agents[""]
    return address, until


def clearinghouse_state_frame(state: VenueState, user: str, now_ms: int) -> dict[str, Any]:
    """`clearinghouseState` channel data: `{dex, user, clearinghouseState}` (first dex only)."""
    return {"dex": "", "user": user, "clearinghouseState": clearinghouse_state(state, user, now_ms)}


def open_orders_frame(state: VenueState, user: str) -> dict[str, Any]:
    """`openOrders` channel data: `{dex, user, orders}` with frontend orders, newest first."""
    return {"dex": "", "user": user, "orders": _frontend_orders(state.accounts.get(user))}


def spot_state_frame(state: VenueState, user: str) -> dict[str, Any]:
    """`spotState` channel data: balances, and the USDC free after holds per token."""
    spot = spot_clearinghouse_state(state, user)
    free_usdc = 0.0
    for balance in spot["balances"]:
        if balance["token"] == 0:
            free_usdc = float(balance["total"]) - float(balance["hold"])
    spot["tokenToAvailableAfterMaintenance"] = [[0, fmt_usd(free_usdc, 8)]]
    return {"user": user, "spotState": spot}


def active_asset_data_frame(state: VenueState, user: str, coin: str) -> dict[str, Any]:
    """`activeAssetData` channel data: the same object /info answers."""
    return active_asset_data(state, user, coin)


def web_data2(state: VenueState, user: str, now_ms: int) -> dict[str, Any]:
    """`webData2`: account, open orders, perp and spot contexts in one frame (see module doc).

    Not simulated (neutral values): vaults led by the user, TWAP orders, open-interest caps."""
    account = state.accounts.get(user)
    agent, until = _agent(account)
    return {
        "clearinghouseState": clearinghouse_state(state, user, now_ms),
        "leadingVaults": [],
        "totalVaultEquity": "0.0",
        "openOrders": _frontend_orders(account),
        "agentAddress": agent,
        "agentValidUntil": until,
        "cumLedger": fmt_usd(net_deposits(account)),
        "meta": meta(state),
        "assetCtxs": [asset_ctx(state, c.name) for c in state.coins],
        "serverTime": now_ms,
        "isVault": user in state.vaults,
        "user": user,
        "twapStates": [],
        "spotState": spot_clearinghouse_state(state, user),
        "spotAssetCtxs": spot_ctxs(state),
    }


def web_data3(state: VenueState, user: str, now_ms: int) -> dict[str, Any]:
    """`webData3`: the user's state and one entry per perp dex (the first dex only here)."""
    account = state.accounts.get(user)
    agent, until = _agent(account)
    return {
        "userState": {
            "agentAddress": agent,
            "agentValidUntil": until,
            "cumLedger": fmt_usd(net_deposits(account)),
            "serverTime": now_ms,
            "isVault": user in state.vaults,
            "user": user,
        },
        "perpDexStates": [{"totalVaultEquity": "0.0", "perpsAtOpenInterestCap": []}],
    }
