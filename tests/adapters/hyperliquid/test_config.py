"""The execution client config: the account address may come from a named variable."""

from __future__ import annotations

import pytest

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.enums import ProductType

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


@pytest.mark.parametrize("config_cls", [HyperliquidDataClientConfig, HyperliquidExecClientConfig])
@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("http_url", "ftp://example.com", "must be a http/https URL"),
        ("ws_url", "http://127.0.0.1:3001/ws", "must be a ws/wss URL"),
        ("product_types", (), "must name at least one"),
        ("product_types", ("perps",), "unknown ['perps']"),
        ("ws_ping_interval_secs", 60.0, "must be < 60"),
        ("reconnect_initial_backoff_secs", 0.0, "must be > 0"),
        ("reconnect_max_backoff_secs", 0.1, "must be >= reconnect_initial_backoff_secs"),
        ("http_timeout_secs", -1.0, "must be > 0"),
    ],
)
def test_both_client_configs_reject_the_same_bad_transport_field_naming_it(
    config_cls: type, field: str, value: object, problem: str
) -> None:
    with pytest.raises(ValueError) as caught:
        config_cls(**{field: value})

    assert str(caught.value).startswith(f"{field}: ")
    assert problem in str(caught.value)


def test_product_types_are_enums_and_parse_from_config_strings() -> None:
    config = HyperliquidDataClientConfig.parse('{"product_types": ["spot", "perp"]}')

    assert config.product_types == (ProductType.SPOT, ProductType.PERP)
    assert config.include_spot and config.include_perps
    assert all(isinstance(p, ProductType) for p in config.product_types)
