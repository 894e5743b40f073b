"""Tests for the Hyperliquid number rules (prices, sizes, minimum value, wire strings, cloids).

The venue rules are re-implemented here as simply as possible (``spec_valid_price`` and a
brute-force nearest-price search) so the properties check the module against the written rules,
not against itself. Wire strings are compared with the SDK's own ``float_to_wire``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from decimal import ROUND_CEILING
from decimal import ROUND_FLOOR
from decimal import Decimal
from pathlib import Path

import pytest
from hyperliquid.utils.signing import float_to_wire
from hyperliquid.utils.types import Cloid
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.identifiers import ClientOrderId

from adapters.hyperliquid.numbers import InvalidPriceError
from adapters.hyperliquid.numbers import InvalidSizeError
from adapters.hyperliquid.numbers import MinNotionalError
from adapters.hyperliquid.numbers import cloid_from_client_order_id
from adapters.hyperliquid.numbers import is_valid_address
from adapters.hyperliquid.numbers import is_valid_cloid
from adapters.hyperliquid.numbers import is_valid_price
from adapters.hyperliquid.numbers import is_valid_size
from adapters.hyperliquid.numbers import min_notional_error
from adapters.hyperliquid.numbers import normalize_cloid
from adapters.hyperliquid.numbers import price_error
from adapters.hyperliquid.numbers import round_price
from adapters.hyperliquid.numbers import round_size
from adapters.hyperliquid.numbers import size_error
from adapters.hyperliquid.numbers import slippage_price
from adapters.hyperliquid.numbers import split_asset_suffix
from adapters.hyperliquid.numbers import to_wire
from adapters.hyperliquid.numbers import validate_min_notional
from adapters.hyperliquid.numbers import validate_price
from adapters.hyperliquid.numbers import validate_size
from adapters.hyperliquid.numbers import with_asset_suffix
from jarvis.testkit import VENUE_CAPTURES

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURES = VENUE_CAPTURES
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


# --- An independent statement of the venue rules -------------------------------------------------


def spec_max_decimals(sz_decimals: int, is_spot: bool) -> int:
    return (8 if is_spot else 6) - sz_decimals


def spec_valid_price(px: Decimal, sz_decimals: int, is_spot: bool) -> bool:
    """PROTOCOL.md §3 literally: integers always; else <= 5 sig figs and <= max decimals."""
    if px <= 0:
        return False
    if px == int(px):
        return True
    text = format(px.normalize(), "f")
    decimals = len(text.split(".")[1])
    significant = len(text.replace(".", "").lstrip("0"))
    return significant <= 5 and decimals <= spec_max_decimals(sz_decimals, is_spot)


def spec_nearest_price(px: Decimal, sz_decimals: int, is_spot: bool, up: bool) -> Decimal | None:
    """Brute force: cut px at every decimal position, keep the valid cuts, take the nearest.

    Any valid price p is a multiple of 10**e for its own last digit e, and cutting px at that e
    reaches p or something valid between p and px, so this finds the nearest valid price.
    """
    rounding = ROUND_CEILING if up else ROUND_FLOOR
    cuts = []
    for e in range(-spec_max_decimals(sz_decimals, is_spot), 10):
        cut = px.scaleb(-e).to_integral_value(rounding=rounding).scaleb(e)
        if spec_valid_price(cut, sz_decimals, is_spot):
            cuts.append(cut)
    if not cuts:
        return None
    return min(cuts) if up else max(cuts)


def decimal_in_decade(mantissa: int, leading_exponent: int) -> Decimal:
    """mantissa's digits placed so that the leading digit sits at 10**leading_exponent."""
    return Decimal(mantissa).scaleb(leading_exponent - (len(str(mantissa)) - 1))


# Prices across 1e-6 .. 1e7 with up to 12 significant digits, plus plain floats in that range.
decimal_prices = st.builds(
    decimal_in_decade,
    st.integers(min_value=1, max_value=10**12 - 1),
    st.integers(min_value=-6, max_value=6),
)
float_prices = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False)
perp_or_spot = st.one_of(
    st.tuples(st.just(False), st.integers(min_value=0, max_value=5)),
    st.tuples(st.just(True), st.integers(min_value=0, max_value=7)),
)


def as_decimal(px: Decimal | float) -> Decimal:
    """How the module documents reading floats: at 15 significant digits (a double's guarantee)."""
    return px if isinstance(px, Decimal) else Decimal(format(px, ".15g"))


# --- Prices: exact examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_buy", "aggressive", "expected"),
    [
        (True, False, "1234.5"),  # passive buy rounds down
        (False, False, "1234.6"),  # passive sell rounds up
        (True, True, "1234.6"),  # aggressive buy rounds up
        (False, True, "1234.5"),  # aggressive sell rounds down
    ],
)
def test_perp_price_with_sz_decimals_2_is_cut_to_five_significant_figures_by_side(
    is_buy: bool, aggressive: bool, expected: str
) -> None:
    result = round_price(1234.567, 2, is_spot=False, is_buy=is_buy, aggressive=aggressive)

    assert to_wire(result) == expected
    assert result == Decimal(expected)


def test_small_perp_price_keeps_at_most_six_decimals() -> None:
    buy = round_price("0.000123456", 0, is_spot=False, is_buy=True, aggressive=False)
    sell = round_price("0.000123456", 0, is_spot=False, is_buy=False, aggressive=False)

    assert (to_wire(buy), to_wire(sell)) == ("0.000123", "0.000124")


def test_small_spot_price_keeps_five_significant_figures_within_eight_decimals() -> None:
    buy = round_price("0.000123456", 0, is_spot=True, is_buy=True, aggressive=False)
    sell = round_price("0.000123456", 0, is_spot=True, is_buy=False, aggressive=False)

    assert (to_wire(buy), to_wire(sell)) == ("0.00012345", "0.00012346")


def test_decimals_limit_binds_before_significant_figures_for_large_sz_decimals() -> None:
    # perp szDecimals 5 -> 1 decimal allowed, even though 1.2345 has only 5 significant figures
    result = round_price("1.2345", 5, is_spot=False, is_buy=False, aggressive=False)

    assert to_wire(result) == "1.3"


@pytest.mark.parametrize("px", [123456, "123456", Decimal("123456"), 123456.0, 98765432.0])
def test_integer_price_is_never_rounded(px: Decimal | float | str) -> None:
    for is_buy in (True, False):
        for aggressive in (True, False):
            result = round_price(px, 3, is_spot=False, is_buy=is_buy, aggressive=aggressive)
            assert result == Decimal(str(px))
    assert is_valid_price(px, 3, False)


def test_non_integer_price_above_ten_thousand_rounds_to_an_integer() -> None:
    down = round_price(12345.6, 0, is_spot=False, is_buy=True, aggressive=False)
    up = round_price(12345.6, 0, is_spot=False, is_buy=False, aggressive=False)

    assert (to_wire(down), to_wire(up)) == ("12345", "12346")


def test_rounding_up_across_a_decade_gives_the_plain_integer() -> None:
    result = round_price(9.99999, 0, is_spot=False, is_buy=False, aggressive=False)

    assert str(result) == "10"


def test_float_artefact_does_not_push_a_valid_price_to_the_next_tick() -> None:
    # 0.1 + 0.2 == 0.30000000000000004; a passive sell must stay at 0.3, not move to 0.30001
    result = round_price(0.1 + 0.2, 0, is_spot=False, is_buy=False, aggressive=False)

    assert to_wire(result) == "0.3"


def test_price_that_rounds_down_to_zero_is_rejected() -> None:
    with pytest.raises(InvalidPriceError, match="zero"):
        round_price("0.0000004", 0, is_spot=False, is_buy=True, aggressive=False)


@pytest.mark.parametrize("px", [0, -1, "-0.5"])
def test_non_positive_price_is_rejected(px: int | str) -> None:
    assert not is_valid_price(px, 0, False)
    with pytest.raises(ValueError, match="positive"):
        round_price(px, 0, is_spot=False, is_buy=True, aggressive=False)


@pytest.mark.parametrize(
    ("sz_decimals", "is_spot"), [(-1, False), (7, False), (9, True), (True, False)]
)
def test_sz_decimals_outside_the_venue_range_is_rejected(sz_decimals: int, is_spot: bool) -> None:
    with pytest.raises(ValueError, match="szDecimals"):
        round_price("1.5", sz_decimals, is_spot=is_spot, is_buy=True, aggressive=False)


def test_price_error_names_the_significant_figures_rule() -> None:
    message = price_error("12345.6", 0, False)

    assert message is not None
    assert "6 significant figures" in message
    assert "max 5" in message


def test_price_error_names_the_decimals_rule_with_market_kind() -> None:
    message = price_error("0.1234", 3, False)

    assert message is not None
    assert "4 decimals" in message
    assert "max 3 for perp with szDecimals 3" in message
    assert "significant" not in message


def test_validate_price_raises_with_the_venue_text_available() -> None:
    with pytest.raises(InvalidPriceError) as info:
        validate_price("0.0000001", 0, False)

    assert info.value.venue_text == "Order has invalid price."
    assert validate_price("0.000001", 0, False) == Decimal("0.000001")


def test_unparseable_price_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        is_valid_price("1,5", 0, False)
    with pytest.raises(ValueError, match="finite"):
        is_valid_price(float("nan"), 0, False)


# --- Prices: properties --------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(
    px=st.one_of(decimal_prices, float_prices),
    market=perp_or_spot,
    is_buy=st.booleans(),
    aggressive=st.booleans(),
)
def test_rounded_price_is_valid_on_the_side_rule_and_nearest(
    px: Decimal | float, market: tuple[bool, int], is_buy: bool, aggressive: bool
) -> None:
    is_spot, sz_decimals = market
    exact = as_decimal(px)
    round_up = is_buy == aggressive
    expected = spec_nearest_price(exact, sz_decimals, is_spot, up=round_up)

    if expected is None:  # only when rounding down leaves nothing above zero
        assert not round_up
        with pytest.raises(InvalidPriceError):
            round_price(px, sz_decimals, is_spot=is_spot, is_buy=is_buy, aggressive=aggressive)
        return
    result = round_price(px, sz_decimals, is_spot=is_spot, is_buy=is_buy, aggressive=aggressive)

    assert spec_valid_price(result, sz_decimals, is_spot)
    assert is_valid_price(result, sz_decimals, is_spot)
    if round_up:  # passive sell / aggressive buy
        assert result >= exact
    else:  # passive buy / aggressive sell
        assert result <= exact
    assert result == expected  # nothing valid lies strictly between the input and the result
    assert float_to_wire(float(result)) == to_wire(result)


@PROPERTY_SETTINGS
@given(px=st.one_of(decimal_prices, float_prices), market=perp_or_spot)
def test_price_validator_agrees_with_the_written_rules(
    px: Decimal | float, market: tuple[bool, int]
) -> None:
    is_spot, sz_decimals = market

    assert is_valid_price(px, sz_decimals, is_spot) == spec_valid_price(
        as_decimal(px), sz_decimals, is_spot
    )


@PROPERTY_SETTINGS
@given(
    px=st.integers(min_value=1, max_value=10**12),
    market=perp_or_spot,
    is_buy=st.booleans(),
    aggressive=st.booleans(),
)
def test_integer_prices_never_change(
    px: int, market: tuple[bool, int], is_buy: bool, aggressive: bool
) -> None:
    is_spot, sz_decimals = market

    result = round_price(px, sz_decimals, is_spot=is_spot, is_buy=is_buy, aggressive=aggressive)

    assert result == px
    assert to_wire(result) == str(px)


@PROPERTY_SETTINGS
@given(px=decimal_prices, market=perp_or_spot, is_buy=st.booleans(), aggressive=st.booleans())
def test_rounding_a_valid_price_returns_it_unchanged(
    px: Decimal, market: tuple[bool, int], is_buy: bool, aggressive: bool
) -> None:
    is_spot, sz_decimals = market
    valid = spec_nearest_price(px, sz_decimals, is_spot, up=True)
    assert valid is not None

    result = round_price(valid, sz_decimals, is_spot=is_spot, is_buy=is_buy, aggressive=aggressive)

    assert result == valid


# --- Slippage price ------------------------------------------------------------------------------


def test_slippage_buy_price_is_reference_plus_slippage() -> None:
    result = slippage_price(100, "0.05", 2, is_spot=False, is_buy=True)

    assert to_wire(result) == "105"


def test_slippage_price_rounds_toward_the_reference_to_stay_within_the_bound() -> None:
    # 1.23456 * 0.95 = 1.172832 -> 5 significant figures, rounded up toward the reference
    sell = slippage_price("1.23456", "0.05", 0, is_spot=False, is_buy=False)
    # 1.23456 * 1.05 = 1.296288 -> rounded down toward the reference
    buy = slippage_price("1.23456", "0.05", 0, is_spot=False, is_buy=True)

    assert (to_wire(sell), to_wire(buy)) == ("1.1729", "1.2962")


def test_slippage_outside_zero_to_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="slippage"):
        slippage_price(100, 1, 2, is_spot=False, is_buy=False)


# --- Sizes ---------------------------------------------------------------------------------------


def test_size_is_rounded_down_to_sz_decimals() -> None:
    assert to_wire(round_size("1.23456", 3)) == "1.234"
    assert to_wire(round_size(0.1 + 0.2, 1)) == "0.3"  # no float artefact
    assert to_wire(round_size(0.3 - 0.1, 1)) == "0.2"  # 0.19999999999999998 is not cut to 0.1
    assert to_wire(round_size("0.0009", 3)) == "0"  # below one lot


def test_size_with_too_many_decimals_is_named_and_rejected() -> None:
    message = size_error("1.0001", 3)

    assert message is not None
    assert "4 decimals" in message
    assert not is_valid_size("1.0001", 3)
    with pytest.raises(InvalidSizeError) as info:
        validate_size("1.0001", 3)
    assert info.value.venue_text == "Order has invalid size."


def test_zero_and_negative_sizes_are_rejected() -> None:
    assert not is_valid_size(0, 2)
    assert not is_valid_size("-1", 2)
    with pytest.raises(InvalidSizeError, match="negative"):
        round_size("-0.5", 2)


def test_integral_sizes_with_trailing_zeros_are_valid_at_zero_decimals() -> None:
    assert is_valid_size("5.000", 0)
    assert is_valid_size(Decimal("1E+3"), 0)


@PROPERTY_SETTINGS
@given(
    sz=st.one_of(
        st.builds(
            decimal_in_decade,
            st.integers(min_value=1, max_value=10**12 - 1),
            st.integers(min_value=0, max_value=6),
        ),
        st.floats(min_value=1.0, max_value=1e7),
    ),
    sz_decimals=st.integers(min_value=0, max_value=8),
)
def test_rounded_size_is_valid_and_never_larger(sz: Decimal | float, sz_decimals: int) -> None:
    exact = as_decimal(sz)
    lot = Decimal(1).scaleb(-sz_decimals)

    result = round_size(sz, sz_decimals)

    assert is_valid_size(result, sz_decimals)
    assert result <= exact
    assert exact - result < lot
    assert float_to_wire(float(result)) == to_wire(result)


# --- Minimum order value and venue error texts ---------------------------------------------------


def error_catalogue() -> dict[str, list[dict[str, str]]]:
    with (FIXTURES / "exchange_error_strings.json").open() as f:
        catalogue: dict[str, list[dict[str, str]]] = json.load(f)
    return catalogue


def documented_text(error_type: str) -> str:
    entries = error_catalogue()["order_documented"]
    return next(entry["text"] for entry in entries if entry["type"] == error_type)


def test_perp_order_below_ten_dollars_gets_the_venue_text_exactly() -> None:
    message = min_notional_error("99.99", "0.1", is_spot=False)

    assert message == documented_text("MinTradeNtl")
    assert message == "Order must have minimum value of $10."


def test_min_notional_text_with_asset_suffix_matches_a_live_observation() -> None:
    observed = {entry["text"] for entry in error_catalogue()["order_observed"]}
    message = min_notional_error(1, 1, is_spot=False)
    assert message is not None

    assert with_asset_suffix(message, 0) in observed


def test_spot_order_below_ten_quote_units_names_the_quote_token() -> None:
    message = min_notional_error("0.5", "19", is_spot=True, quote_token="USDC")

    assert message == documented_text("MinTradeSpotNtl").format(quote_token="USDC")
    assert message == "Order must have minimum value of 10 USDC."


def test_order_worth_exactly_ten_passes_despite_float_inputs() -> None:
    assert min_notional_error(2.5, 4.0, is_spot=False) is None
    # 0.1 * 3 and 33.33333... would be off in binary floats; here the product is exact
    assert (
        min_notional_error("3.3333", "3", is_spot=False) == "Order must have minimum value of $10."
    )
    assert min_notional_error("3.33334", "3", is_spot=False) is None
    assert min_notional_error(0.1, 100, is_spot=True) is None


def test_validate_min_notional_raises_with_the_venue_text_as_message() -> None:
    with pytest.raises(MinNotionalError) as info:
        validate_min_notional("9.99", 1, is_spot=False)

    assert str(info.value) == "Order must have minimum value of $10."


def test_asset_suffix_round_trips_on_every_observed_order_error() -> None:
    for entry in error_catalogue()["order_observed"]:
        text = entry["text"]
        base, asset = split_asset_suffix(text)
        if asset is None:
            assert base == text
            assert " asset=" not in text
        else:
            assert with_asset_suffix(base, asset) == text


def test_asset_suffix_split_reads_spot_and_outcome_asset_ids() -> None:
    base, asset = split_asset_suffix(
        "Order could not immediately match against any resting orders. asset=100090170"
    )

    assert base == "Order could not immediately match against any resting orders."
    assert asset == 100090170


# --- Wire strings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100.0, "100"),
        (0.0147, "0.0147"),
        (Decimal("1E+2"), "100"),
        ("65000.00", "65000"),
        (Decimal("0.00000001"), "0.00000001"),
        (Decimal("-1.50"), "-1.5"),
        (0.0, "0"),
    ],
)
def test_to_wire_writes_the_shortest_decimal(value: Decimal | float | str, expected: str) -> None:
    assert to_wire(value) == expected


def test_to_wire_writes_negative_zero_as_zero() -> None:
    # The SDK writes "-0" here despite its own "-0" -> "0" intent; we follow the intent.
    assert float_to_wire(-0.0) == "-0"
    assert to_wire(-0.0) == "0"
    assert to_wire(Decimal("-0.000")) == "0"


def test_to_wire_of_a_large_decimal_avoids_the_sdk_float_noise() -> None:
    assert float_to_wire(148529737.1) == "148529737.09999999"
    assert to_wire(148529737.1) == "148529737.09999999"  # floats: same string as the SDK
    assert to_wire(Decimal("148529737.1")) == "148529737.1"
    assert to_wire(round_size(148529737.1, 1)) == "148529737.1"


def test_to_wire_refuses_to_round_a_decimal() -> None:
    with pytest.raises(ValueError, match="round"):
        to_wire(Decimal("0.123456789"))
    with pytest.raises(ValueError, match="round"):
        to_wire("1.000000001")


def test_to_wire_refuses_non_finite_numbers() -> None:
    for value in (float("nan"), float("inf"), "Infinity"):
        with pytest.raises(ValueError):
            to_wire(value)


# Floats the way strategies produce them: a decimal number with 0..8 decimals held in a float.
decimal_like_floats = st.builds(
    lambda units, decimals: units / 10**decimals,
    st.integers(min_value=-(10**14), max_value=10**14),
    st.integers(min_value=0, max_value=8),
)


@PROPERTY_SETTINGS
@given(x=decimal_like_floats)
def test_to_wire_equals_sdk_float_to_wire_on_decimal_like_floats(x: float) -> None:
    try:
        expected = float_to_wire(x)
    except ValueError:
        with pytest.raises(ValueError):
            to_wire(x)
        return

    assert to_wire(x) == ("0" if expected == "-0" else expected)


@PROPERTY_SETTINGS
@given(x=st.floats(min_value=-1e15, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_to_wire_accepts_and_rejects_exactly_the_floats_the_sdk_does(x: float) -> None:
    try:
        expected = float_to_wire(x)
    except ValueError:
        with pytest.raises(ValueError):
            to_wire(x)
        return

    assert to_wire(x) == ("0" if expected == "-0" else expected)


# Decimals with 0..8 decimals below 1e7 in magnitude: there the SDK's f"{x:.8f}" of the float
# prints at most 15 significant digits, so it shows the decimal value and no binary noise.
wire_decimals = st.integers(min_value=0, max_value=8).flatmap(
    lambda decimals: st.builds(
        lambda units: Decimal(units).scaleb(-decimals),
        st.integers(min_value=-(10 ** (7 + decimals)) + 1, max_value=10 ** (7 + decimals) - 1),
    )
)


@PROPERTY_SETTINGS
@given(value=wire_decimals)
def test_to_wire_of_a_decimal_equals_sdk_on_the_same_float(value: Decimal) -> None:

    expected = float_to_wire(float(value))

    assert to_wire(value) == to_wire(str(value)) == ("0" if expected == "-0" else expected)


# --- Cloids --------------------------------------------------------------------------------------

CLOID_FORMAT = re.compile(r"0x[0-9a-f]{32}")


def test_cloid_is_0x_and_32_lowercase_hex_and_accepted_by_the_sdk() -> None:
    cloid = cloid_from_client_order_id("O-20250101-000000-001-001-1")

    assert CLOID_FORMAT.fullmatch(cloid)
    assert Cloid.from_str(cloid).to_raw() == cloid
    assert is_valid_cloid(cloid)


def test_cloid_is_the_documented_sha256_derivation() -> None:
    client_order_id = "O-20250101-000000-001-001-1"
    digest = hashlib.sha256(b"jarvis.hyperliquid.cloid.v1:" + client_order_id.encode()).hexdigest()

    assert cloid_from_client_order_id(client_order_id) == "0x" + digest[:32]


def test_cloid_is_the_same_for_a_client_order_id_and_its_string() -> None:
    value = "O-20250101-000000-001-001-7"

    assert cloid_from_client_order_id(ClientOrderId(value)) == cloid_from_client_order_id(value)


def test_cloid_is_stable_across_processes_with_different_hash_seeds() -> None:
    code = (
        "from adapters.hyperliquid.numbers import cloid_from_client_order_id as f; "
        "print(f('O-20250101-000000-001-001-1'))"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        completed = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        outputs.add(completed.stdout.strip())

    assert outputs == {cloid_from_client_order_id("O-20250101-000000-001-001-1")}


@PROPERTY_SETTINGS
@given(a=st.text(min_size=1, max_size=40), b=st.text(min_size=1, max_size=40))
def test_distinct_client_order_ids_get_distinct_well_formed_cloids(a: str, b: str) -> None:
    cloid_a = cloid_from_client_order_id(a)

    assert CLOID_FORMAT.fullmatch(cloid_a)
    assert cloid_a == cloid_from_client_order_id(a)
    assert (cloid_a == cloid_from_client_order_id(b)) == (a == b)


def test_empty_client_order_id_is_rejected() -> None:
    with pytest.raises(ValueError, match="empty"):
        cloid_from_client_order_id("")


@pytest.mark.parametrize(
    ("cloid", "valid"),
    [
        ("0x0000000000000000000000000000002a", True),
        ("0x0000000000000000000000000000002A", True),
        ("0x000000000000000000000000000002a", False),  # 31 hex digits
        ("0x00000000000000000000000000000002a", False),  # 33 hex digits
        ("0000000000000000000000000000002a00", False),  # no 0x
        ("0x0000000000000000000000000000002g", False),
        ("0x0000000000000000000000000000002a\n", False),
    ],
)
def test_cloid_validator(cloid: str, valid: bool) -> None:
    assert is_valid_cloid(cloid) is valid


def test_normalize_cloid_lowercases_and_rejects_malformed() -> None:
    assert normalize_cloid("0xABCDEF0000000000000000000000002A") == (
        "0xabcdef0000000000000000000000002a"
    )
    with pytest.raises(ValueError, match="32 hex"):
        normalize_cloid("0x2a")


def test_address_and_cloid_validators_accept_only_plain_hex_of_the_right_length() -> None:
    address = "0x" + "aB" * 20
    cloid = "0x" + "0f" * 16

    assert is_valid_address(address)
    assert is_valid_cloid(cloid)
    # int(x, 16) would accept these; the venue's formats do not.
    assert not is_valid_address("0x" + "00_f" * 10)
    assert not is_valid_cloid("0x" + " " + "f" * 31)
    assert not is_valid_address(address[:-1])
    assert not is_valid_address(address + "0")
    assert not is_valid_address(None)
    assert not is_valid_cloid(42)
