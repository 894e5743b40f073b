"""The execution client config: the account address may come from a named variable."""

from __future__ import annotations

import pytest

from adapters.hyperliquid.config import HyperliquidExecClientConfig

ADDRESS = "0x" + "ab" * 20


def test_account_address_is_read_from_the_named_variable() -> None:
    config = HyperliquidExecClientConfig(account_address_env="MY_ACCOUNT")

    assert config.resolve_account_address({"MY_ACCOUNT": ADDRESS}) == ADDRESS
    assert HyperliquidExecClientConfig(account_address=ADDRESS).resolve_account_address({}) == (
        ADDRESS
    )
    assert HyperliquidExecClientConfig().resolve_account_address({}) is None


def test_unset_or_malformed_account_variable_fails_naming_the_variable() -> None:
    config = HyperliquidExecClientConfig(account_address_env="MY_ACCOUNT")

    with pytest.raises(ValueError, match="MY_ACCOUNT"):
        config.resolve_account_address({})
    with pytest.raises(ValueError, match="MY_ACCOUNT must hold"):
        config.resolve_account_address({"MY_ACCOUNT": "0x1234"})


def test_account_address_and_its_variable_are_exclusive() -> None:
    with pytest.raises(ValueError, match="account_address_env"):
        HyperliquidExecClientConfig(account_address=ADDRESS, account_address_env="MY_ACCOUNT")
