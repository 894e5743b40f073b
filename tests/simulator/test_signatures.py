"""The simulator's signer recovery, checked against the reference SDK's signers.

Actions are signed by the unmodified hyperliquid-python-sdk and by the adapter's own signer;
the simulator must recover the same wallet from both (it shares no code with the adapter).
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from hyperliquid.utils import signing as sdk

from adapters.hyperliquid.signing import HyperliquidSigner
from simulator.signatures import USER_SIGNED_TYPES
from simulator.signatures import SignatureRejected
from simulator.signatures import recover_l1
from simulator.signatures import recover_user_signed

KEY = "0x" + "4c" * 32
WALLET = Account.from_key(KEY)
ADDRESS = WALLET.address.lower()
NONCE = 1_760_000_000_000
ORDER = {
    "type": "order",
    "orders": [
        {"a": 0, "b": True, "p": "50000", "s": "0.001", "r": False, "t": {"limit": {"tif": "Gtc"}}}
    ],
    "grouping": "na",
}
VAULT = "0x" + "3f" * 20


@pytest.mark.parametrize("is_mainnet", [False, True])
@pytest.mark.parametrize(("vault", "expires_after"), [(None, None), (VAULT, NONCE + 60_000)])
def test_l1_signer_is_recovered_from_an_sdk_signature(
    is_mainnet: bool, vault: str | None, expires_after: int | None
) -> None:
    signature = sdk.sign_l1_action(WALLET, ORDER, vault, NONCE, expires_after, is_mainnet)

    assert recover_l1(ORDER, NONCE, vault, expires_after, is_mainnet, signature) == ADDRESS


def test_l1_signature_for_the_other_network_recovers_another_address() -> None:
    signature = sdk.sign_l1_action(WALLET, ORDER, None, NONCE, None, True)

    assert recover_l1(ORDER, NONCE, None, None, False, signature) != ADDRESS


def test_l1_signer_is_recovered_from_the_adapters_signature() -> None:
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    signature = signer.sign_l1_action(ORDER, NONCE)

    assert recover_l1(ORDER, NONCE, None, None, False, dict(signature)) == ADDRESS


def test_a_malformed_signature_is_rejected_not_crashed() -> None:
    signature = sdk.sign_l1_action(WALLET, ORDER, None, NONCE, None, False)

    with pytest.raises(SignatureRejected):
        recover_l1(ORDER, NONCE, None, None, False, {**signature, "r": "0xzz"})
    with pytest.raises(SignatureRejected):
        recover_l1(ORDER, NONCE, None, None, False, {"r": signature["r"]})


def _user_signed_cases() -> list[tuple[Any, dict[str, Any]]]:
    chain = {"signatureChainId": "0x66eee"}
    return [
        (
            sdk.sign_usd_transfer_action,
            {"type": "usdSend", "destination": VAULT, "amount": "1", "time": NONCE, **chain},
        ),
        (
            sdk.sign_spot_transfer_action,
            {
                "type": "spotSend",
                "destination": VAULT,
                "token": "USDC:0x6d1e7cde53ba9467b783cb7c530ce054",
                "amount": "1",
                "time": NONCE,
                **chain,
            },
        ),
        (
            sdk.sign_withdraw_from_bridge_action,
            {"type": "withdraw3", "destination": VAULT, "amount": "2", "time": NONCE, **chain},
        ),
        (
            sdk.sign_usd_class_transfer_action,
            {"type": "usdClassTransfer", "amount": "5", "toPerp": True, "nonce": NONCE, **chain},
        ),
        (
            sdk.sign_send_asset_action,
            {
                "type": "sendAsset",
                "destination": VAULT,
                "sourceDex": "",
                "destinationDex": "spot",
                "token": "USDC",
                "amount": "1",
                "fromSubAccount": "",
                "nonce": NONCE,
                **chain,
            },
        ),
        (
            sdk.sign_token_delegate_action,
            {
                "type": "tokenDelegate",
                "validator": VAULT,
                "wei": 100,
                "isUndelegate": False,
                "nonce": NONCE,
                **chain,
            },
        ),
        (
            sdk.sign_agent,
            {
                "type": "approveAgent",
                "agentAddress": VAULT,
                "agentName": "bot",
                "nonce": NONCE,
                **chain,
            },
        ),
        (
            sdk.sign_approve_builder_fee,
            {
                "type": "approveBuilderFee",
                "maxFeeRate": "0.001%",
                "builder": VAULT,
                "nonce": NONCE,
                **chain,
            },
        ),
    ]


def test_every_user_signed_type_is_covered_by_the_cases() -> None:
    assert {case["type"] for _, case in _user_signed_cases()} == set(USER_SIGNED_TYPES)


@pytest.mark.parametrize(
    ("sign", "action"), _user_signed_cases(), ids=lambda v: getattr(v, "__name__", "")
)
@pytest.mark.parametrize("is_mainnet", [False, True])
def test_user_signed_signer_is_recovered_for_every_type(
    sign: Any, action: dict[str, Any], is_mainnet: bool
) -> None:
    action = dict(action)
    signature = sign(WALLET, action, is_mainnet)  # the SDK writes hyperliquidChain into action

    assert recover_user_signed(action, signature, is_mainnet) == ADDRESS


@pytest.mark.parametrize("claimed_chain", ["Mainnet", "Testnet"])
def test_user_signed_action_for_the_other_network_never_recovers_the_signer(
    claimed_chain: str,
) -> None:
    action = {"type": "usdClassTransfer", "amount": "5", "toPerp": True, "nonce": NONCE}
    action["signatureChainId"] = "0x66eee"
    signature = sdk.sign_usd_class_transfer_action(WALLET, action, True)  # signed for Mainnet
    action["hyperliquidChain"] = claimed_chain  # whatever the body then claims

    assert recover_user_signed(action, signature, False) != ADDRESS


def test_unnamed_agent_body_without_agent_name_recovers_like_the_sdk_signed_it() -> None:
    action = {"type": "approveAgent", "agentAddress": VAULT, "agentName": "", "nonce": NONCE}
    signature = sdk.sign_agent(WALLET, action, False)
    del action["agentName"]  # as the SDK posts an unnamed agent

    assert recover_user_signed(action, signature, False) == ADDRESS


def test_unknown_user_signed_type_is_rejected() -> None:
    with pytest.raises(SignatureRejected):
        recover_user_signed(
            {"type": "mystery", "nonce": NONCE}, {"r": "0x1", "s": "0x1", "v": 27}, False
        )
