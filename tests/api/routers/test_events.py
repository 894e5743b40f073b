"""``GET /events/stream``: the caller's events with ids, live and replayed after Last-Event-ID."""

from __future__ import annotations

import threading
import time

from tests.api.conftest import Sidecar


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
