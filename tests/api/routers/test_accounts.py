"""``/accounts``: an agent wallet approved by its account is registered (checked read-only at a
real simulator), stored encrypted and never returned; a master key or an unapproved key is
refused; a strategy on such an account starts on that account, signed by its agent key."""

from __future__ import annotations

import time
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from cryptography.fernet import Fernet

from adapters.hyperliquid.signing import HyperliquidSigner
from adapters.hyperliquid.signing import address_from_private_key
from api.node_link import DetachedNodeLink
from api.node_link import NodeRefused
from api.node_link import TradingAccount
from api.secrets import open_secret_store
from api.settings import ApiSettings
from jarvis.testkit import fund_test_account
from simulator.app import SimConfig
from simulator.app import SimThread
from tests.api.conftest import REDIS_URL
from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar

MASTER_KEY = "0x" + "a7" * 32
AGENT_KEY = "0x" + "b8" * 32
STRANGER_KEY = "0x" + "c9" * 32
MASTER = address_from_private_key(MASTER_KEY).lower()


def _approve(base_url: str, agent: str) -> None:
    signer = HyperliquidSigner(MASTER_KEY, is_mainnet=False)
    nonce = time.time_ns() // 1_000_000
    action: dict[str, Any] = {"type": "approveAgent", "agentAddress": agent, "agentName": ""}
    action["nonce"] = nonce
    signature = signer.sign_user_signed_action(action)
    action.pop("agentName")
    body = {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}
    answer = httpx.post(f"{base_url}/exchange", json=body, timeout=30).json()
    assert answer["status"] == "ok", answer


@pytest.fixture
def sim() -> Iterator[SimThread]:
    with SimThread(SimConfig(coins=("BTC",), market=False)) as running:
        fund_test_account(running, MASTER, 1_000)  # the venue knows only funded accounts
        yield running


@pytest.fixture
def wallet_sidecar(
    sidecar_factory: Callable[..., Sidecar], sim: SimThread, tmp_path: Path
) -> Sidecar:
    return sidecar_factory(
        venue_http_url=sim.base_url,
        secrets_key=Fernet.generate_key().decode(),
        secrets_dir=tmp_path / "secrets",
    )


def test_approved_agent_is_registered_and_its_key_never_returned(
    wallet_sidecar: Sidecar, sim: SimThread, tmp_path: Path
) -> None:
    _approve(sim.base_url, address_from_private_key(AGENT_KEY))
    body = {"account_address": MASTER, "agent_private_key": AGENT_KEY}
    with wallet_sidecar.client("alice") as alice, wallet_sidecar.client("bob") as bob:
        created = alice.post("/accounts", json=body)
        listed = alice.get("/accounts")
        bobs = bob.get("/accounts")

    assert created.status_code == 201, created.text
    assert created.json()["agent_address"] == address_from_private_key(AGENT_KEY).lower()
    assert AGENT_KEY[2:] not in created.text + listed.text
    assert [w["account_address"] for w in listed.json()] == [MASTER]
    assert bobs.json() == []
    files = list((tmp_path / "secrets").iterdir())
    assert len(files) == 1 and AGENT_KEY[2:].encode() not in files[0].read_bytes()


def test_master_key_is_refused(wallet_sidecar: Sidecar) -> None:
    body = {"account_address": MASTER, "agent_private_key": MASTER_KEY}
    with wallet_sidecar.client("alice") as alice:
        response = alice.post("/accounts", json=body)

    assert response.status_code == 422
    assert "master" in response.json()["detail"]
    assert MASTER_KEY[2:] not in response.text


def test_unapproved_key_is_refused_with_the_venue_check_reason(wallet_sidecar: Sidecar) -> None:
    body = {"account_address": MASTER, "agent_private_key": STRANGER_KEY}
    with wallet_sidecar.client("alice") as alice:
        response = alice.post("/accounts", json=body)

    assert response.status_code == 422
    assert "is not an API wallet approved for account" in response.json()["detail"]


def test_malformed_key_is_422_naming_the_field_without_echoing_it(wallet_sidecar: Sidecar) -> None:
    body = {"account_address": MASTER, "agent_private_key": "0xdeadbeefcafe"}
    with wallet_sidecar.client("alice") as alice:
        response = alice.post("/accounts", json=body)

    assert response.status_code == 422
    assert "deadbeefcafe" not in response.text


class RecordingLink(DetachedNodeLink):
    """Stands in for the node's in-process link (``InProcessNodeLink``): records the account
    each start is asked to trade from; ``refuse`` makes it refuse as the node's router does."""

    def __init__(self) -> None:
        self.accounts: list[TradingAccount | None] = []
        self.refuse: str | None = None

    def connected(self) -> bool:
        return True

    def feed_healthy(self) -> bool:
        return True

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        if self.refuse is not None:
            raise NodeRefused(self.refuse)
        self.accounts.append(account)
        return f"DirectBuy-{config['config']['order_id_tag']}"


@dataclass
class Linked:
    """A sidecar on a ``RecordingLink`` node in both link modes (``node_sidecar_factory``),
    with the secret store opened on the node's side from the same key and directory."""

    mode: str
    sidecar: Sidecar
    node: RecordingLink
    namespace: str | None


@pytest.fixture
def linked(
    node_sidecar_factory: Callable[..., NodeSidecar], sim: SimThread, tmp_path: Path
) -> Linked:
    key = Fernet.generate_key().decode()
    settings = {"venue_http_url": sim.base_url, "secrets_key": key,
                "secrets_dir": tmp_path / "secrets"}  # fmt: skip
    # The node's own store (used over Redis): opened from its settings, not handed over by the
    # sidecar.
    secrets = open_secret_store(ApiSettings(secrets_key=key, secrets_dir=tmp_path / "secrets"))
    started = node_sidecar_factory(RecordingLink(), secrets, **settings)
    return Linked(started.mode, started.sidecar, started.node, started.namespace)


def _broker_text(namespace: str) -> bytes:
    """Every stream entry, hash, list and string of the namespace, as bytes."""
    client: Any = redis.Redis.from_url(REDIS_URL)
    chunks: list[bytes] = []
    for key in client.scan_iter(match=f"{namespace}:*"):
        kind = client.type(key).decode()
        if kind == "stream":
            chunks += [v for _, fields in client.xrange(key) for v in fields.values()]
        elif kind == "hash":
            chunks += list(client.hgetall(key).values())
        elif kind == "list":
            chunks += client.lrange(key, 0, -1)
        elif kind == "string":
            chunks.append(client.get(key) or b"")
    client.close()
    return b"\n".join(chunks)


def _start_on_account(sidecar: Sidecar, sim: SimThread, text: str) -> tuple[Any, Any]:
    _approve(sim.base_url, address_from_private_key(AGENT_KEY))
    with sidecar.client("alice") as alice:
        alice.post("/accounts", json={"account_address": MASTER, "agent_private_key": AGENT_KEY})
        plan_id = alice.post("/intents", json={"text": text}).json()["plan_id"]
        strategy = alice.post("/strategies", json={"plan_id": plan_id}).json()
        start = alice.post(f"/strategies/{strategy['strategy_id']}/start")
    return strategy, start


def test_strategy_on_a_user_account_starts_on_that_account_with_its_agent_key(
    linked: Linked, sim: SimThread, tmp_path: Path
) -> None:
    """The node is asked to trade from the registered account with the key decrypted from the
    secret store; over Redis the node reads the key from the store itself, and no broker entry
    holds it (the node's side of it: tests/e2e/test_user_accounts_on_simulator.py and
    tests/e2e/test_user_accounts_over_redis.py)."""
    strategy, start = _start_on_account(linked.sidecar, sim, "buy 0.01 BTC at 60000")
    (stored,) = (tmp_path / "secrets").iterdir()

    assert strategy["account"] == MASTER
    assert start.status_code == 200, start.text
    assert linked.node.accounts == [TradingAccount(MASTER, AGENT_KEY, stored.stem)]
    assert AGENT_KEY[2:] not in start.text + repr(linked.node.accounts)
    if linked.namespace is not None:
        broker = _broker_text(linked.namespace)
        assert MASTER.encode() in broker and stored.stem.encode() in broker  # the reference
        assert AGENT_KEY[2:].encode() not in broker
        assert AGENT_KEY[2:].upper().encode() not in broker


def test_a_second_strategy_on_a_coin_already_active_on_the_account_is_409(
    linked: Linked, sim: SimThread
) -> None:
    strategy, _ = _start_on_account(linked.sidecar, sim, "buy 0.01 BTC at 60000")
    with linked.sidecar.client("alice") as alice:
        again = alice.post("/strategies", json={"plan_id": strategy["plan_id"]})

    assert again.status_code == 409, again.text
    assert "one net position per coin per account" in again.json()["detail"]


def test_the_nodes_refusal_of_an_account_strategy_is_409_with_its_reason(
    linked: Linked, sim: SimThread
) -> None:
    """The node's own check (its router: a coin a running strategy already trades on that
    account) reaches the caller as 409 with the node's words, in-process and over Redis."""
    linked.node.refuse = "ETH is already traded by running strategy X on account HL_0xabc"
    strategy, start = _start_on_account(linked.sidecar, sim, "buy 0.01 BTC at 60000")
    with linked.sidecar.client("alice") as alice:
        after = alice.get(f"/strategies/{strategy['strategy_id']}").json()

    assert start.status_code == 409, start.text
    assert "already traded by running strategy X" in start.json()["detail"]
    assert after["state"] == "created"  # the node refused, so the row did not move


def test_without_a_secrets_key_registration_is_503(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.post(
            "/accounts", json={"account_address": MASTER, "agent_private_key": AGENT_KEY}
        )

    assert response.status_code == 503
    assert "JARVIS_SECRETS_KEY" in response.json()["detail"]
