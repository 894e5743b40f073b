"""Start-up check that the signing key may trade for the configured account.

Read-only: the account's named API wallets (``extraAgents``, with their expiry), else the key's
``userRole`` (the unnamed agent). A signed probe is not used: the only harmless candidate, a
``scheduleCancel`` without time, would clear a dead-man switch already set.
"""

from __future__ import annotations

import datetime as dt

from nautilus_trader.common.component import Logger

from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.schemas.info import ExtraAgent
from adapters.hyperliquid.schemas.info import ExtraAgentsRequest
from adapters.hyperliquid.schemas.info import UserRole
from adapters.hyperliquid.schemas.info import UserRoleRequest

__all__ = ["KeyNotApprovedError", "check_key_approved"]


class KeyNotApprovedError(RuntimeError):
    """The signing key may not trade for the configured account (names both addresses)."""


def _iso_ms(millis: int) -> str:
    """A venue time (ms) as an ISO-8601 UTC string for operators."""
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).isoformat(timespec="seconds")


async def check_key_approved(
    http: HyperliquidHttpClient,
    signer: str,
    account: str,
    vault: str | None,
    now_ms: int,
    log: Logger,
) -> None:
    """Fail, naming both addresses, if the key ``signer`` cannot trade for ``account``
    (and, when given, its ``vault``)."""
    if signer != account:
        await _check_agent(http, signer, account, now_ms, log)
    if vault is not None:
        await _check_vault(http, signer, account, vault)


async def _check_agent(
    http: HyperliquidHttpClient, signer: str, account: str, now_ms: int, log: Logger
) -> None:
    agents: list[ExtraAgent] = await http.info(ExtraAgentsRequest(user=account))
    for agent in agents:
        if agent.address.lower() != signer:
            continue
        if agent.validUntil > now_ms:
            log.info(
                f"Signing key {signer} is API wallet {agent.name!r} of {account}, valid "
                f"until {_iso_ms(agent.validUntil)}"
            )
            return
        raise KeyNotApprovedError(
            f"the signing key's address {signer} is API wallet {agent.name!r} of account "
            f"{account} but it expired at {_iso_ms(agent.validUntil)}; approve a new API "
            "wallet from the account (approveAgent) and configure its key"
        )
    role: UserRole = await http.info(UserRoleRequest(user=signer))
    master = str((role.data or {}).get("user", "")).lower()
    if role.role == "agent" and master == account:
        log.info(f"Signing key {signer} is the API wallet of {account}")
        return
    agent_of = f" of {master}" if master else ""
    raise KeyNotApprovedError(
        f"the signing key's address {signer} is not an API wallet approved for account "
        f"{account} (venue role of {signer}: {role.role!r}{agent_of}); approve it from the "
        "account (approveAgent), or configure the account it belongs to as account_address "
        "(a vault or sub-account goes in vault_address)"
    )


async def _check_vault(http: HyperliquidHttpClient, signer: str, account: str, vault: str) -> None:
    role: UserRole = await http.info(UserRoleRequest(user=vault))
    master = str((role.data or {}).get("master", "")).lower()
    if role.role == "vault" or (role.role == "subAccount" and master == account):
        return
    owner = f" of {master}" if master else ""
    raise KeyNotApprovedError(
        f"vault_address {vault} is not a vault or sub-account of account {account} "
        f"(venue role of {vault}: {role.role!r}{owner}; signing key {signer})"
    )
