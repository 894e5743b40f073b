"""Client configs: shared transport checks, product-type enums, the exec account variable and
the feed-health safety defaults."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.config import HyperliquidExecClientConfig
from adapters.hyperliquid.config import HyperliquidFeedHealthConfig
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


@pytest.mark.parametrize(
    ("field", "looser"),
    [
        ("stale_l2book_secs", 6.0),
        ("stale_l2book_secs", 0.0),  # 0 switches the check off
        ("stale_bbo_secs", 31.0),
        ("stale_candle_secs", 121.0),
        ("stale_asset_ctx_secs", 11.0),
        ("check_interval_secs", 2.0),
        ("gate_recovery_secs", 1.0),
        ("gate_enabled", False),
        ("check_trade_counts", False),
        ("gate_channels", ("l2Book", "bbo")),
    ],
)
def test_a_looser_health_limit_needs_loosen_and_is_then_reported(field: str, looser: Any) -> None:
    with pytest.raises(ValueError) as caught:
        HyperliquidFeedHealthConfig(**{field: looser})
    allowed = HyperliquidFeedHealthConfig(**{field: looser}, loosen=(field,))

    assert str(caught.value).startswith(f"{field}: ")
    assert "looser than the safety default" in str(caught.value)
    assert [name for name, _ in allowed.loosened_limits()] == [field]


@pytest.mark.parametrize(
    ("field", "tighter"),
    [
        ("stale_l2book_secs", 1.5),
        ("stale_trades_secs", 30.0),  # off by default: any threshold is tighter
        ("check_interval_secs", 0.2),
        ("gate_recovery_secs", 10.0),
        ("gate_channels", ("l2Book", "bbo", "activeAssetCtx", "activeSpotAssetCtx", "trades")),
    ],
)
def test_a_tighter_health_limit_needs_no_override(field: str, tighter: Any) -> None:
    config = HyperliquidFeedHealthConfig(**{field: tighter})

    assert config.loosened_limits() == []


def test_loosen_must_name_a_limit_that_is_actually_looser() -> None:
    with pytest.raises(ValueError, match="loosen: stale_bbo_secs is listed but not looser"):
        HyperliquidFeedHealthConfig(loosen=("stale_bbo_secs",))
    with pytest.raises(ValueError, match=r"loosen: unknown field\(s\) \['http_url'\]"):
        HyperliquidFeedHealthConfig(loosen=("http_url",))
