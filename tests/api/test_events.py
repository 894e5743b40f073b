"""The event hub keeps a bounded per-user history with global ids and wakes waiting streams."""

from __future__ import annotations

import asyncio
import threading

import pytest

from api.events import EventHub


def test_since_returns_only_that_users_events_after_the_id() -> None:
    hub = EventHub(history=10)
    a1 = hub.publish("a", "fill", {"n": 1})
    hub.publish("b", "fill", {"n": 2})
    a3 = hub.publish("a", "fill", {"n": 3})

    assert [e.id for e in hub.since("a", 0)] == [a1.id, a3.id]
    assert [e.id for e in hub.since("a", a1.id)] == [a3.id]


def test_history_is_bounded_per_user() -> None:
    hub = EventHub(history=3)
    for n in range(5):
        hub.publish("a", "fill", {"n": n})

    assert [e.data["n"] for e in hub.since("a", 0)] == [2, 3, 4]


def test_publish_from_another_thread_wakes_a_waiting_stream() -> None:
    hub = EventHub()

    async def wait_for_event() -> list[int]:
        flag = hub.register("a")
        thread = threading.Thread(target=hub.publish, args=("a", "fill", {}))
        thread.start()
        await asyncio.wait_for(flag.wait(), timeout=30)
        thread.join()
        hub.unregister("a", flag)
        return [e.id for e in hub.since("a", 0)]

    assert asyncio.run(wait_for_event()) == [1]
    assert hub.subscribers("a") == 0


def test_history_must_be_positive() -> None:
    with pytest.raises(ValueError, match="history must be positive"):
        EventHub(history=0)
