"""``GET /events/stream``: the caller's events with ids, live and replayed after Last-Event-ID,
also after the sidecar restarted (the history is kept in the database, bounded per user); what
the node publishes reaches its owner's stream only, in-process and over Redis."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from api.app import create_app
from api.identity import LocalSigningKey
from api.identity import TokenVerifier
from api.storage.event_log import EventLog
from tests.api.conftest import NodeSidecar
from tests.api.conftest import Sidecar
from tests.api.conftest import make_settings
from tests.api.conftest import serve


def _frames(text: str) -> list[dict[str, str]]:
    out = []
    for block in text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if fields:
            out.append(fields)
    return out


def test_reconnecting_with_last_event_id_gets_only_what_was_missed(sidecar: Sidecar) -> None:
    hub = sidecar.state.hub
    user = sidecar.state.store.user_for_subject("alice", ("trader",), 0)
    first = hub.publish(user.id, "fill", {"n": 1})
    hub.publish(user.id, "fill", {"n": 2})
    hub.publish(user.id, "position", {"n": 3})

    with (
        sidecar.client("alice") as alice,
        alice.stream(
            "GET", "/events/stream", params={"limit": 2}, headers={"Last-Event-ID": str(first.id)}
        ) as stream,
    ):
        frames = _frames("".join(stream.iter_text()))

    assert [(f["event"], f["data"]) for f in frames] == [
        ("fill", '{"n":2}'),
        ("position", '{"n":3}'),
    ]
    assert [int(f["id"]) for f in frames] == [first.id + 1, first.id + 2]


def test_live_event_reaches_a_connected_stream(sidecar: Sidecar) -> None:
    hub = sidecar.state.hub
    user = sidecar.state.store.user_for_subject("alice", ("trader",), 0)

    def publish_when_subscribed() -> None:
        deadline = time.monotonic() + 30
        while hub.subscribers(user.id) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        hub.publish(user.id, "fill", {"px": "60000"})

    thread = threading.Thread(target=publish_when_subscribed)
    thread.start()
    with (
        sidecar.client("alice") as alice,
        alice.stream("GET", "/events/stream", params={"limit": 1}) as stream,
    ):
        frames = _frames("".join(stream.iter_text()))
    thread.join()

    assert [(f["event"], f["data"]) for f in frames] == [("fill", '{"px":"60000"}')]


def test_bad_last_event_id_is_400_naming_the_header(sidecar: Sidecar) -> None:
    with sidecar.client("alice") as alice:
        response = alice.get("/events/stream", headers={"Last-Event-ID": "abc"})

    assert response.status_code == 400
    assert "Last-Event-ID" in response.json()["detail"]


def _run_sidecar(db_url: str, keys: LocalSigningKey, history: int = 1000) -> Iterator[Sidecar]:
    verifier = TokenVerifier(public_key_pem=keys.public_path.read_bytes())
    app = create_app(make_settings(db_url, event_history_per_user=history), verifier=verifier)
    for url in serve(app):
        yield Sidecar(url, app, keys)


def test_last_event_id_resumes_after_a_sidecar_restart(db_url: str, tmp_path: Path) -> None:
    """Events published before a restart are replayed after it, only those after the client's
    Last-Event-ID, and new events get ids above the old ones (on SQLite and PostgreSQL)."""
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    with contextlib.contextmanager(_run_sidecar)(db_url, keys) as before:
        user = before.state.store.user_for_subject("alice", ("trader",), 0)
        seen = before.state.hub.publish(user.id, "fill", {"n": 1})
        before.state.hub.publish(user.id, "fill", {"n": 2})
        before.state.hub.publish(user.id, "position", {"n": 3})
    with contextlib.contextmanager(_run_sidecar)(db_url, keys) as after:
        later = after.state.hub.publish(user.id, "order", {"n": 4})
        with (
            after.client("alice") as alice,
            alice.stream(
                "GET",
                "/events/stream",
                params={"limit": 3},
                headers={"Last-Event-ID": str(seen.id)},
            ) as stream,
        ):
            frames = _frames("".join(stream.iter_text()))

    assert [(f["event"], f["data"]) for f in frames] == [
        ("fill", '{"n":2}'),
        ("position", '{"n":3}'),
        ("order", '{"n":4}'),
    ]
    assert later.id == seen.id + 3


def test_kept_history_is_bounded_per_user_across_restarts(db_url: str, tmp_path: Path) -> None:
    keys = LocalSigningKey(tmp_path / "keys")
    keys.ensure()
    with contextlib.contextmanager(_run_sidecar)(db_url, keys, history=3) as before:
        alice = before.state.store.user_for_subject("alice", ("trader",), 0)
        bob = before.state.store.user_for_subject("bob", ("trader",), 0)
        for n in range(5):
            before.state.hub.publish(alice.id, "fill", {"n": n})
        before.state.hub.publish(bob.id, "fill", {"n": 99})
    with contextlib.contextmanager(_run_sidecar)(db_url, keys, history=3) as after:
        alice_kept = [e.data["n"] for e in after.state.hub.since(alice.id, 0)]
        bob_kept = [e.data["n"] for e in after.state.hub.since(bob.id, 0)]
        rows = EventLog(after.state.database, 3).recent()

    assert alice_kept == [2, 3, 4]
    assert bob_kept == [99]
    assert len(rows) == 4


def test_an_event_the_node_publishes_reaches_its_owners_stream_and_no_one_elses(
    node_sidecar: NodeSidecar,
) -> None:
    """In-process the node publishes to the sidecar's hub; over Redis to the events stream,
    which the sidecar relays. Bob's event goes out first: a stream that mixed users up would
    show it to alice."""
    sidecar, node = node_sidecar.sidecar, node_sidecar.node
    store, hub = sidecar.state.store, sidecar.state.hub
    alice = store.user_for_subject("alice", ("trader",), 0)
    bob = store.user_for_subject("bob", ("trader",), 0)
    node.publish(bob.id, "fill", {"px": "100"})
    node.publish(alice.id, "fill", {"px": "60000"})
    node.publish(alice.id, "position", {"side": "LONG"})
    # Relayed (over Redis asynchronously): read the streams once all three are kept, so a
    # stream that waits for an event that never comes fails here, not by hanging.
    deadline = time.monotonic() + 10
    while len(hub.since(alice.id, 0)) + len(hub.since(bob.id, 0)) < 3:
        assert time.monotonic() < deadline, "the node's events did not reach the sidecar"
        time.sleep(0.02)
    with sidecar.client("alice") as client, client.stream(
        "GET", "/events/stream", params={"limit": 2}
    ) as stream:  # fmt: skip
        alices = _frames("".join(stream.iter_text()))
    with sidecar.client("bob") as client, client.stream(
        "GET", "/events/stream", params={"limit": 1}
    ) as stream:  # fmt: skip
        bobs = _frames("".join(stream.iter_text()))

    assert [(f["event"], f["data"]) for f in alices] == [
        ("fill", '{"px":"60000"}'),
        ("position", '{"side":"LONG"}'),
    ]
    assert [(f["event"], f["data"]) for f in bobs] == [("fill", '{"px":"100"}')]
    assert len(hub.since(alice.id, 0)) == 2 and len(hub.since(bob.id, 0)) == 1
