"""Two independent, unmodified clients against a running simulator: every call works or is listed.

The hyperliquid-python-sdk (every public method of `Info` and `Exchange`) and ccxt's REST
`hyperliquid` class (every unified method its `has` map declares, plus spot variants), pointed at
the simulator's loopback URL. Each call runs once, in a fixed order, inside one module fixture;
its outcome is "worked" (returned and passed a small check of what the venue would answer) or
the error it raised. `KNOWN_DIFFERENCES` lists, with a reason, every call that does not work here
although it works on the venue. The table is exact: a listed call that starts working fails the
suite (remove it from the table), and so does an unlisted call that fails.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import ccxt
import eth_account
import pytest
from hyperliquid.exchange import Exchange
from hyperliquid.info import Info
from hyperliquid.utils.types import Cloid

from simulator.app import SimConfig
from simulator.app import SimThread

MASTER_KEY = "0x" + "7e" * 32
SCRATCH_KEY = "0x" + "8d" * 32  # a second account for calls that would change the master's kind
OUTSIDER = "0x" + "12" * 20
PERP = "BTC/USDC:USDC"
ETH_PERP = "ETH/USDC:USDC"
SPOT = "PURR/USDC"

_NO_TRANSFERS = "transfers to other users, between dexs or tokens are not simulated"
_NO_DEPLOY = "token and perp deployment (HIP-1/2/3) is not simulated"
_NO_VALIDATOR = "validators and consensus are not simulated"
_NO_ABSTRACTION = "unified / dex-abstraction accounts are not simulated"
_NO_STAKING = "staking and delegations are not simulated"

# Every call that does not behave as on the venue, and why. Keys are the call names below.
KNOWN_DIFFERENCES: dict[str, str] = {
    "sdk.Exchange.set_referrer": "referral codes are not simulated (setReferrer refused)",
    "sdk.Exchange.sub_account_spot_transfer": "only USDC moves to sub-accounts, as perp USDC",
    "sdk.Exchange.send_asset": _NO_TRANSFERS,
    "sdk.Exchange.vault_usd_transfer": "vault deposits and withdrawals are not simulated",
    "sdk.Exchange.usd_transfer": _NO_TRANSFERS,
    "sdk.Exchange.spot_transfer": _NO_TRANSFERS,
    "sdk.Exchange.token_delegate": _NO_STAKING,
    "sdk.Exchange.use_big_blocks": "HyperEVM block sizes do not exist here",
    "sdk.Exchange.convert_to_multi_sig_user": "multi-sig accounts are not simulated",
    "sdk.Exchange.multi_sig": "multi-sig accounts are not simulated",
    "sdk.Exchange.spot_deploy_register_token": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_user_genesis": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_enable_freeze_privilege": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_freeze_user": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_revoke_freeze_privilege": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_enable_quote_token": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_token_action_inner": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_genesis": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_register_spot": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_register_hyperliquidity": _NO_DEPLOY,
    "sdk.Exchange.spot_deploy_set_deployer_trading_fee_share": _NO_DEPLOY,
    "sdk.Exchange.perp_deploy_register_asset": _NO_DEPLOY,
    "sdk.Exchange.perp_deploy_set_oracle": _NO_DEPLOY,
    "sdk.Exchange.c_signer_unjail_self": _NO_VALIDATOR,
    "sdk.Exchange.c_signer_jail_self": _NO_VALIDATOR,
    "sdk.Exchange.c_signer_inner": _NO_VALIDATOR,
    "sdk.Exchange.c_validator_register": _NO_VALIDATOR,
    "sdk.Exchange.c_validator_change_profile": _NO_VALIDATOR,
    "sdk.Exchange.c_validator_unregister": _NO_VALIDATOR,
    "sdk.Exchange.agent_enable_dex_abstraction": _NO_ABSTRACTION,
    "sdk.Exchange.agent_set_abstraction": _NO_ABSTRACTION,
    "sdk.Exchange.user_dex_abstraction": _NO_ABSTRACTION,
    "sdk.Exchange.user_set_abstraction": _NO_ABSTRACTION,
    "sdk.Exchange.gossip_priority_bid": "validator gossip priority auctions do not exist here",
    "sdk.Info.query_user_to_multi_sig_signers": "multi-sig accounts are not simulated (422)",
    "sdk.Info.query_perp_deploy_auction_status": _NO_DEPLOY + " (422)",
    "sdk.Info.query_spot_deploy_auction_status": _NO_DEPLOY + " (422)",
    "sdk.Info.query_user_dex_abstraction_state": _NO_ABSTRACTION + " (422)",
    "sdk.Info.query_user_abstraction_state": (
        _NO_ABSTRACTION + " (userAbstraction answered 422; ccxt then assumes a classic account)"
    ),
}

# Calls that fail inside the client, before any request, exactly as they would on the venue:
# not differences, but listed so a client upgrade that implements them is noticed.
CLIENT_SIDE_UNSUPPORTED: dict[str, str] = {
    "ccxt.fetchDepositWithdrawFee": "ccxt raises NotSupported for hyperliquid without a request",
}


@dataclass
class Venue:
    """The running simulator and the clients pointed at it."""

    sim: SimThread
    info: Info
    exchange: Exchange
    scratch: Exchange
    cx: Any
    user: str
    outcomes: dict[str, str | None] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    def mid(self, coin: str) -> float:
        return float(self.info.all_mids()[coin])

    def step(self, n: int = 2) -> None:
        self.sim.step(n)


def _ok(response: Any) -> Any:
    """An /exchange answer that the venue would give to a good request (no error anywhere)."""
    assert isinstance(response, dict), response
    assert response.get("status") == "ok", response
    data = response.get("response", {}).get("data")
    if isinstance(data, dict):
        for status in data.get("statuses", []):
            assert not (isinstance(status, dict) and "error" in status), response
    return response


def _first_oid(response: Any) -> int:
    status = _ok(response)["response"]["data"]["statuses"][0]
    inner = status.get("resting") or status.get("filled")
    return int(inner["oid"])


def _wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# --- the SDK's Info calls ----------------------------------------------------------------------


def _sdk_info_calls(v: Venue) -> list[tuple[str, Callable[[], Any]]]:
    info = v.info
    user = v.user
    now = int(time.time() * 1000)

    def is_list(value: Any) -> Any:
        assert isinstance(value, list), value
        return value

    def is_dict(value: Any) -> Any:
        assert isinstance(value, dict), value
        return value

    def set_perp_meta() -> None:
        info.set_perp_meta(info.meta(), 0)
        assert info.name_to_asset("ETH") == 1

    return [
        ("user_state", lambda: float(info.user_state(user)["marginSummary"]["accountValue"]) > 0),
        ("spot_user_state", lambda: is_list(info.spot_user_state(user)["balances"])),
        ("open_orders", lambda: is_list(info.open_orders(user))),
        ("frontend_open_orders", lambda: is_list(info.frontend_open_orders(user))),
        ("all_mids", lambda: float(info.all_mids()["BTC"]) > 0),
        ("user_fills", lambda: is_list(info.user_fills(user))),
        ("user_fills_by_time", lambda: is_list(info.user_fills_by_time(user, 0, None, True))),
        ("meta", lambda: [a["name"] for a in info.meta()["universe"]][:1] == ["BTC"]),
        ("meta_and_asset_ctxs", lambda: len(info.meta_and_asset_ctxs()[1]) >= 3),
        ("perp_dexs", lambda: is_list(info.perp_dexs())[0] is None),
        ("spot_meta", lambda: is_list(info.spot_meta()["universe"])),
        ("spot_meta_and_asset_ctxs", lambda: is_list(info.spot_meta_and_asset_ctxs()[1])),
        ("funding_history", lambda: is_list(info.funding_history("BTC", 0))),
        ("user_funding_history", lambda: is_list(info.user_funding_history(user, 0))),
        ("l2_snapshot", lambda: len(info.l2_snapshot("BTC")["levels"]) == 2),
        ("candles_snapshot", lambda: is_list(info.candles_snapshot("BTC", "1m", 0, now + 60_000))),
        ("user_fees", lambda: is_dict(info.user_fees(user)["feeSchedule"])),
        (
            "user_staking_summary",
            lambda: info.user_staking_summary(user)["delegated"] == "0.0",
        ),
        ("user_staking_delegations", lambda: is_list(info.user_staking_delegations(user))),
        ("user_staking_rewards", lambda: is_list(info.user_staking_rewards(user))),
        ("delegator_history", lambda: is_list(info.delegator_history(user))),
        ("query_order_by_oid", lambda: info.query_order_by_oid(user, 1)["status"] == "unknownOid"),
        (
            "query_order_by_cloid",
            lambda: info.query_order_by_cloid(user, Cloid.from_int(99))["status"] == "unknownOid",
        ),
        ("query_referral_state", lambda: is_dict(info.query_referral_state(user))),
        ("query_sub_accounts", lambda: is_list(info.query_sub_accounts(user))),
        (
            "query_user_to_multi_sig_signers",
            lambda: info.query_user_to_multi_sig_signers(user) is None,
        ),
        (
            "query_perp_deploy_auction_status",
            lambda: is_dict(info.query_perp_deploy_auction_status()),
        ),
        (
            "query_user_dex_abstraction_state",
            lambda: info.query_user_dex_abstraction_state(user) in (True, False, None),
        ),
        (
            "query_user_abstraction_state",
            lambda: isinstance(info.query_user_abstraction_state(user), str),
        ),
        ("historical_orders", lambda: is_list(info.historical_orders(user))),
        (
            "user_non_funding_ledger_updates",
            lambda: is_list(info.user_non_funding_ledger_updates(user, 0)),
        ),
        ("portfolio", lambda: [p[0] for p in info.portfolio(user)][:1] == ["day"]),
        ("user_twap_slice_fills", lambda: is_list(info.user_twap_slice_fills(user))),
        ("user_vault_equities", lambda: is_list(info.user_vault_equities(user))),
        ("user_role", lambda: info.user_role(user) == {"role": "user"}),
        ("user_rate_limit", lambda: info.user_rate_limit(user)["nRequestsCap"] >= 10_000),
        (
            "query_spot_deploy_auction_status",
            lambda: is_dict(info.query_spot_deploy_auction_status(user)),
        ),
        ("extra_agents", lambda: is_list(info.extra_agents(user))),
        ("set_perp_meta", set_perp_meta),
        ("name_to_asset", lambda: info.name_to_asset("SOL") == 2),
    ]


# The SDK's subscription types (hyperliquid.utils.types.Subscription), each with the event that
# makes the venue push on it. `subscribe`, `unsubscribe` and `disconnect_websocket` are covered
# by running every type through one WebSocket manager.
def _subscriptions(user: str) -> list[dict[str, Any]]:
    return [
        {"type": "allMids"},
        {"type": "bbo", "coin": "BTC"},
        {"type": "l2Book", "coin": "BTC"},
        {"type": "trades", "coin": "BTC"},
        {"type": "userEvents", "user": user},
        {"type": "userFills", "user": user},
        {"type": "candle", "coin": "BTC", "interval": "1m"},
        {"type": "orderUpdates", "user": user},
        {"type": "userFundings", "user": user},
        {"type": "userNonFundingLedgerUpdates", "user": user},
        {"type": "webData2", "user": user},
        {"type": "activeAssetCtx", "coin": "BTC"},
        {"type": "activeAssetData", "user": user, "coin": "BTC"},
    ]


def _run_sdk_subscriptions(v: Venue) -> None:
    """Subscribe to every SDK subscription type on one manager; each must deliver a message."""
    ws_info = Info(v.sim.base_url, skip_ws=False)
    got: dict[str, list[Any]] = {}
    lock = threading.Lock()

    def on(kind: str) -> Callable[[Any], None]:
        def callback(msg: Any) -> None:
            with lock:
                got.setdefault(kind, []).append(msg)

        return callback

    subs = _subscriptions(v.user)
    ids: dict[str, int] = {}
    try:
        manager = ws_info.ws_manager
        assert manager is not None
        _wait_for(lambda: manager.ws_ready, "the SDK's socket")
        for sub in subs:
            ids[sub["type"]] = ws_info.subscribe(sub, on(sub["type"]))  # type: ignore[arg-type]
        _wait_for(lambda: "userFills" in got, "the userFills snapshot")
        # events for the user channels: a taker fill (fills, order updates, ledger stays quiet)
        v.exchange.market_open("BTC", True, 0.001)
        v.exchange.market_close("BTC")
        for _ in range(40):  # market steps until every channel spoke or the budget is spent
            v.step(2)
            with lock:
                if {s["type"] for s in subs} <= set(got):
                    break
            time.sleep(0.05)
        for sub in subs:
            name = f"sdk.Info.subscribe[{sub['type']}]"
            with lock:
                v.outcomes[name] = None if got.get(sub["type"]) else "no message received"
        try:
            assert ws_info.unsubscribe(subs[0], ids["allMids"])  # type: ignore[arg-type]
            v.outcomes["sdk.Info.unsubscribe"] = None
        except Exception as exc:  # recorded, judged by the table test
            v.outcomes["sdk.Info.unsubscribe"] = f"{type(exc).__name__}: {exc}"
    finally:
        try:
            ws_info.disconnect_websocket()
            v.outcomes["sdk.Info.disconnect_websocket"] = None
        except Exception as exc:
            v.outcomes["sdk.Info.disconnect_websocket"] = f"{type(exc).__name__}: {exc}"


# --- the SDK's Exchange calls ------------------------------------------------------------------


def _sdk_exchange_calls(v: Venue) -> list[tuple[str, Callable[[], Any]]]:
    ex = v.exchange
    scratch = v.scratch
    gtc: Any = {"limit": {"tif": "Gtc"}}

    def below(coin: str, frac: float = 0.9) -> float:
        return round(v.mid(coin) * frac, 1 if coin == "ETH" else 0)

    def set_expires_after() -> None:
        ex.set_expires_after(int(time.time() * 1000) + 60_000)
        try:
            oid = _first_oid(ex.order("BTC", True, 0.001, below("BTC"), gtc))
        finally:
            ex.set_expires_after(None)
        _ok(ex.cancel("BTC", oid))

    def order() -> None:
        v.notes["oid"] = _first_oid(ex.order("BTC", True, 0.001, below("BTC"), gtc))

    def modify_order() -> None:
        _ok(ex.modify_order(v.notes["oid"], "BTC", True, 0.002, below("BTC", 0.89), gtc))
        mine = [o for o in v.info.open_orders(v.user) if o["coin"] == "BTC"]
        assert len(mine) == 1 and mine[0]["sz"] == "0.002", mine
        v.notes["oid"] = mine[0]["oid"]

    def bulk_modify_orders_new() -> None:
        request: Any = {
            "oid": v.notes["oid"],
            "order": {
                "coin": "BTC",
                "is_buy": True,
                "sz": 0.003,
                "limit_px": below("BTC", 0.88),
                "order_type": gtc,
                "reduce_only": False,
            },
        }
        _ok(ex.bulk_modify_orders_new([request]))
        mine = [o for o in v.info.open_orders(v.user) if o["coin"] == "BTC"]
        assert len(mine) == 1 and mine[0]["sz"] == "0.003", mine
        v.notes["oid"] = mine[0]["oid"]

    def cancel() -> None:
        _ok(ex.cancel("BTC", v.notes["oid"]))

    def cancel_by_cloid() -> None:
        cloid = Cloid.from_int(7001)
        _ok(ex.order("BTC", True, 0.001, below("BTC"), gtc, cloid=cloid))
        _ok(ex.cancel_by_cloid("BTC", cloid))

    def bulk_orders() -> None:
        requests: Any = [
            {
                "coin": "ETH",
                "is_buy": True,
                "sz": 0.01,
                "limit_px": below("ETH", f),
                "order_type": gtc,
                "reduce_only": False,
                "cloid": Cloid.from_int(8000 + i),
            }
            for i, f in enumerate((0.9, 0.89))
        ]
        response = _ok(ex.bulk_orders(requests))
        statuses = response["response"]["data"]["statuses"]
        v.notes["bulk"] = [s["resting"]["oid"] for s in statuses]

    def bulk_cancel() -> None:
        _ok(ex.bulk_cancel([{"coin": "ETH", "oid": v.notes["bulk"][0]}]))

    def bulk_cancel_by_cloid() -> None:
        _ok(ex.bulk_cancel_by_cloid([{"coin": "ETH", "cloid": Cloid.from_int(8001)}]))

    def market_open() -> None:
        _ok(ex.market_open("SOL", True, 1.0))

    def market_close() -> None:
        _ok(ex.market_close("SOL"))
        assert not [
            p for p in v.info.user_state(v.user)["assetPositions"] if p["position"]["coin"] == "SOL"
        ]

    def schedule_cancel() -> None:
        _ok(ex.schedule_cancel(int(time.time() * 1000) + 600_000))
        _ok(ex.schedule_cancel(None))

    def update_leverage() -> None:
        _ok(ex.update_leverage(5, "ETH", is_cross=False))

    def update_isolated_margin() -> None:
        _ok(ex.market_open("ETH", True, 0.05))
        try:
            _ok(ex.update_isolated_margin(5.0, "ETH"))
        finally:
            _ok(ex.market_close("ETH"))
            _ok(ex.update_leverage(20, "ETH", is_cross=True))

    def create_sub_account() -> None:
        response = _ok(ex.create_sub_account("conformance"))
        v.notes["sub"] = response["response"]["data"]

    def sub_account_transfer() -> None:
        _ok(ex.sub_account_transfer(v.notes["sub"], True, 10_000_000))

    def sub_account_spot_transfer() -> None:
        _ok(
            ex.sub_account_spot_transfer(
                v.notes["sub"], True, "USDC:0x6d1e7cde53ba9467b783cb7c530ce054", 1.0
            )
        )

    def usd_class_transfer() -> None:
        _ok(ex.usd_class_transfer(100.0, False))
        _ok(ex.usd_class_transfer(50.0, True))

    def approve_agent() -> None:
        result, _key = ex.approve_agent()
        _ok(result)

    def approve_builder_fee() -> None:
        _ok(ex.approve_builder_fee(OUTSIDER, "0.01%"))
        assert (
            v.info.post("/info", {"type": "maxBuilderFee", "user": v.user, "builder": OUTSIDER})
            == 10
        )

    token = "USDC:0x6d1e7cde53ba9467b783cb7c530ce054"
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("set_expires_after", set_expires_after),
        ("order", order),
        ("modify_order", modify_order),
        ("bulk_modify_orders_new", bulk_modify_orders_new),
        ("cancel", cancel),
        ("cancel_by_cloid", cancel_by_cloid),
        ("bulk_orders", bulk_orders),
        ("bulk_cancel", bulk_cancel),
        ("bulk_cancel_by_cloid", bulk_cancel_by_cloid),
        ("market_open", market_open),
        ("market_close", market_close),
        ("schedule_cancel", schedule_cancel),
        ("update_leverage", update_leverage),
        ("update_isolated_margin", update_isolated_margin),
        ("set_referrer", lambda: _ok(ex.set_referrer("CONFORMANCE"))),
        ("create_sub_account", create_sub_account),
        ("sub_account_transfer", sub_account_transfer),
        ("sub_account_spot_transfer", sub_account_spot_transfer),
        ("usd_class_transfer", usd_class_transfer),
        ("send_asset", lambda: _ok(ex.send_asset(OUTSIDER, "", "spot", token, 1.0))),
        ("vault_usd_transfer", lambda: _ok(ex.vault_usd_transfer(OUTSIDER, True, 5_000_000))),
        ("usd_transfer", lambda: _ok(ex.usd_transfer(1.0, OUTSIDER))),
        ("spot_transfer", lambda: _ok(ex.spot_transfer(1.0, OUTSIDER, token))),
        ("token_delegate", lambda: _ok(ex.token_delegate(OUTSIDER, 100, False))),
        ("withdraw_from_bridge", lambda: _ok(ex.withdraw_from_bridge(5.0, v.user))),
        ("approve_agent", approve_agent),
        ("approve_builder_fee", approve_builder_fee),
        ("noop", lambda: _ok(ex.noop(int(time.time() * 1000) + 5))),
        ("use_big_blocks", lambda: _ok(ex.use_big_blocks(False))),
        # The calls below would change what the account is; they run on a scratch account.
        (
            "convert_to_multi_sig_user",
            lambda: _ok(scratch.convert_to_multi_sig_user([OUTSIDER], 1)),
        ),
        (
            "multi_sig",
            lambda: _ok(scratch.multi_sig(OUTSIDER, {"type": "noop"}, [], int(time.time() * 1000))),
        ),
        (
            "spot_deploy_register_token",
            lambda: _ok(scratch.spot_deploy_register_token("CONF", 2, 8, 1_000_000, "Conf")),
        ),
        (
            "spot_deploy_user_genesis",
            lambda: _ok(scratch.spot_deploy_user_genesis(1, [(OUTSIDER, "100")], [])),
        ),
        (
            "spot_deploy_enable_freeze_privilege",
            lambda: _ok(scratch.spot_deploy_enable_freeze_privilege(1)),
        ),
        (
            "spot_deploy_freeze_user",
            lambda: _ok(scratch.spot_deploy_freeze_user(1, OUTSIDER, True)),
        ),
        (
            "spot_deploy_revoke_freeze_privilege",
            lambda: _ok(scratch.spot_deploy_revoke_freeze_privilege(1)),
        ),
        ("spot_deploy_enable_quote_token", lambda: _ok(scratch.spot_deploy_enable_quote_token(1))),
        (
            "spot_deploy_token_action_inner",
            lambda: _ok(scratch.spot_deploy_token_action_inner("enableQuoteToken", 1)),
        ),
        ("spot_deploy_genesis", lambda: _ok(scratch.spot_deploy_genesis(1, "1000", True))),
        ("spot_deploy_register_spot", lambda: _ok(scratch.spot_deploy_register_spot(1, 0))),
        (
            "spot_deploy_register_hyperliquidity",
            lambda: _ok(scratch.spot_deploy_register_hyperliquidity(1, 1.0, 10.0, 5, None)),
        ),
        (
            "spot_deploy_set_deployer_trading_fee_share",
            lambda: _ok(scratch.spot_deploy_set_deployer_trading_fee_share(1, "100%")),
        ),
        (
            "perp_deploy_register_asset",
            lambda: _ok(
                scratch.perp_deploy_register_asset(
                    "conf", None, "conf:ABC", 2, "10.0", 10, False, None
                )
            ),
        ),
        (
            "perp_deploy_set_oracle",
            lambda: _ok(scratch.perp_deploy_set_oracle("conf", {"conf:ABC": "10.0"}, [], {})),
        ),
        ("c_signer_unjail_self", lambda: _ok(scratch.c_signer_unjail_self())),
        ("c_signer_jail_self", lambda: _ok(scratch.c_signer_jail_self())),
        ("c_signer_inner", lambda: _ok(scratch.c_signer_inner("jailSelf"))),
        (
            "c_validator_register",
            lambda: _ok(
                scratch.c_validator_register(
                    "127.0.0.1", "conf", "conformance", False, 100, OUTSIDER, True, 10**8
                )
            ),
        ),
        (
            "c_validator_change_profile",
            lambda: _ok(
                scratch.c_validator_change_profile(None, "conf2", None, True, None, None, None)
            ),
        ),
        ("c_validator_unregister", lambda: _ok(scratch.c_validator_unregister())),
        ("agent_enable_dex_abstraction", lambda: _ok(scratch.agent_enable_dex_abstraction())),
        ("agent_set_abstraction", lambda: _ok(scratch.agent_set_abstraction("u"))),
        (
            "user_dex_abstraction",
            lambda: _ok(scratch.user_dex_abstraction(scratch.wallet.address, True)),
        ),
        (
            "user_set_abstraction",
            lambda: _ok(scratch.user_set_abstraction(scratch.wallet.address, "unifiedAccount")),
        ),
        ("gossip_priority_bid", lambda: _ok(scratch.gossip_priority_bid(0, "127.0.0.1", 1))),
    ]
    return calls


def _sdk_spot_calls(v: Venue) -> list[tuple[str, Callable[[], Any]]]:
    """Spot through the SDK: a resting PURR/USDC bid, a taker buy and sell, and a cancel."""
    ex = v.exchange

    def resting_and_cancel() -> None:
        px = round(v.mid("PURR/USDC") * 0.9, 4)
        oid = _first_oid(ex.order("PURR/USDC", True, 200.0, px, {"limit": {"tif": "Gtc"}}))
        assert [o for o in v.info.open_orders(v.user) if o["coin"] == "PURR/USDC"]
        _ok(ex.cancel("PURR/USDC", oid))

    def market_buy_and_sell() -> None:
        _ok(ex.usd_class_transfer(1_000.0, False))
        _ok(ex.market_open("PURR/USDC", True, 100.0))
        balances = v.info.spot_user_state(v.user)["balances"]
        assert any(b["coin"] == "PURR" and float(b["total"]) > 0 for b in balances), balances
        _ok(ex.market_open("PURR/USDC", False, 80.0))
        fills = [f for f in v.info.user_fills(v.user) if f["coin"] == "PURR/USDC"]
        assert len(fills) >= 2, fills

    return [
        ("order[spot]", resting_and_cancel),
        ("market_open[spot]", market_buy_and_sell),
    ]


# --- ccxt --------------------------------------------------------------------------------------


# `has` entries that are capabilities rather than calls, or calls of ccxt's WebSocket client
# (ccxt.pro), which this suite does not drive.
CCXT_NOT_CALLS = frozenset(
    {"publicAPI", "privateAPI", "sandbox", "spot", "swap", "fetchCurrenciesWs"}
)


def _ccxt_calls(v: Venue) -> list[tuple[str, Callable[[], Any]]]:
    cx = v.cx

    def price(symbol: str, frac: float) -> float:
        coin = cx.market(symbol)["baseName"] if symbol != SPOT else "PURR/USDC"
        return float(cx.price_to_precision(symbol, v.mid(coin) * frac))

    def is_list(value: Any) -> Any:
        assert isinstance(value, list), value
        return value

    def create_order() -> None:
        order = cx.create_order(PERP, "limit", "buy", 0.001, price(PERP, 0.9))
        assert order["id"], order
        v.notes["cx_oid"] = order["id"]

    def edit_order() -> None:
        order = cx.edit_order(v.notes["cx_oid"], PERP, "limit", "buy", 0.002, price(PERP, 0.89))
        assert order["id"], order
        mine = [o for o in cx.fetch_open_orders(PERP)]
        assert len(mine) == 1 and mine[0]["amount"] == 0.002, mine
        v.notes["cx_oid"] = mine[0]["id"]

    def edit_orders() -> None:
        orders = cx.edit_orders(
            [
                {
                    "id": v.notes["cx_oid"],
                    "symbol": PERP,
                    "type": "limit",
                    "side": "buy",
                    "amount": 0.003,
                    "price": price(PERP, 0.88),
                }
            ]
        )
        assert orders and orders[0]["id"], orders
        v.notes["cx_oid"] = cx.fetch_open_orders(PERP)[0]["id"]

    def fetch_order() -> None:
        order = cx.fetch_order(v.notes["cx_oid"], PERP)
        assert order["status"] == "open", order

    def cancel_order() -> None:
        cx.cancel_order(v.notes["cx_oid"], PERP)
        assert not cx.fetch_open_orders(PERP)

    def create_orders() -> None:
        orders = cx.create_orders(
            [
                {
                    "symbol": PERP,
                    "type": "limit",
                    "side": "buy",
                    "amount": 0.001,
                    "price": price(PERP, f),
                }
                for f in (0.9, 0.89, 0.88)
            ]
        )
        v.notes["cx_many"] = [o["id"] for o in orders]
        assert len(v.notes["cx_many"]) == 3

    def cancel_orders() -> None:
        cx.cancel_orders(v.notes["cx_many"][:2], PERP)

    def cancel_orders_for_symbols() -> None:
        cx.cancel_orders_for_symbols([{"id": v.notes["cx_many"][2], "symbol": PERP}])
        assert not cx.fetch_open_orders(PERP)

    def market_order() -> None:
        order = cx.create_market_order(ETH_PERP, "buy", 0.01, price(ETH_PERP, 1.0))
        assert order["id"], order
        # As on the venue, ccxt approved its builder and names it on every order.
        fill = v.info.user_fills(v.user)[0]
        assert fill["coin"] == "ETH" and float(fill["builderFee"]) > 0, fill
        v.step()

    def reduce_only() -> None:
        order = cx.create_reduce_only_order(ETH_PERP, "market", "sell", 0.01, price(ETH_PERP, 1.0))
        assert order["id"], order

    def stop_order() -> None:
        entry = price(PERP, 1.0)
        cx.create_market_order(PERP, "buy", 0.001, entry)
        order = cx.create_stop_order(
            PERP, "market", "sell", 0.001, price(PERP, 0.8), price(PERP, 0.8), {"reduceOnly": True}
        )
        v.notes["cx_stop"] = order["id"]
        assert order["id"], order

    def trigger_order() -> None:
        order = cx.create_trigger_order(
            PERP, "limit", "sell", 0.001, price(PERP, 1.25), price(PERP, 1.2), {"reduceOnly": True}
        )
        assert order["id"], order
        v.notes["cx_trigger"] = order["id"]

    def tp_sl() -> None:
        order = cx.create_order_with_take_profit_and_stop_loss(
            PERP, "limit", "buy", 0.001, price(PERP, 0.9), price(PERP, 1.2), price(PERP, 0.8)
        )
        assert order["id"], order

    def cancel_all_orders_after() -> None:
        _ok(cx.cancel_all_orders_after(600_000))
        _ok(v.exchange.schedule_cancel(None))  # ccxt's timeout 0 sends "now", not a clear

    def closed_orders() -> None:
        assert is_list(cx.fetch_closed_orders(PERP))

    def canceled_orders() -> None:
        assert is_list(cx.fetch_canceled_orders(PERP))

    def positions() -> None:
        assert [p for p in cx.fetch_positions([PERP]) if p["contracts"]], "no BTC position"

    def position() -> None:
        assert cx.fetch_position(PERP)["contracts"] == 0.001

    def set_margin_mode() -> None:
        cx.set_margin_mode("isolated", ETH_PERP, {"leverage": 5})

    def add_margin() -> None:
        cx.create_market_order(ETH_PERP, "buy", 0.05, price(ETH_PERP, 1.0))
        v.step()
        cx.add_margin(ETH_PERP, 5.0)

    def reduce_margin() -> None:
        try:
            cx.reduce_margin(ETH_PERP, 1.0)
        finally:
            cx.create_reduce_only_order(ETH_PERP, "market", "sell", 0.05, price(ETH_PERP, 1.0))
            cx.set_margin_mode("cross", ETH_PERP, {"leverage": 20})

    def transfer() -> None:
        cx.transfer("USDC", 10.0, "swap", "spot")
        cx.transfer("USDC", 10.0, "spot", "swap")

    def spot_order() -> None:
        cx.transfer("USDC", 500.0, "swap", "spot")
        order = cx.create_order(SPOT, "limit", "buy", 200, price(SPOT, 0.9))
        assert order["id"], order
        assert [o for o in cx.fetch_open_orders(SPOT)]
        cx.cancel_order(order["id"], SPOT)

    def spot_market() -> None:
        order = cx.create_order(SPOT, "market", "buy", 100, price(SPOT, 1.0))
        assert order["id"], order
        trades = cx.fetch_my_trades(SPOT)
        assert trades, "no spot trade"

    def spot_balance() -> None:
        balance = cx.fetch_balance({"type": "spot"})
        assert balance["total"].get("PURR", 0) > 0, balance["total"]

    return [
        ("fetchMarkets", lambda: len(cx.load_markets(reload=True)) >= 4),
        ("fetchCurrencies", lambda: "USDC" in cx.fetch_currencies()),
        ("fetchStatus", lambda: cx.fetch_status()["status"] == "ok"),
        ("fetchTime", lambda: cx.fetch_time() > 0),
        ("fetchTicker", lambda: cx.fetch_ticker(PERP)["last"] > 0),
        ("fetchTickers", lambda: PERP in cx.fetch_tickers()),
        ("fetchOrderBook", lambda: cx.fetch_order_book(PERP)["bids"]),
        ("fetchL2OrderBook", lambda: cx.fetch_l2_order_book(PERP)["asks"]),
        ("fetchTrades", lambda: is_list(cx.fetch_trades(PERP))),
        ("fetchOHLCV", lambda: cx.fetch_ohlcv(PERP, "1m")),
        ("fetchFundingRate", lambda: cx.fetch_funding_rate(PERP)["fundingRate"] is not None),
        ("fetchFundingRates", lambda: PERP in cx.fetch_funding_rates()),
        ("fetchFundingRateHistory", lambda: is_list(cx.fetch_funding_rate_history(PERP))),
        ("fetchOpenInterest", lambda: cx.fetch_open_interest(PERP)["openInterestAmount"] >= 0),
        ("fetchOpenInterests", lambda: PERP in cx.fetch_open_interests()),
        ("fetchBalance", lambda: cx.fetch_balance()["total"]["USDC"] > 0),
        ("fetchTradingFee", lambda: cx.fetch_trading_fee(PERP)["taker"] > 0),
        ("fetchDepositWithdrawFee", lambda: cx.fetch_deposit_withdraw_fee("USDC")),
        ("createOrder", create_order),
        (
            "createLimitOrder",
            lambda: cx.cancel_order(
                cx.create_limit_order(PERP, "buy", 0.001, price(PERP, 0.9))["id"], PERP
            ),
        ),
        ("editOrder", edit_order),
        ("editOrders", edit_orders),
        ("fetchOrder", fetch_order),
        ("fetchOpenOrders", lambda: len(cx.fetch_open_orders(PERP)) == 1),
        ("cancelOrder", cancel_order),
        ("createOrders", create_orders),
        ("cancelOrders", cancel_orders),
        ("cancelOrdersForSymbols", cancel_orders_for_symbols),
        ("createMarketOrder", market_order),
        ("createReduceOnlyOrder", reduce_only),
        ("createStopOrder", stop_order),
        ("createTriggerOrder", trigger_order),
        ("createOrderWithTakeProfitAndStopLoss", tp_sl),
        ("cancelAllOrdersAfter", cancel_all_orders_after),
        ("fetchOrders", lambda: len(cx.fetch_orders(PERP)) >= 5),
        ("fetchClosedOrders", closed_orders),
        ("fetchCanceledOrders", canceled_orders),
        (
            "fetchCanceledAndClosedOrders",
            lambda: len(cx.fetch_canceled_and_closed_orders(PERP)) >= 3,
        ),
        ("fetchMyTrades", lambda: len(cx.fetch_my_trades(PERP)) >= 1),
        ("fetchMyLiquidations", lambda: is_list(cx.fetch_my_liquidations())),
        ("fetchPositions", positions),
        ("fetchPosition", position),
        ("setLeverage", lambda: cx.set_leverage(10, PERP, {"marginMode": "cross"})),
        ("setMarginMode", set_margin_mode),
        ("addMargin", add_margin),
        ("reduceMargin", reduce_margin),
        ("fetchFundingHistory", lambda: is_list(cx.fetch_funding_history(PERP))),
        ("fetchLedger", lambda: is_list(cx.fetch_ledger())),
        ("fetchDeposits", lambda: is_list(cx.fetch_deposits())),
        ("fetchWithdrawals", lambda: is_list(cx.fetch_withdrawals())),
        ("transfer", transfer),
        ("withdraw", lambda: cx.withdraw("USDC", 5.0, OUTSIDER)),
        ("createOrder[spot]", spot_order),
        ("createMarketOrder[spot]", spot_market),
        ("fetchBalance[spot]", spot_balance),
    ]


# --- running every call once -------------------------------------------------------------------


def _run(v: Venue, name: str, call: Callable[[], Any]) -> None:
    try:
        result = call()
        assert result is not False, "the call answered, but not what the venue answers"
        v.outcomes[name] = None
    except Exception as exc:  # every failure is recorded and judged against the table
        v.outcomes[name] = f"{type(exc).__name__}: {str(exc)[:300]}"


def _ccxt_client(base_url: str, key: str, address: str) -> Any:
    """ccxt's hyperliquid class signing for testnet (the simulator's chain), sent to `base_url`."""
    cx = ccxt.hyperliquid({"walletAddress": address, "privateKey": key, "timeout": 20_000})
    cx.set_sandbox_mode(True)
    cx.urls["api"] = {"public": base_url, "private": base_url}
    return cx


@pytest.fixture(scope="module")
def venue() -> Iterator[Venue]:
    config = SimConfig(stepped=True, start_ms=int(time.time() * 1000), seed=29)
    with SimThread(config) as sim:
        wallet = eth_account.Account.from_key(MASTER_KEY)
        scratch_wallet = eth_account.Account.from_key(SCRATCH_KEY)
        # The master has the trading history the venue's dead-man-switch volume gate asks for.
        sim.fund(wallet.address, 1_000_000.0, volume_usd=10_000_000.0)
        sim.fund(scratch_wallet.address, 1_000.0)
        sim.step(8)
        v = Venue(
            sim=sim,
            info=Info(sim.base_url, skip_ws=True),
            exchange=Exchange(wallet, sim.base_url),
            scratch=Exchange(scratch_wallet, sim.base_url),
            cx=_ccxt_client(sim.base_url, MASTER_KEY, wallet.address),
            user=wallet.address.lower(),
        )
        for name, call in _sdk_exchange_calls(v):
            _run(v, f"sdk.Exchange.{name}", call)
        for name, call in _sdk_spot_calls(v):
            _run(v, f"sdk.Exchange.{name}", call)
        for name, call in _sdk_info_calls(v):
            _run(v, f"sdk.Info.{name}", call)
        _run_sdk_subscriptions(v)
        _run(v, "ccxt.loadMarkets", lambda: bool(v.cx.load_markets()))
        for name, call in _ccxt_calls(v):
            _run(v, f"ccxt.{name}", call)
        yield v


def _sdk_public_methods(cls: type) -> set[str]:
    return {n for n, value in vars(cls).items() if callable(value) and not n.startswith("_")}


def test_every_sdk_info_and_exchange_method_is_exercised(venue: Venue) -> None:
    for cls in (Info, Exchange):
        prefix = f"sdk.{cls.__name__}."
        called = {
            name.removeprefix(prefix).split("[")[0]
            for name in venue.outcomes
            if name.startswith(prefix)
        }
        assert called == _sdk_public_methods(cls), cls.__name__


def test_every_ccxt_unified_call_is_exercised(venue: Venue) -> None:
    declared = {k for k, value in venue.cx.has.items() if value in (True, "emulated")}
    called = {
        n.removeprefix("ccxt.").split("[")[0] for n in venue.outcomes if n.startswith("ccxt.")
    }
    assert called - {"loadMarkets"} == declared - CCXT_NOT_CALLS


def test_every_listed_difference_names_a_call(venue: Venue) -> None:
    assert set(KNOWN_DIFFERENCES) <= set(venue.outcomes)
    assert set(CLIENT_SIDE_UNSUPPORTED) <= set(venue.outcomes)


def test_client_side_unsupported_calls_fail_in_the_client(venue: Venue) -> None:
    for name in CLIENT_SIDE_UNSUPPORTED:
        assert (venue.outcomes[name] or "").startswith("NotSupported"), venue.outcomes[name]


def test_unlisted_calls_work_and_listed_calls_fail(venue: Venue) -> None:
    """The table is exact: every call either worked, or failed and is listed with a reason."""
    listed = KNOWN_DIFFERENCES | CLIENT_SIDE_UNSUPPORTED
    unexpected_failures = {
        name: error
        for name, error in venue.outcomes.items()
        if error is not None and name not in listed
    }
    now_working = [name for name in listed if name in venue.outcomes and not venue.outcomes[name]]
    assert not unexpected_failures, "\n".join(f"{n}: {e}" for n, e in unexpected_failures.items())
    assert not now_working, f"listed as differences but work now: {now_working}"
