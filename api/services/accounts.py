"""Agent wallets: a user registers an API key approved by their Hyperliquid account (never the
master key: withdrawals then stay impossible by construction). The key is checked read-only at
the venue with the adapter's own start-up check, stored encrypted, and never returned."""

from __future__ import annotations

import asyncio
import concurrent.futures

from nautilus_trader.common.component import Logger

from adapters.hyperliquid.http import HyperliquidError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.key_check import KeyNotApprovedError
from adapters.hyperliquid.key_check import check_key_approved
from adapters.hyperliquid.signing import address_from_private_key
from api.secrets import SecretStore
from api.storage.models import AgentWalletRow
from api.storage.store import Store

__all__ = ["WalletRefused", "check_agent_wallet", "register_wallet"]


class WalletRefused(Exception):
    """The wallet cannot be registered; the message says why (never containing the key)."""


def register_wallet(
    store: Store,
    secrets: SecretStore,
    user_id: str,
    account: str,
    agent_key: str,
    venue_http_url: str,
    now_ms: int,
) -> AgentWalletRow:
    """Check and register the user's agent wallet for ``account``."""
    account = account.lower()
    try:
        agent = address_from_private_key(agent_key).lower()
    except Exception:
        raise WalletRefused("agent_private_key is not a valid secp256k1 private key") from None
    if agent == account:
        raise WalletRefused(
            "this is the account's own (master) key: register an API wallet approved by the "
            "account (approveAgent) instead; a master key can withdraw"
        )
    if any(w.account_address == account for w in store.wallets(user_id)):
        raise WalletRefused(f"you already have an agent wallet for account {account}")
    check_agent_wallet(venue_http_url, agent, account, now_ms)
    ref = secrets.put(agent_key)
    return store.add_wallet(user_id, account, agent, ref, now_ms)


def check_agent_wallet(url: str, agent: str, account: str, now_ms: int) -> None:
    """Raise ``WalletRefused`` saying why unless ``agent`` may trade for ``account`` now (the
    read-only venue check). Blocking; runs on a thread of its own, so any thread may call it,
    one whose event loop is running included."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wallet-check") as pool:
        pool.submit(asyncio.run, _check(url, agent, account, now_ms)).result()


async def _check(url: str, agent: str, account: str, now_ms: int) -> None:
    http = HyperliquidHttpClient(url)
    try:
        await check_key_approved(http, agent, account, None, now_ms, Logger("JarvisSidecar"))
    except KeyNotApprovedError as exc:
        raise WalletRefused(str(exc)) from None
    except HyperliquidError as exc:
        raise WalletRefused(f"could not ask the venue about the agent wallet: {exc}") from None
    finally:
        await http.close()
