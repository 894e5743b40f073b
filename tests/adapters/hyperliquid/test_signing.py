"""Tests for adapters/hyperliquid/signing.py.

Expected values come from the recorded vectors in ``tests/resources/hyperliquid`` (computed with
the SDK) and from the unmodified hyperliquid-python-sdk / eth_account running side by side, never
from the code under test.
"""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import msgpack
import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message
from eth_account.messages import encode_typed_data
from hyperliquid.utils import signing as sdk
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from adapters.hyperliquid.signing import USER_SIGNED_ACTION_SPECS
from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import InvalidSignatureError
from adapters.hyperliquid.signing import MalformedActionError
from adapters.hyperliquid.signing import UnsupportedActionError
from adapters.hyperliquid.signing import UserSignedActionSpec
from adapters.hyperliquid.signing import address_from_private_key
from adapters.hyperliquid.signing import l1_action_digest
from adapters.hyperliquid.signing import l1_connection_id
from adapters.hyperliquid.signing import recover_address_from_digest
from adapters.hyperliquid.signing import recover_l1_signer
from adapters.hyperliquid.signing import recover_user_signed_signer
from adapters.hyperliquid.signing import user_signed_action_digest
from jarvis.testkit import VENUE_CAPTURES

FIXTURES = VENUE_CAPTURES
VECTORS: dict[str, Any] = json.loads((FIXTURES / "signing_vectors.json").read_text())
VECTOR_KEY: str = VECTORS["private_key"]
VECTOR_ADDRESS: str = VECTORS["signer_address"]
L1_VECTORS: list[dict[str, Any]] = VECTORS["l1"]
USER_VECTORS: list[dict[str, Any]] = VECTORS["user_signed"]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
OTHER_KEY = "0x" + "11" * 32
HYPOTHESIS = settings(max_examples=150, deadline=None)

# The SDK's own sign functions and type lists, per action type: the independent reference.
SDK_USER_SIGNERS: dict[str, tuple[Any, str, list[dict[str, str]]]] = {
    "usdSend": (
        sdk.sign_usd_transfer_action,
        "HyperliquidTransaction:UsdSend",
        sdk.USD_SEND_SIGN_TYPES,
    ),
    "spotSend": (
        sdk.sign_spot_transfer_action,
        "HyperliquidTransaction:SpotSend",
        sdk.SPOT_TRANSFER_SIGN_TYPES,
    ),
    "withdraw3": (
        sdk.sign_withdraw_from_bridge_action,
        "HyperliquidTransaction:Withdraw",
        sdk.WITHDRAW_SIGN_TYPES,
    ),
    "usdClassTransfer": (
        sdk.sign_usd_class_transfer_action,
        "HyperliquidTransaction:UsdClassTransfer",
        sdk.USD_CLASS_TRANSFER_SIGN_TYPES,
    ),
    "sendAsset": (
        sdk.sign_send_asset_action,
        "HyperliquidTransaction:SendAsset",
        sdk.SEND_ASSET_SIGN_TYPES,
    ),
    "approveAgent": (
        sdk.sign_agent,
        "HyperliquidTransaction:ApproveAgent",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "agentAddress", "type": "address"},
            {"name": "agentName", "type": "string"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "approveBuilderFee": (
        sdk.sign_approve_builder_fee,
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "maxFeeRate", "type": "string"},
            {"name": "builder", "type": "address"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "tokenDelegate": (
        sdk.sign_token_delegate_action,
        "HyperliquidTransaction:TokenDelegate",
        sdk.TOKEN_DELEGATE_TYPES,
    ),
    "userDexAbstraction": (
        sdk.sign_user_dex_abstraction_action,
        "HyperliquidTransaction:UserDexAbstraction",
        sdk.USER_DEX_ABSTRACTION_SIGN_TYPES,
    ),
    "userSetAbstraction": (
        sdk.sign_user_set_abstraction_action,
        "HyperliquidTransaction:UserSetAbstraction",
        sdk.USER_SET_ABSTRACTION_SIGN_TYPES,
    ),
    "convertToMultiSigUser": (
        sdk.sign_convert_to_multi_sig_user_action,
        "HyperliquidTransaction:ConvertToMultiSigUser",
        sdk.CONVERT_TO_MULTI_SIG_USER_SIGN_TYPES,
    ),
}


def _vector_spec(vector: dict[str, Any]) -> UserSignedActionSpec:
    fields = tuple((f["name"], f["type"]) for f in vector["types"])
    return UserSignedActionSpec(vector["primaryType"], fields)


def _assert_same_signature(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert int(actual["r"], 16) == int(expected["r"], 16)
    assert int(actual["s"], 16) == int(expected["s"], 16)
    assert actual["v"] == expected["v"]


def _sdk_l1(key: str, action: Any, nonce: int, vault: str | None, expires: int | None, main: bool):
    return sdk.sign_l1_action(Account.from_key(key), action, vault, nonce, expires, main)


# --- Recorded vectors --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", L1_VECTORS, ids=[v["name"] for v in L1_VECTORS])
def test_l1_vector_hashes_and_signs_to_the_recorded_values(vector: dict[str, Any]) -> None:
    # Arrange
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=vector["is_mainnet"])
    args = (vector["action"], vector["nonce"], vector["vaultAddress"], vector["expiresAfter"])

    # Act
    connection_id = l1_connection_id(*args)
    digest = l1_action_digest(*args, vector["is_mainnet"])
    signature = signer.sign_l1_action(*args)

    # Assert
    assert msgpack.packb(vector["action"]).hex() == vector["msgpack_action_hex"]
    assert "0x" + connection_id.hex() == vector["connectionId"]
    assert "0x" + digest.hex() == vector["eip712_digest"]
    _assert_same_signature(dict(signature), vector["signature"])
    assert signature == vector["signature"]  # the SDK's minimal-hex text form, too


@pytest.mark.parametrize("vector", L1_VECTORS, ids=[v["name"] for v in L1_VECTORS])
def test_l1_vector_recovers_the_vector_signer_in_lowercase(vector: dict[str, Any]) -> None:
    recovered = recover_l1_signer(
        vector["action"],
        vector["nonce"],
        vector["vaultAddress"],
        vector["expiresAfter"],
        vector["is_mainnet"],
        vector["signature"],
    )

    assert recovered == VECTOR_ADDRESS.lower()


@pytest.mark.parametrize("vector", L1_VECTORS, ids=[v["name"] for v in L1_VECTORS])
def test_l1_vector_recovered_with_the_other_network_gives_another_address(
    vector: dict[str, Any],
) -> None:
    recovered = recover_l1_signer(
        vector["action"],
        vector["nonce"],
        vector["vaultAddress"],
        vector["expiresAfter"],
        not vector["is_mainnet"],
        vector["signature"],
    )

    assert recovered != VECTOR_ADDRESS.lower()


@pytest.mark.parametrize("vector", USER_VECTORS, ids=[v["name"] for v in USER_VECTORS])
def test_user_signed_vector_digest_signature_and_recovery(vector: dict[str, Any]) -> None:
    # Arrange
    spec = _vector_spec(vector)
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=vector["is_mainnet"])
    action = copy.deepcopy(vector["action"])

    # Act
    digest = user_signed_action_digest(vector["action"], spec)
    signature = signer.sign_user_signed_action(action, spec)
    recovered = recover_user_signed_signer(vector["action"], vector["signature"], spec=spec)

    # Assert
    assert "0x" + digest.hex() == vector["eip712_digest"]
    _assert_same_signature(dict(signature), vector["signature"])
    assert recovered == VECTOR_ADDRESS.lower()
    assert action == vector["action"]  # chain fields already present: nothing changed


@pytest.mark.parametrize(
    "vector",
    [v for v in USER_VECTORS if "type" in v["action"]],
    ids=[v["name"] for v in USER_VECTORS if "type" in v["action"]],
)
def test_user_signed_vector_layout_is_chosen_from_the_action_type(vector: dict[str, Any]) -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=vector["is_mainnet"])

    recovered = recover_user_signed_signer(vector["action"], vector["signature"])
    signature = signer.sign_user_signed_action(copy.deepcopy(vector["action"]))

    assert recovered == VECTOR_ADDRESS.lower()
    _assert_same_signature(dict(signature), vector["signature"])


def test_vector_signature_r_and_s_may_be_zero_padded_or_unpadded() -> None:
    vector = next(v for v in USER_VECTORS if len(v["signature"]["s"]) < 66)
    padded = {
        "r": "0x" + int(vector["signature"]["r"], 16).to_bytes(32, "big").hex(),
        "s": "0x" + int(vector["signature"]["s"], 16).to_bytes(32, "big").hex(),
        "v": vector["signature"]["v"],
    }

    recovered = recover_user_signed_signer(vector["action"], padded, spec=_vector_spec(vector))

    assert len(padded["s"]) == 66
    assert recovered == VECTOR_ADDRESS.lower()


def test_user_signed_layout_table_matches_the_sdk_for_every_action_type() -> None:
    assert set(USER_SIGNED_ACTION_SPECS) == set(SDK_USER_SIGNERS)
    for action_type, (_, primary_type, sdk_types) in SDK_USER_SIGNERS.items():
        spec = USER_SIGNED_ACTION_SPECS[action_type]
        assert spec.primary_type == primary_type
        assert spec.fields == tuple((f["name"], f["type"]) for f in sdk_types)


# --- Unsupported and malformed input -------------------------------------------------------------


def test_user_signed_action_with_unknown_type_raises_naming_the_type() -> None:
    action = {"type": "teleport", "hyperliquidChain": "Mainnet", "signatureChainId": "0x66eee"}
    signature = {"r": "0x1", "s": "0x1", "v": 27}

    with pytest.raises(UnsupportedActionError, match="teleport") as info:
        recover_user_signed_signer(action, signature)

    assert isinstance(info.value, ValueError)


def test_user_signed_action_without_type_is_unsupported() -> None:
    vector = next(v for v in USER_VECTORS if "type" not in v["action"])

    with pytest.raises(UnsupportedActionError):
        recover_user_signed_signer(vector["action"], vector["signature"])


def test_approve_agent_without_agent_name_recovers_as_the_sdk_unnamed_approval() -> None:
    # Arrange: exactly what the SDK's Exchange.approve_agent(name=None) posts.
    wallet = Account.from_key(VECTOR_KEY)
    action: dict[str, Any] = {
        "type": "approveAgent",
        "agentAddress": "0x1d9470d4b963f552e6f671a81619d395877bf409",
        "agentName": "",
        "nonce": 1717000000100,
    }
    signature = sdk.sign_agent(wallet, action, True)
    del action["agentName"]

    # Act
    recovered = recover_user_signed_signer(action, signature)

    # Assert
    assert recovered == wallet.address.lower()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("nonce", "1717000000002"),  # uint64 sent as a string
        ("nonce", -1),
        ("nonce", 2**64),
        ("nonce", True),
        ("toPerp", 1),  # bool sent as a number
        ("amount", 5),  # string sent as a number
        ("signatureChainId", 421614),
        ("signatureChainId", "0xzz"),
    ],
)
def test_user_signed_action_with_wrong_json_type_is_malformed(field: str, value: Any) -> None:
    vector = next(v for v in USER_VECTORS if v["action"].get("type") == "usdClassTransfer")
    action = copy.deepcopy(vector["action"])
    action[field] = value

    with pytest.raises(MalformedActionError):
        recover_user_signed_signer(action, vector["signature"])


def test_user_signed_action_missing_a_signed_field_is_malformed() -> None:
    vector = next(v for v in USER_VECTORS if v["action"].get("type") == "withdraw3")
    action = copy.deepcopy(vector["action"])
    del action["destination"]

    with pytest.raises(MalformedActionError, match="destination"):
        recover_user_signed_signer(action, vector["signature"])


@pytest.mark.parametrize(
    "address", ["0x1234", "0x" + "g" * 40, "1719884eb866cb12b2287399b15f7db5e7d775ea"]
)
def test_l1_action_with_malformed_vault_address_is_malformed(address: str) -> None:
    vector = L1_VECTORS[0]

    with pytest.raises(MalformedActionError):
        recover_l1_signer(
            vector["action"], vector["nonce"], address, None, True, vector["signature"]
        )


@pytest.mark.parametrize(
    "signature",
    [
        {"r": "0x1", "s": "0x1", "v": 29},
        {"r": "0x1", "s": "0x1", "v": 0},
        {"r": "0x1", "s": "0x1"},
        {"r": "12ab", "s": "0x1", "v": 27},
        {"r": "0x", "s": "0x1", "v": 27},
        {"r": "0x0", "s": "0x1", "v": 27},
        {"r": hex(SECP256K1_N), "s": "0x1", "v": 27},
        {"r": "0x1_2", "s": "0x1", "v": 27},
        {"r": "0x1", "s": None, "v": 27},
    ],
)
def test_malformed_signature_raises_invalid_signature(signature: dict[str, Any]) -> None:
    vector = L1_VECTORS[0]

    with pytest.raises(InvalidSignatureError):
        recover_l1_signer(vector["action"], vector["nonce"], None, None, True, signature)


def test_l1_action_that_msgpack_cannot_encode_is_malformed() -> None:
    with pytest.raises(MalformedActionError):
        l1_action_digest({"type": "dummy", "num": 2**70}, 1, None, None, True)


# --- Signer: addresses, round trips, chain handling -----------------------------------------------


def test_signer_addresses_match_the_vector_address_in_both_forms() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=True)

    assert signer.checksum_address == VECTOR_ADDRESS
    assert signer.address == VECTOR_ADDRESS.lower()
    assert address_from_private_key(VECTOR_KEY) == VECTOR_ADDRESS.lower()
    assert address_from_private_key(VECTOR_KEY, checksum=True) == VECTOR_ADDRESS
    assert address_from_private_key(bytes.fromhex(VECTOR_KEY[2:])) == VECTOR_ADDRESS.lower()


def test_signature_by_another_key_recovers_to_a_different_address() -> None:
    vector = L1_VECTORS[0]
    other = HyperliquidSigner(OTHER_KEY, is_mainnet=True)
    args = (vector["action"], vector["nonce"], None, None)

    signature = other.sign_l1_action(*args)
    recovered = recover_l1_signer(*args, True, signature)

    assert recovered == other.address
    assert recovered != VECTOR_ADDRESS.lower()
    assert recovered == Account.from_key(OTHER_KEY).address.lower()


def test_tampered_action_recovers_to_a_different_address() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=False)
    action: dict[str, Any] = {
        "type": "order",
        "orders": [{"a": 0, "b": True, "p": "100", "s": "1", "r": False}],
    }
    signature = signer.sign_l1_action(action, 1717000000000)
    tampered = copy.deepcopy(action)
    tampered["orders"][0]["p"] = "100.0"  # same number, different wire string

    recovered = recover_l1_signer(tampered, 1717000000000, None, None, False, signature)

    assert recovered != signer.address


def test_key_order_of_the_received_action_is_part_of_the_signature() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=True)
    action = {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 10}
    reordered = {"type": "updateLeverage", "isCross": True, "asset": 0, "leverage": 10}
    signature = signer.sign_l1_action(action, 5)

    assert recover_l1_signer(action, 5, None, None, True, signature) == signer.address
    assert recover_l1_signer(reordered, 5, None, None, True, signature) != signer.address


def test_testnet_signer_fills_chain_fields_of_a_user_signed_action_like_the_sdk() -> None:
    # Arrange
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=False)
    action: dict[str, Any] = {"type": "usdSend", "destination": "0xab", "amount": "1", "time": 7}
    sdk_action = copy.deepcopy(action)
    expected = sdk.sign_usd_transfer_action(Account.from_key(VECTOR_KEY), sdk_action, False)

    # Act
    signature = signer.sign_user_signed_action(action)

    # Assert
    assert action == sdk_action
    assert action["hyperliquidChain"] == "Testnet"
    assert action["signatureChainId"] == "0x66eee"
    assert signature == expected


def test_signer_refuses_a_user_signed_action_for_the_other_chain() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=True)
    action = {
        "type": "usdSend",
        "hyperliquidChain": "Testnet",
        "destination": "0xab",
        "amount": "1",
        "time": 7,
    }

    with pytest.raises(ValueError, match="Testnet"):
        signer.sign_user_signed_action(action)


def test_signer_source_follows_is_mainnet() -> None:
    vector = next(v for v in L1_VECTORS if v["name"] == "dummy_testnet")
    args = (vector["action"], vector["nonce"], None, None)

    testnet = HyperliquidSigner(VECTOR_KEY, is_mainnet=False).sign_l1_action(*args)
    mainnet = HyperliquidSigner(VECTOR_KEY, is_mainnet=True).sign_l1_action(*args)

    assert testnet == vector["signature"]
    assert mainnet != vector["signature"]


# --- Secrets -------------------------------------------------------------------------------------


def _secret_spellings(key: str) -> list[str]:
    bare = key[2:]
    return [bare, bare.upper(), bare[:16], str(int(bare, 16))]


def test_private_key_never_appears_in_repr_or_str() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=True)

    texts = [repr(signer), str(signer), f"{signer}"]

    for text in texts:
        assert VECTOR_ADDRESS in text
        for secret in _secret_spellings(VECTOR_KEY):
            assert secret not in text


def test_signer_cannot_be_pickled_or_copied() -> None:
    signer = HyperliquidSigner(VECTOR_KEY, is_mainnet=True)

    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        copy.copy(signer)


@pytest.mark.parametrize(
    "bad_key",
    [
        "0x" + "0123456789abcdef" * 3 + "0123456789abcdeg",  # not hex
        "0x" + "00" * 32,  # zero
        hex(SECP256K1_N),  # out of range
        "0x" + "ab" * 31,  # too short
    ],
)
def test_invalid_private_key_error_does_not_echo_the_key(bad_key: str) -> None:
    with pytest.raises(ValueError) as info:
        HyperliquidSigner(bad_key, is_mainnet=True)

    assert bad_key[2:18] not in str(info.value)
    assert bad_key[2:18] not in repr(info.value)


# --- Property tests: fast path == SDK -------------------------------------------------------------

private_keys = st.integers(min_value=1, max_value=SECP256K1_N - 1).map(
    lambda k: "0x" + k.to_bytes(32, "big").hex()
)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
uint64s = st.integers(min_value=0, max_value=2**64 - 1)
texts = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=24)
wire_decimals = st.decimals(
    min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False
).map(lambda d: format(d.normalize(), "f"))

order_wires = st.fixed_dictionaries(
    {
        "a": st.integers(min_value=0, max_value=200_000),
        "b": st.booleans(),
        "p": wire_decimals,
        "s": wire_decimals,
        "r": st.booleans(),
        "t": st.one_of(
            st.sampled_from(["Gtc", "Ioc", "Alo"]).map(lambda tif: {"limit": {"tif": tif}}),
            st.fixed_dictionaries(
                {
                    "isMarket": st.booleans(),
                    "triggerPx": wire_decimals,
                    "tpsl": st.sampled_from(["tp", "sl"]),
                }
            ).map(lambda trig: {"trigger": trig}),
        ),
    },
    optional={"c": st.binary(min_size=16, max_size=16).map(lambda b: "0x" + b.hex())},
)
order_actions = st.fixed_dictionaries(
    {
        "type": st.just("order"),
        "orders": st.lists(order_wires, min_size=1, max_size=4),
        "grouping": st.sampled_from(["na", "normalTpsl", "positionTpsl"]),
    }
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    texts,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
any_actions = st.builds(
    lambda action_type, rest: {"type": action_type, **rest},
    texts,
    st.dictionaries(texts.filter(lambda k: k != "type"), json_values, max_size=5),
)


@HYPOTHESIS
@given(
    key=private_keys,
    action=st.one_of(order_actions, any_actions),
    nonce=uint64s,
    vault=st.none() | addresses,
    expires_after=st.none() | uint64s,
    is_mainnet=st.booleans(),
)
def test_l1_signature_is_bit_identical_to_the_sdk(
    key: str,
    action: dict[str, Any],
    nonce: int,
    vault: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> None:
    # Arrange
    signer = HyperliquidSigner(key, is_mainnet=is_mainnet)
    expected = _sdk_l1(key, action, nonce, vault, expires_after, is_mainnet)

    # Act
    signature = signer.sign_l1_action(action, nonce, vault, expires_after)
    recovered = recover_l1_signer(action, nonce, vault, expires_after, is_mainnet, signature)

    # Assert
    assert signature == expected
    assert recovered == Account.from_key(key).address.lower()


def _field_values(sdk_types: list[dict[str, str]]) -> st.SearchStrategy[dict[str, Any]]:
    by_type: dict[str, st.SearchStrategy[Any]] = {
        "string": texts,
        "uint64": uint64s,
        "bool": st.booleans(),
        "address": addresses,
    }
    return st.fixed_dictionaries(
        {f["name"]: by_type[f["type"]] for f in sdk_types if f["name"] != "hyperliquidChain"}
    )


user_actions = st.sampled_from(sorted(SDK_USER_SIGNERS)).flatmap(
    lambda action_type: _field_values(SDK_USER_SIGNERS[action_type][2]).map(
        lambda fields: {"type": action_type, **fields}
    )
)


@HYPOTHESIS
@given(key=private_keys, action=user_actions, is_mainnet=st.booleans())
def test_user_signed_signature_is_bit_identical_to_the_sdk(
    key: str, action: dict[str, Any], is_mainnet: bool
) -> None:
    # Arrange
    sdk_sign = SDK_USER_SIGNERS[action["type"]][0]
    sdk_action = copy.deepcopy(action)
    expected = sdk_sign(Account.from_key(key), sdk_action, is_mainnet)
    signer = HyperliquidSigner(key, is_mainnet=is_mainnet)

    # Act
    signature = signer.sign_user_signed_action(action)
    recovered = recover_user_signed_signer(action, signature)

    # Assert
    assert signature == expected
    assert action == sdk_action
    assert recovered == Account.from_key(key).address.lower()


@HYPOTHESIS
@given(
    key=private_keys,
    action=user_actions,
    chain_id=st.integers(min_value=1, max_value=2**64),
    chain=st.sampled_from(["Mainnet", "Testnet"]),
)
def test_user_signed_recovery_honours_any_signature_chain_id(
    key: str, action: dict[str, Any], chain_id: int, chain: str
) -> None:
    # Arrange: sign through eth_account with the wallet's own chain id, as a browser wallet would.
    _, primary_type, sdk_types = SDK_USER_SIGNERS[action["type"]]
    action["signatureChainId"] = hex(chain_id)
    action["hyperliquidChain"] = chain
    typed = encode_typed_data(
        full_message=sdk.user_signed_payload(primary_type, sdk_types, copy.deepcopy(action))
    )
    wallet = Account.from_key(key)
    signed = wallet.sign_message(typed)
    signature = {"r": hex(signed.r), "s": hex(signed.s), "v": signed.v}

    # Act
    digest = user_signed_action_digest(action)
    recovered = recover_user_signed_signer(action, signature)

    # Assert
    assert digest == bytes(_hash_eip191_message(typed))
    assert recovered == wallet.address.lower()


@HYPOTHESIS
@given(key=private_keys)
def test_address_from_private_key_matches_eth_account(key: str) -> None:
    expected = Account.from_key(key).address

    assert address_from_private_key(key, checksum=True) == expected
    assert address_from_private_key(key) == expected.lower()
    assert HyperliquidSigner(key, is_mainnet=False).checksum_address == expected


@HYPOTHESIS
@given(key=private_keys, digest=st.binary(min_size=32, max_size=32))
def test_digest_signature_round_trip_and_low_s(key: str, digest: bytes) -> None:
    signer = HyperliquidSigner(key, is_mainnet=True)

    signature = signer.sign_digest(digest)

    assert recover_address_from_digest(digest, signature) == signer.address
    assert int(signature["s"], 16) <= SECP256K1_N // 2
