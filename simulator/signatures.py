"""Signer recovery for /exchange, independent of the adapter's signing code.

Why not `adapters.hyperliquid.signing`: the adapter signs every order the node sends, so if the
simulator verified with the same code, a bug in it (a wrong field order, a msgpack detail, a
wrong chain) would sign and verify consistently and pass every adapter-vs-simulator test while
the real venue refuses the orders. Here the action hash and EIP-712 payloads are the reference
SDK's (`hyperliquid.utils.signing`) and the recovery is `eth_account`'s, like the venue's own
clients; PROTOCOL.md §6 documents both schemes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_keys.exceptions import BadSignature
from eth_utils.exceptions import ValidationError
from hyperliquid.utils import signing as sdk

Field = dict[str, str]

# The EIP-712 struct of each user-signed action type: (primaryType, fields in order). The SDK
# names most lists; approveAgent and approveBuilderFee are written inline in its sign_* calls.
USER_SIGNED_TYPES: dict[str, tuple[str, list[Field]]] = {
    "usdSend": ("HyperliquidTransaction:UsdSend", sdk.USD_SEND_SIGN_TYPES),
    "spotSend": ("HyperliquidTransaction:SpotSend", sdk.SPOT_TRANSFER_SIGN_TYPES),
    "withdraw3": ("HyperliquidTransaction:Withdraw", sdk.WITHDRAW_SIGN_TYPES),
    "usdClassTransfer": (
        "HyperliquidTransaction:UsdClassTransfer",
        sdk.USD_CLASS_TRANSFER_SIGN_TYPES,
    ),
    "sendAsset": ("HyperliquidTransaction:SendAsset", sdk.SEND_ASSET_SIGN_TYPES),
    "tokenDelegate": ("HyperliquidTransaction:TokenDelegate", sdk.TOKEN_DELEGATE_TYPES),
    "approveAgent": (
        "HyperliquidTransaction:ApproveAgent",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "agentAddress", "type": "address"},
            {"name": "agentName", "type": "string"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        [
            {"name": "hyperliquidChain", "type": "string"},
            {"name": "maxFeeRate", "type": "string"},
            {"name": "builder", "type": "address"},
            {"name": "nonce", "type": "uint64"},
        ],
    ),
}

# Fields a client may leave out of the body although they were signed: the SDK signs an unnamed
# agent with agentName "" and then drops the key from the action it posts.
_SIGNED_DEFAULTS: dict[str, dict[str, Any]] = {"approveAgent": {"agentName": ""}}


class SignatureRejected(Exception):
    """The signature or the signed action cannot be decoded (the venue answers DESERIALIZE)."""


# What eth_account / msgpack raise on malformed input: non-hex words, bad v, missing fields,
# integers outside their width.
_DECODE_ERRORS = (
    BadSignature,
    ValidationError,
    ValueError,
    TypeError,
    KeyError,
    OverflowError,
)


def _vrs(signature: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return signature["v"], signature["r"], signature["s"]


def recover_l1(
    action: dict[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
    signature: Mapping[str, Any],
) -> str:
    """The lowercase address that signed an L1 action (phantom agent over the action hash)."""
    try:
        address = sdk.recover_agent_or_user_from_l1_action(
            action, signature, vault_address, nonce, expires_after, is_mainnet
        )
    except _DECODE_ERRORS as exc:
        raise SignatureRejected(str(exc)) from None
    return str(address).lower()


def recover_user_signed(
    action: dict[str, Any], signature: Mapping[str, Any], is_mainnet: bool
) -> str:
    """The lowercase address that signed a user-signed action, hashed for THIS venue's chain.

    The venue puts its own chain name into the struct, so an action signed for the other
    network recovers an unrelated address (refused as an unknown signer): that is what stops
    cross-network replay, whatever `hyperliquidChain` the body claims.
    """
    spec = USER_SIGNED_TYPES.get(str(action.get("type")))
    if spec is None:
        raise SignatureRejected(f"unsupported user-signed action {action.get('type')!r}")
    primary_type, fields = spec
    message = {**_SIGNED_DEFAULTS.get(str(action["type"]), {}), **action}
    message["hyperliquidChain"] = "Mainnet" if is_mainnet else "Testnet"
    try:
        payload = sdk.user_signed_payload(primary_type, fields, message)
        structured = encode_typed_data(full_message=payload)
        address = Account.recover_message(structured, vrs=_vrs(signature))
    except _DECODE_ERRORS as exc:
        raise SignatureRejected(str(exc)) from None
    return str(address).lower()
