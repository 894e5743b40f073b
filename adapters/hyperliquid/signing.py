"""EIP-712 signing and signer recovery for Hyperliquid exchange actions.

Hyperliquid authenticates every ``/exchange`` request by an EIP-712 signature inside the body
(PROTOCOL.md §6). Two schemes exist:

* **L1 actions** (order, cancel, modify, leverage, ...): the action is msgpack-hashed together with
  the nonce, vault address and ``expiresAfter`` into a ``connectionId`` (the SDK's ``action_hash``),
  which is signed as a phantom ``Agent(string source,bytes32 connectionId)`` message with source
  ``"a"`` (mainnet) or ``"b"`` (testnet and the local simulator).
* **User-signed actions** (usdSend, withdraw3, approveAgent, ...): the action's own fields are the
  EIP-712 message under the ``HyperliquidSignTransaction`` domain.

The SDK builds the full typed-data dictionary and re-encodes constant parts (domain separator, type
hashes) on every call. Here those constants are computed once, so a signature costs one action hash,
two keccaks and one libsecp256k1 call (coincurve). Tests prove the result is bit-identical to the
SDK's ``sign_l1_action`` / ``sign_user_signed_action``.

Recovery (``recover_l1_signer``, ``recover_user_signed_signer``) hashes the action exactly as
received (key order preserved, no re-formatting), which is what the venue, and so the simulator,
must do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from functools import cache
from functools import lru_cache
from typing import Any
from typing import Final
from typing import NoReturn
from typing import TypedDict

import coincurve

__all__ = [
    "L1_SOURCE_MAINNET",
    "L1_SOURCE_TESTNET",
    "USER_SIGNED_ACTION_SPECS",
    "HyperliquidSignature",
    "HyperliquidSigner",
    "InvalidSignatureError",
    "MalformedActionError",
    "UnsupportedActionError",
    "UserSignedActionSpec",
    "address_from_private_key",
    "l1_action_digest",
    "l1_connection_id",
    "recover_address_from_digest",
    "recover_l1_signer",
    "recover_user_signed_signer",
    "user_signed_action_digest",
    "user_signed_action_spec",
]


class UnsupportedActionError(ValueError):
    """Raised when a user-signed action's ``type`` has no known EIP-712 layout."""


class MalformedActionError(ValueError):
    """Raised when an action cannot be hashed (missing field, wrong JSON type, bad address)."""


class InvalidSignatureError(ValueError):
    """Raised when a signature is malformed or no public key can be recovered from it."""


class HyperliquidSignature(TypedDict):
    """The ``signature`` object of an ``/exchange`` body, exactly as the SDK emits it."""

    r: str
    s: str
    v: int


# --- Deferred third-party imports -----------------------------------------------------------------
# pycryptodome (our keccak, and eth_account under the SDK) shells out to `file` through
# platform.architecture() when it first loads its native code. Importing it lazily keeps importing
# this module free of side effects; HyperliquidSigner.__init__ warms both up, so the first order
# signed does not pay for the imports.


@cache
def _keccak_new() -> Callable[..., Any]:
    from Crypto.Hash import keccak  # deferred, see above

    return keccak.new


@cache
def _sdk_action_hash() -> Callable[..., bytes]:
    from hyperliquid.utils.signing import action_hash  # deferred, see above

    return action_hash


def _keccak(data: bytes) -> bytes:
    """Keccak-256; pycryptodome's is the fastest one installed (≈ 5 µs vs ≈ 7 µs for eth_utils)."""
    return _keccak_new()(digest_bits=256, data=data).digest()


# --- EIP-712 constants (computed once, on first use) ----------------------------------------------

L1_SOURCE_MAINNET: Final = "a"
L1_SOURCE_TESTNET: Final = "b"

_HEX_40: Final = re.compile(r"[0-9a-fA-F]{40}")
_HEX_WORD: Final = re.compile(r"0[xX][0-9a-fA-F]{1,64}")
_SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_UINT64_MAX: Final = (1 << 64) - 1
_ZERO_WORD: Final = bytes(32)
_EIP712_PREFIX: Final = b"\x19\x01"
_DOMAIN_TYPE: Final = (
    b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_AGENT_TYPE: Final = b"Agent(string source,bytes32 connectionId)"


def _domain_separator(name: str, chain_id: int) -> bytes:
    """hashStruct(EIP712Domain) for Hyperliquid's domains (version "1", zero verifying contract)."""
    return _keccak(
        _type_hash(_DOMAIN_TYPE)
        + _keccak(name.encode())
        + _keccak(b"1")
        + chain_id.to_bytes(32, "big")
        + _ZERO_WORD  # verifyingContract 0x0000…0000, left-padded to a word
    )


@lru_cache(maxsize=64)
def _type_hash(type_string: bytes) -> bytes:
    """keccak of an EIP-712 type string, e.g. ``Agent(string source,bytes32 connectionId)``."""
    return _keccak(type_string)


@cache
def _l1_digest_prefix() -> bytes:
    """0x19 0x01 || domainSeparator of the L1 ``Exchange`` domain (chain id 1337)."""
    return _EIP712_PREFIX + _domain_separator("Exchange", 1337)


@cache
def _agent_struct_prefix(is_mainnet: bool) -> bytes:
    """typeHash || keccak(source): everything of the Agent struct except the connectionId."""
    source = L1_SOURCE_MAINNET if is_mainnet else L1_SOURCE_TESTNET
    return _type_hash(_AGENT_TYPE) + _keccak(source.encode())


@lru_cache(maxsize=64)
def _user_signed_digest_prefix(chain_id: int) -> bytes:
    """0x19 0x01 || domainSeparator for one ``signatureChainId`` (bounded cache: ids come off the
    wire, so the simulator must not grow memory on hostile input)."""
    return _EIP712_PREFIX + _domain_separator("HyperliquidSignTransaction", chain_id)


# --- User-signed action layouts (PROTOCOL.md §6.2, SDK signing.py) --------------------------------


@dataclass(frozen=True, slots=True)
class UserSignedActionSpec:
    """The EIP-712 struct of one user-signed action type: primary type and ordered fields.

    Fields not listed (``type``, ``signatureChainId``) are carried in the action but not signed.
    ``defaults`` supplies values for keys the SDK signs but then drops from the posted action.
    """

    primary_type: str
    fields: tuple[tuple[str, str], ...]  # (name, solidity type), in struct order
    defaults: Mapping[str, Any] = field(default_factory=dict)
    type_string: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        members = ",".join(f"{sol_type} {name}" for name, sol_type in self.fields)
        object.__setattr__(self, "type_string", f"{self.primary_type}({members})".encode())

    @property
    def type_hash(self) -> bytes:
        """keccak(type string): the first word of every struct hash of this type."""
        return _type_hash(self.type_string)


def _spec(primary_type: str, *fields: str, **defaults: Any) -> UserSignedActionSpec:
    """Build a spec from ``"<type> <name>"`` strings, the way EIP-712 type strings read."""
    pairs = tuple((name, sol_type) for sol_type, name in (f.split(" ") for f in fields))
    return UserSignedActionSpec(f"HyperliquidTransaction:{primary_type}", pairs, defaults)


_CHAIN: Final = "string hyperliquidChain"

USER_SIGNED_ACTION_SPECS: Final[Mapping[str, UserSignedActionSpec]] = {
    "usdSend": _spec("UsdSend", _CHAIN, "string destination", "string amount", "uint64 time"),
    "spotSend": _spec(
        "SpotSend",
        _CHAIN,
        "string destination",
        "string token",
        "string amount",
        "uint64 time",
    ),
    "withdraw3": _spec("Withdraw", _CHAIN, "string destination", "string amount", "uint64 time"),
    "usdClassTransfer": _spec(
        "UsdClassTransfer", _CHAIN, "string amount", "bool toPerp", "uint64 nonce"
    ),
    "sendAsset": _spec(
        "SendAsset",
        _CHAIN,
        "string destination",
        "string sourceDex",
        "string destinationDex",
        "string token",
        "string amount",
        "string fromSubAccount",
        "uint64 nonce",
    ),
    # The SDK signs an unnamed approval with agentName "" and then drops the key before posting.
    "approveAgent": _spec(
        "ApproveAgent",
        _CHAIN,
        "address agentAddress",
        "string agentName",
        "uint64 nonce",
        agentName="",
    ),
    "approveBuilderFee": _spec(
        "ApproveBuilderFee", _CHAIN, "string maxFeeRate", "address builder", "uint64 nonce"
    ),
    "tokenDelegate": _spec(
        "TokenDelegate",
        _CHAIN,
        "address validator",
        "uint64 wei",
        "bool isUndelegate",
        "uint64 nonce",
    ),
    "userDexAbstraction": _spec(
        "UserDexAbstraction", _CHAIN, "address user", "bool enabled", "uint64 nonce"
    ),
    "userSetAbstraction": _spec(
        "UserSetAbstraction", _CHAIN, "address user", "string abstraction", "uint64 nonce"
    ),
    "convertToMultiSigUser": _spec(
        "ConvertToMultiSigUser", _CHAIN, "string signers", "uint64 nonce"
    ),
}


def user_signed_action_spec(action: Mapping[str, Any]) -> UserSignedActionSpec:
    """Pick the EIP-712 layout from ``action["type"]``; unknown or missing types are refused."""
    action_type = action.get("type")
    spec = USER_SIGNED_ACTION_SPECS.get(action_type) if isinstance(action_type, str) else None
    if spec is None:
        raise UnsupportedActionError(f"unsupported user-signed action type: {action_type!r}")
    return spec


# --- EIP-712 field encoding (strict: the venue deserialises into typed structs) ------------------


def _bad_field(name: str, sol_type: str, value: Any) -> NoReturn:
    raise MalformedActionError(f"field {name!r} is not a valid {sol_type}: {value!r}")


def _encode_string(name: str, value: Any) -> bytes:
    if not isinstance(value, str):
        _bad_field(name, "string", value)
    return _keccak(value.encode())


def _encode_uint64(name: str, value: Any) -> bytes:
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        _bad_field(name, "uint64", value)
    return value.to_bytes(32, "big")


def _encode_bool(name: str, value: Any) -> bytes:
    if type(value) is not bool:
        _bad_field(name, "bool", value)
    return (b"\x00" * 31) + (b"\x01" if value else b"\x00")


def _address_bytes(name: str, value: Any) -> bytes:
    if not isinstance(value, str) or len(value) != 42 or not value.startswith(("0x", "0X")):
        _bad_field(name, "address", value)
    if _HEX_40.fullmatch(value, 2) is None:
        _bad_field(name, "address", value)
    return bytes.fromhex(value[2:])


def _encode_address(name: str, value: Any) -> bytes:
    return (b"\x00" * 12) + _address_bytes(name, value)


_FIELD_ENCODERS: Final[Mapping[str, Callable[[str, Any], bytes]]] = {
    "string": _encode_string,
    "uint64": _encode_uint64,
    "bool": _encode_bool,
    "address": _encode_address,
}


def _chain_id(action: Mapping[str, Any]) -> int:
    raw = action.get("signatureChainId")
    if not isinstance(raw, str):
        raise MalformedActionError(f"signatureChainId must be a hex string, got {raw!r}")
    try:
        chain_id = int(raw, 16)
    except ValueError:
        raise MalformedActionError(f"signatureChainId is not hex: {raw!r}") from None
    if not 0 <= chain_id < (1 << 256):
        raise MalformedActionError(f"signatureChainId out of range: {raw!r}")
    return chain_id


# --- Digests --------------------------------------------------------------------------------------


def l1_connection_id(
    action: Any,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
) -> bytes:
    """The phantom agent's ``connectionId``: the SDK's ``action_hash`` over msgpack(action) || nonce
    || vault flag/address || optional expiresAfter. Inputs are checked first so that a hostile body
    fails with ``MalformedActionError`` instead of hashing garbage."""
    if type(nonce) is not int or not 0 <= nonce <= _UINT64_MAX:
        raise MalformedActionError(f"nonce is not a uint64: {nonce!r}")
    if expires_after is not None and (
        type(expires_after) is not int or not 0 <= expires_after <= _UINT64_MAX
    ):
        raise MalformedActionError(f"expiresAfter is not a uint64: {expires_after!r}")
    if vault_address is not None:
        _address_bytes("vaultAddress", vault_address)
    try:
        return bytes(_sdk_action_hash()(action, vault_address, nonce, expires_after))
    except (TypeError, ValueError, OverflowError) as exc:
        raise MalformedActionError(f"action cannot be msgpack-encoded: {exc}") from None


def _l1_digest_from_connection_id(connection_id: bytes, is_mainnet: bool) -> bytes:
    struct_hash = _keccak(_agent_struct_prefix(is_mainnet) + connection_id)
    return _keccak(_l1_digest_prefix() + struct_hash)


def l1_action_digest(
    action: Any,
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
) -> bytes:
    """The 32-byte EIP-712 digest that an L1 action's signature covers."""
    connection_id = l1_connection_id(action, nonce, vault_address, expires_after)
    return _l1_digest_from_connection_id(connection_id, is_mainnet)


def user_signed_action_digest(
    action: Mapping[str, Any],
    spec: UserSignedActionSpec | None = None,
) -> bytes:
    """The 32-byte EIP-712 digest of a user-signed action, taken from the action as given
    (``hyperliquidChain`` and ``signatureChainId`` included). ``spec`` overrides the layout chosen
    from ``action["type"]`` (the SDK's own test vectors carry no ``type``)."""
    if spec is None:
        spec = user_signed_action_spec(action)
    parts = [spec.type_hash]
    for name, sol_type in spec.fields:
        if name in action:
            value = action[name]
        elif name in spec.defaults:
            value = spec.defaults[name]
        else:
            raise MalformedActionError(f"{spec.primary_type} is missing field {name!r}")
        parts.append(_FIELD_ENCODERS[sol_type](name, value))
    struct_hash = _keccak(b"".join(parts))
    return _keccak(_user_signed_digest_prefix(_chain_id(action)) + struct_hash)


# --- Signatures and addresses ---------------------------------------------------------------------


def _to_checksum_address(address: str) -> str:
    """EIP-55: uppercase each hex letter whose nibble in keccak(lowercase hex) is >= 8."""
    body = address[2:].lower()
    nibbles = _keccak(body.encode()).hex()
    return "0x" + "".join(
        c.upper() if int(n, 16) >= 8 else c for c, n in zip(body, nibbles[:40], strict=True)
    )


def _address_from_public_key(public_key: coincurve.PublicKey) -> str:
    return "0x" + _keccak(public_key.format(compressed=False)[1:])[-20:].hex()


def _signature_word(signature: Mapping[str, Any], name: str) -> int:
    raw = signature.get(name)
    if isinstance(raw, str) and _HEX_WORD.fullmatch(raw) is not None:
        value = int(raw, 16)
    elif type(raw) is int:
        value = raw
    else:
        raise InvalidSignatureError(f"signature {name} must be a 0x-hex string")
    if not 0 < value < _SECP256K1_N:
        raise InvalidSignatureError(f"signature {name} is out of range")
    return value


def recover_address_from_digest(digest: bytes, signature: Mapping[str, Any]) -> str:
    """ecrecover: the lowercase 0x address whose key produced ``signature`` over ``digest``.

    ``r``/``s`` are 0x-hex (unpadded is fine, as the SDK emits them); ``v`` is 27 or 28.
    """
    if not isinstance(signature, Mapping):
        raise InvalidSignatureError("signature must be an object with r, s and v")
    r = _signature_word(signature, "r")
    s = _signature_word(signature, "s")
    v = signature.get("v")
    if type(v) is not int or v not in (27, 28):
        raise InvalidSignatureError(f"signature v must be 27 or 28, got {v!r}")
    compact = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((v - 27,))
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(compact, digest, hasher=None)
    except Exception as exc:  # libsecp256k1 reports failure as a bare Exception/ValueError
        raise InvalidSignatureError(f"no public key recoverable from signature: {exc}") from None
    return _address_from_public_key(public_key)


def recover_l1_signer(
    action: dict[str, Any],
    nonce: int,
    vault_address: str | None,
    expires_after: int | None,
    is_mainnet: bool,
    signature: Mapping[str, Any],
) -> str:
    """The lowercase address that signed an L1 action (account key or agent), as the venue sees it.

    ``action`` must be the dict exactly as received: msgpack keeps its key order and value types.
    """
    digest = l1_action_digest(action, nonce, vault_address, expires_after, is_mainnet)
    return recover_address_from_digest(digest, signature)


def recover_user_signed_signer(
    action: dict[str, Any],
    signature: Mapping[str, Any],
    *,
    spec: UserSignedActionSpec | None = None,
) -> str:
    """The lowercase address that signed a user-signed action (layout from ``action["type"]``,
    chain from ``hyperliquidChain``, chain id from ``signatureChainId``). Raises
    ``UnsupportedActionError`` for unknown types unless ``spec`` is given."""
    return recover_address_from_digest(user_signed_action_digest(action, spec), signature)


def _parse_private_key(private_key: str | bytes) -> coincurve.PrivateKey:
    """Parse a 32-byte key; error messages never echo the key material."""
    if isinstance(private_key, str):
        text = private_key[2:] if private_key[:2] in ("0x", "0X") else private_key
        if len(text) != 64:
            raise ValueError("private key must be 32 bytes (64 hex characters)")
        try:
            secret = bytes.fromhex(text)
        except ValueError:
            raise ValueError("private key is not valid hex") from None
    elif isinstance(private_key, bytes | bytearray):
        secret = bytes(private_key)
    else:
        raise TypeError("private key must be a hex string or bytes")
    if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _SECP256K1_N:
        raise ValueError("private key is not a valid secp256k1 secret")
    return coincurve.PrivateKey(secret)


def address_from_private_key(private_key: str | bytes, *, checksum: bool = False) -> str:
    """The account address of a private key: lowercase by default, so it compares directly with
    ``recover_*`` results; ``checksum=True`` gives the EIP-55 form for display."""
    address = _address_from_public_key(_parse_private_key(private_key).public_key)
    return _to_checksum_address(address) if checksum else address


# --- The signer -----------------------------------------------------------------------------------


class HyperliquidSigner:
    """Holds one secp256k1 key (parsed once) and signs Hyperliquid actions with it.

    ``is_mainnet`` selects the L1 phantom-agent source ("a" mainnet, "b" testnet and simulator) and
    the ``hyperliquidChain`` of user-signed actions. Signatures match the SDK bit for bit.
    The key never appears in ``repr``/``str`` and the signer refuses to be pickled.
    """

    __slots__ = ("_address", "_checksum_address", "_is_mainnet", "_key")

    def __init__(self, private_key: str | bytes, *, is_mainnet: bool) -> None:
        self._key = _parse_private_key(private_key)
        _sdk_action_hash()  # warm the deferred imports now rather than on the first order
        self._is_mainnet = bool(is_mainnet)
        self._address = _address_from_public_key(self._key.public_key)
        self._checksum_address: str = _to_checksum_address(self._address)

    @property
    def address(self) -> str:
        """The signer's address in lowercase (the form the venue reports in errors)."""
        return self._address

    @property
    def checksum_address(self) -> str:
        """The signer's EIP-55 checksummed address (the SDK's ``wallet.address``)."""
        return self._checksum_address

    @property
    def is_mainnet(self) -> bool:
        """True when signing for mainnet (source "a", hyperliquidChain "Mainnet")."""
        return self._is_mainnet

    @property
    def hyperliquid_chain(self) -> str:
        """The ``hyperliquidChain`` value this signer puts into user-signed actions."""
        return "Mainnet" if self._is_mainnet else "Testnet"

    def sign_digest(self, digest: bytes) -> HyperliquidSignature:
        """Sign a precomputed 32-byte EIP-712 digest; r/s are minimal hex like the SDK's to_hex."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        compact = self._key.sign_recoverable(digest, hasher=None)  # r || s || recovery id
        return {
            "r": hex(int.from_bytes(compact[:32], "big")),
            "s": hex(int.from_bytes(compact[32:64], "big")),
            "v": 27 + compact[64],
        }

    def sign_l1_action(
        self,
        action: Any,
        nonce: int,
        vault_address: str | None = None,
        expires_after: int | None = None,
    ) -> HyperliquidSignature:
        """Sign an L1 action (order, cancel, modify, leverage, ... or any action dict) exactly as it
        will be posted: same key order, same wire strings. ``vault_address`` is the sub-account or
        vault traded for, if any; it should be lowercase, as the SDK sends it."""
        connection_id = l1_connection_id(action, nonce, vault_address, expires_after)
        return self.sign_digest(_l1_digest_from_connection_id(connection_id, self._is_mainnet))

    def sign_user_signed_action(
        self,
        action: dict[str, Any],
        spec: UserSignedActionSpec | None = None,
    ) -> HyperliquidSignature:
        """Sign a user-signed action (usdSend, withdraw3, approveAgent, ...).

        Like the SDK, this sets ``hyperliquidChain`` (from ``is_mainnet``) and, when absent,
        ``signatureChainId`` ("0x66eee") in ``action`` itself, because the posted action must carry
        exactly what was signed. An action already naming the other chain is refused rather than
        silently re-targeted. ``spec`` overrides the layout chosen from ``action["type"]``.
        """
        if spec is None:
            spec = user_signed_action_spec(action)
        chain = self.hyperliquid_chain
        present = action.get("hyperliquidChain", chain)
        if present != chain:
            raise ValueError(f"action is for hyperliquidChain {present!r}, signer is for {chain!r}")
        action["hyperliquidChain"] = chain
        action.setdefault("signatureChainId", "0x66eee")
        return self.sign_digest(user_signed_action_digest(action, spec))

    def __repr__(self) -> str:
        return f"HyperliquidSigner(address={self._checksum_address}, is_mainnet={self._is_mainnet})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("HyperliquidSigner holds a private key and cannot be pickled or copied")
