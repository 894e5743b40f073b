"""The shared names and codec of the multi-node set: routing is stable and spreads users, the
codec round-trips and refuses entries it did not write."""

from __future__ import annotations

import subprocess
import sys

import pytest

from api.streams import StreamNames
from api.streams import decode
from api.streams import encode
from api.streams import node_for_user
from api.streams import node_trader_id


def test_routing_is_the_same_in_another_process() -> None:
    users = [f"user-{i}" for i in range(20)]
    here = [node_for_user(u, 3) for u in users]
    code = f"from api.streams import node_for_user;print([node_for_user(u, 3) for u in {users!r}])"
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there == str(here)


def test_routing_spreads_users_over_every_node() -> None:
    counts = [0, 0]
    for i in range(1000):
        counts[node_for_user(f"00000000-0000-4000-8000-{i:012d}", 2)] += 1
    assert all(400 < c < 600 for c in counts), counts


def test_routing_refuses_zero_nodes() -> None:
    with pytest.raises(ValueError, match="nodes must be >= 1"):
        node_for_user("u", 0)


def test_codec_round_trips_as_redis_returns_it() -> None:
    message = {"id": "c1", "op": "start", "args": {"config": {"a": [1, 2]}, "owner": "u"}}
    fields = {k.encode(): v.encode() for k, v in encode(message).items()}
    assert decode(fields) == message  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "error"),
    [({b"x": b"{}"}, "without a message field"), ({b"m": b"[1]"}, "not an object")],
)
def test_codec_names_what_was_wrong(fields: dict[bytes, bytes], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        decode(fields)  # type: ignore[arg-type]


def test_names_and_trader_ids_are_per_node() -> None:
    names = StreamNames("ns")
    assert names.commands(0) != names.commands(1)
    assert names.strategies(1).startswith("ns:")
    assert node_trader_id("JARVIS-SIM", 1) == "JARVIS-N1"
    assert node_trader_id("JARVIS-SIM", 0) != node_trader_id("JARVIS-SIM", 1)
