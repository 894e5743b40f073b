"""The Redis names and message codec shared by the sidecar and its node processes.

Why here: the sidecar (``api.redis_link``) and each node (``api.node_worker``) must agree on the
keys and the wire form, and neither may import the other. Every key lives under one namespace so
several sets (or tests) share one Redis without touching each other's keys.

* ``<ns>:node:<i>:commands``  stream the sidecar writes, node ``i`` reads with a consumer group
* ``<ns>:events``             stream every node writes its events and heartbeats to
* ``<ns>:reply:<command id>`` list holding one command's answer (the sidecar waits on it)
* ``<ns>:node:<i>:done:<id>`` one command's answer, kept a day (a re-delivered command runs
  once)
* ``<ns>:node:<i>:strategies`` hash: node strategy id -> {config, owner, running}
* ``<ns>:control``            the last operator control ({mode, reason}); a node applies it on
  start, before it takes commands
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from typing import Final

__all__ = [
    "COMMANDS_MAXLEN",
    "COMMAND_GROUP",
    "HEARTBEAT_INTERVAL_SECS",
    "NODE_DOWN_AFTER_SECS",
    "StreamNames",
    "decode",
    "encode",
    "node_for_user",
    "node_trader_id",
]

HEARTBEAT_INTERVAL_SECS: Final[float] = 0.5
NODE_DOWN_AFTER_SECS: Final[float] = 5.0
"""Ten missed heartbeats: long enough for a busy 2-core machine, short enough that a user learns
within seconds that their strategy is not being watched."""
COMMAND_GROUP: Final[str] = "node"
EVENTS_MAXLEN: Final[int] = 10_000
COMMANDS_MAXLEN: Final[int] = 10_000
REPLY_TTL_SECS: Final[int] = 60
DONE_TTL_SECS: Final[int] = 24 * 3600


@dataclass(frozen=True, slots=True)
class StreamNames:
    """Every key of one namespace."""

    namespace: str = "jarvis"

    def commands(self, node: int) -> str:
        """Node ``node``'s command stream."""
        return f"{self.namespace}:node:{node}:commands"

    @property
    def events(self) -> str:
        """The stream every node writes events and heartbeats to."""
        return f"{self.namespace}:events"

    def reply(self, command_id: str) -> str:
        """The list one command's answer is pushed to."""
        return f"{self.namespace}:reply:{command_id}"

    def done(self, node: int, command_id: str) -> str:
        """The answer of a command node ``node`` has run (or ``__running__`` while it runs)."""
        return f"{self.namespace}:node:{node}:done:{command_id}"

    def strategies(self, node: int) -> str:
        """The strategies node ``node`` runs (restored when it restarts)."""
        return f"{self.namespace}:node:{node}:strategies"

    @property
    def control(self) -> str:
        """The last operator control, applied by a node before it takes commands."""
        return f"{self.namespace}:control"


def node_for_user(user_id: str, nodes: int) -> int:
    """The node a user's strategies run on: SHA-256 of the id over the node count (stable across
    processes and restarts, unlike ``hash()``)."""
    if nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {nodes}")
    digest = hashlib.sha256(user_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % nodes


def node_trader_id(base: str, node: int) -> str:
    """Node ``node``'s trader id: its Redis-backed cache and its order ids are its own (the tag
    keeps NautilusTrader's 'name-tag' form)."""
    name = base.split("-", 1)[0]
    return f"{name}-N{node}"


def encode(message: dict[str, Any]) -> dict[str, str]:
    """A message as stream fields: one JSON field (values keep their types)."""
    return {"m": json.dumps(message, separators=(",", ":"), default=str)}


def decode(fields: dict[bytes | str, bytes | str]) -> dict[str, Any]:
    """The message of a stream entry written by ``encode``."""
    raw = fields.get(b"m", fields.get("m"))
    if raw is None:
        raise ValueError(f"stream entry without a message field: {sorted(map(str, fields))}")
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"stream message is not an object: {type(value).__name__}")
    return value
