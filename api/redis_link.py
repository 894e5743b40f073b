"""The sidecar's link to several node processes over Redis streams.

Each user's strategies go to one node (``node_for_user``: a stable hash of the user id); a
command is an entry on that node's command stream and its answer comes back on a per-command
list. One listener thread reads the shared events stream: user events go to the ``EventHub``,
heartbeats keep each node's last known state. A node silent for ``down_after_secs`` is marked
down: every strategy it ran is reported interrupted (an SSE event to its owner, and
``interruption()`` for ``GET /strategies/{id}``). It is up again only when its heartbeat says
``ready``, which the node says after reconciling its orders with the venue and restoring its
strategies (``api.node_worker``).

While a node is down:

* ``stop`` and ``cancel`` (they only take risk off) are queued, not refused: the entry waits in
  the node's command stream, the caller gets ``CommandQueued`` (HTTP 202, "has not run yet"), and
  the node runs it once when it is back and has reconciled -- unless it is older than
  ``queue_ttl_secs`` by then, when it is refused. Either way the owner gets a ``command.result``
  event and ``open``'s ``on_result`` callback brings the database up to date.
* ``start`` (new risk), ``control`` and reads are refused at once (503 naming the node): nothing
  new should be taken on where nothing watches it, and a HALT is kept and applied on return.

The listener resumes after the last events-stream entry it relayed (kept in Redis,
``StreamNames.events_read``), so what nodes wrote while the sidecar was down still reaches the
users (at least once: a crash between relaying and saving the position repeats a batch). Events
the stream has trimmed meanwhile (``EVENTS_MAXLEN``, some tens of minutes of heartbeats) are lost.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any

import redis

from api.events import EventHub
from api.node_link import EMPTY_OVERVIEW
from api.node_link import CommandQueued
from api.node_link import ControlState
from api.node_link import NodeOverview
from api.node_link import NodeRefused
from api.node_link import NodeUnavailable
from api.node_link import QueuedResult
from api.node_link import StrategyStatus
from api.node_link import TradingAccount
from api.streams import COMMANDS_MAXLEN
from api.streams import NODE_DOWN_AFTER_SECS
from api.streams import QUEUED_COMMAND_TTL_SECS
from api.streams import StreamNames
from api.streams import decode
from api.streams import encode
from api.streams import node_for_user

__all__ = ["NodeView", "RedisNodeLink"]

log = logging.getLogger("jarvis.api")

STATUS_TIMEOUT_SECS = 2.0
QUEUEABLE = ("stop", "cancel")


@dataclass(slots=True)
class NodeView:
    """What the sidecar knows of one node from its heartbeats."""

    last_beat: float | None = None  # monotonic
    beat: dict[str, Any] | None = None
    down_since_ms: int | None = None
    down_reason: str | None = None
    # The mode the node answered to the last control, and when (the node's clock): heartbeats
    # stamped before it say the mode before the control, so they do not override it.
    control_mode: str | None = None
    control_ts_ms: int = 0


class RedisNodeLink:
    """``NodeLink`` over Redis streams to ``nodes`` node processes (``jarvis serve-node``)."""

    def __init__(
        self,
        redis_url: str,
        nodes: int,
        hub: EventHub,
        namespace: str = "jarvis",
        timeout_secs: float = 10.0,
        down_after_secs: float = NODE_DOWN_AFTER_SECS,
        queue_ttl_secs: float = QUEUED_COMMAND_TTL_SECS,
    ) -> None:
        if nodes < 1:
            raise ValueError(f"nodes must be >= 1, got {nodes}")
        # Any: redis-py's stream stubs are narrower than what it takes and returns.
        # The socket timeout outlasts the longest wait for an answer (BLPOP blocks on it).
        self._redis: Any = redis.Redis.from_url(redis_url, socket_timeout=timeout_secs + 5)
        self._redis.ping()
        self._names = StreamNames(namespace)
        self._nodes = nodes
        self._hub = hub
        self._timeout = timeout_secs
        self._down_after = down_after_secs
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._views = [NodeView() for _ in range(nodes)]
        if queue_ttl_secs <= 0:
            raise ValueError(f"queue_ttl_secs must be positive, got {queue_ttl_secs}")
        self._queue_ttl = queue_ttl_secs
        self._where: dict[str, int] = {}  # node strategy id -> node
        self._on_result: Callable[[QueuedResult], None] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="jarvis-nodes", daemon=True)

    def open(self, on_result: Callable[[QueuedResult], None]) -> None:
        """Start relaying node events (after the event history is open: the backlog of a restart
        is published at once) and report queued commands' outcomes to ``on_result``."""
        self._on_result = on_result
        if not self._thread.is_alive():
            self._started = time.monotonic()
            self._thread.start()

    # -- the listener --------------------------------------------------------------------------

    def _resume_from(self) -> str:
        """After the last entry relayed; on the very first start, after the stream's newest (the
        position is saved at once, so a sidecar stopped before any event still resumes there)."""
        saved = self._redis.get(self._names.events_read)
        if saved is not None:
            return _text(saved)
        newest = self._redis.xrevrange(self._names.events, count=1)
        last = _text(newest[0][0]) if newest else "0-0"
        self._redis.set(self._names.events_read, last)
        return last

    def _listen(self) -> None:
        last: str | None = None
        while not self._stop.is_set():
            try:
                if last is None:
                    last = self._resume_from()
                answer = self._redis.xread({self._names.events: last}, count=500, block=200)
            except redis.RedisError:
                self._stop.wait(0.5)
                answer = []
            read = last
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    read = _text(entry_id)
                    try:
                        self._on_message(decode(fields))
                    except (ValueError, KeyError, TypeError):
                        continue  # a malformed entry is skipped, the stream goes on
            if read != last and read is not None:
                try:
                    self._redis.set(self._names.events_read, read)
                    last = read
                except redis.RedisError:
                    last = read  # relayed; a restart before the next save repeats this batch
            self._check_liveness()

    def _on_message(self, message: dict[str, Any]) -> None:
        node = int(message["node"])
        if not 0 <= node < self._nodes:
            return
        if message["type"] == "event":
            self._hub.publish(str(message["user"]), str(message["kind"]), message["data"])
            return
        if message["type"] == "command_result":
            self._on_command_result(node, message)
            return
        if message["type"] != "heartbeat":
            return
        if int(message.get("ts_ms", 0)) < (time.time() - self._down_after) * 1000:
            return  # a beat from before a sidecar restart says nothing about the node now
        view = self._views[node]
        ready = bool(message.get("ready"))
        with self._lock:
            # A node that said ready and now says not ready has restarted between two beats:
            # its strategies were not watched for a while, the same as a silent node's.
            restarted = view.down_since_ms is None and bool((view.beat or {}).get("ready"))
            restarted = restarted and not ready
            if restarted:
                view.down_since_ms = int(time.time() * 1000)
                view.down_reason = (
                    f"node {node} restarted at {_iso(view.down_since_ms)}: its strategies are "
                    "not watched until it has reconciled its orders with the venue"
                )
            view.last_beat = time.monotonic()
            view.beat = message
            back = view.down_since_ms is not None and ready
            if back:
                view.down_since_ms = None
                view.down_reason = None
        if restarted:
            self._interrupt(node)
        if back:
            log.warning("node %d is back: reconciled with the venue, taking commands", node)
            for sid, entry in self._registry(node).items():
                self._hub.publish(entry["owner"], "strategy.resumed",
                                  {"node_strategy_id": sid, "node": node})  # fmt: skip

    def _on_command_result(self, node: int, message: dict[str, Any]) -> None:
        reply = message["reply"]
        args = message.get("args") or {}
        result = QueuedResult(
            command_id=str(message["id"]),
            user_id=str(message["user"]),
            op=str(message["op"]),
            node_strategy_id=str(args.get("node_strategy_id")),
            close=bool(args.get("close")),
            ok=bool(reply.get("ok")),
            error=None if reply.get("ok") else str(reply.get("error")),
        )
        if self._on_result is not None:
            try:
                self._on_result(result)
            except Exception as exc:  # the listener goes on; the event below still goes out
                log.error("queued command %s: recording its outcome failed: %s",
                          result.command_id, type(exc).__name__)  # fmt: skip
        self._hub.publish(result.user_id, "command.result", {
            "command_id": result.command_id, "op": result.op, "node": node,
            "node_strategy_id": result.node_strategy_id, "ok": result.ok, "error": result.error,
        })  # fmt: skip

    def _check_liveness(self) -> None:
        now = time.monotonic()
        for node, view in enumerate(self._views):
            with self._lock:
                silent_since = view.last_beat if view.last_beat is not None else self._started
                if view.down_since_ms is not None or now - silent_since < self._down_after:
                    continue
                view.down_since_ms = int(time.time() * 1000) - int((now - silent_since) * 1000)
                view.down_reason = (
                    f"node {node} has sent no heartbeat since {_iso(view.down_since_ms)}: its "
                    "strategies are not watched; their orders stay at the venue and are "
                    "reconciled when the node returns"
                )
            self._interrupt(node)

    def _interrupt(self, node: int) -> None:
        """Tell every owner of a strategy on ``node`` that it is not watched, and why."""
        reason = self._down_reason(node)
        registry = self._registry(node)
        log.warning("node %d down: %s (%d strategies interrupted)", node, reason, len(registry))
        for sid, entry in registry.items():
            self._hub.publish(
                entry["owner"],
                "strategy.interrupted",
                {"node_strategy_id": sid, "node": node, "reason": reason},
            )

    def _registry(self, node: int) -> dict[str, dict[str, Any]]:
        """The strategies node ``node`` runs, as it recorded them."""
        raw = self._redis.hgetall(self._names.strategies(node))
        entries = {_text(k): json.loads(v) for k, v in raw.items()}
        return {sid: e for sid, e in entries.items() if e.get("running")}

    def _down_reason(self, node: int) -> str:
        return self._views[node].down_reason or f"node {node} is down"

    def _up(self, node: int) -> bool:
        view = self._views[node]
        with self._lock:
            return (
                view.down_since_ms is None
                and view.beat is not None
                and bool(view.beat.get("ready"))
                and view.last_beat is not None
                and time.monotonic() - view.last_beat < self._down_after
            )

    def _node_of(self, node_strategy_id: str) -> int | None:
        node = self._where.get(node_strategy_id)
        if node is not None:
            return node
        for candidate in range(self._nodes):
            if self._redis.hexists(self._names.strategies(candidate), node_strategy_id):
                self._where[node_strategy_id] = candidate
                return candidate
        return None

    def _command(
        self, node: int, op: str, args: dict[str, Any], timeout: float | None = None
    ) -> Any:
        if not self._up(node):
            view = self._views[node]
            why = self._down_reason(node) if view.down_since_ms else "not ready yet"
            if op in QUEUEABLE:
                self._queue(node, op, args, view.down_since_ms, why)
            raise NodeUnavailable(f"node {node} is not available: {why}")
        wait = timeout or self._timeout
        command_id = uuid.uuid4().hex
        expires_ms = int((time.time() + wait) * 1000)
        message = {"id": command_id, "op": op, "args": args, "expires_ms": expires_ms}
        try:
            self._redis.xadd(self._names.commands(node), encode(message),
                             maxlen=COMMANDS_MAXLEN, approximate=True)  # fmt: skip
            answer = self._redis.blpop([self._names.reply(command_id)], timeout=wait)
        except redis.RedisError as exc:
            raise NodeUnavailable(f"the broker failed: {type(exc).__name__}") from None
        if answer is None:
            raise NodeUnavailable(f"node {node} did not answer within {wait:g} s")
        reply = json.loads(answer[1])
        if not reply.get("ok"):
            if reply.get("refused"):  # the node's 409: a coin already traded on the account
                raise NodeRefused(str(reply.get("error")))
            raise NodeUnavailable(str(reply.get("error")))
        return reply.get("result")

    def _queue(
        self, node: int, op: str, args: dict[str, Any], down_since_ms: int | None, why: str
    ) -> None:
        """Leave the command in the down node's stream for when it returns; raises
        ``CommandQueued`` (or returns when its owner is unknown: then it is refused)."""
        raw = self._redis.hget(self._names.strategies(node), str(args.get("node_strategy_id")))
        if raw is None:
            return
        owner = str(json.loads(raw)["owner"])
        command_id = uuid.uuid4().hex
        expires_ms = int((time.time() + self._queue_ttl) * 1000)
        message = {"id": command_id, "op": op, "args": args, "expires_ms": expires_ms,
                   "queued": owner}  # fmt: skip
        try:
            self._redis.xadd(self._names.commands(node), encode(message),
                             maxlen=COMMANDS_MAXLEN, approximate=True)  # fmt: skip
        except redis.RedisError as exc:
            raise NodeUnavailable(f"the broker failed: {type(exc).__name__}") from None
        since = f"down since {_iso(down_since_ms)}" if down_since_ms else "not ready yet"
        log.warning("node %d %s: %s %s queued as %s", node, since, op,
                    args.get("node_strategy_id"), command_id)  # fmt: skip
        raise CommandQueued(
            f"queued: node {node} {since}; the {op} has NOT run yet. It runs once when the node "
            f"is back and has reconciled with the venue, if that is before {_iso(expires_ms)} "
            f"(else it is dropped); its outcome comes as a command.result event ({why})",
            command_id,
            node,
            expires_ms,
        )

    # -- NodeLink ------------------------------------------------------------------------------

    def node_for(self, user_id: str) -> int:
        """The node the user's strategies run on."""
        return node_for_user(user_id, self._nodes)

    def connected(self) -> bool:
        """Every node is up, reconciled and its execution client connected."""
        return all(
            self._up(n) and bool((self._views[n].beat or {}).get("connected"))
            for n in range(self._nodes)
        )

    def feed_healthy(self) -> bool:
        """Every node is up and reports its market data healthy."""
        return all(
            self._up(n) and bool((self._views[n].beat or {}).get("feed_healthy"))
            for n in range(self._nodes)
        )

    def start(
        self,
        config: dict[str, Any],
        owner_user_id: str,
        node_strategy_id: str | None,
        account: TradingAccount | None = None,
    ) -> str:
        """Start the strategy on the owner's node. A user account travels as its address and
        its key's reference in the secret store, never the key: the node reads the key from the
        same store itself (``api.node_worker``)."""
        args: dict[str, Any] = {"config": config, "owner": owner_user_id,
                                "node_strategy_id": node_strategy_id}  # fmt: skip
        if account is not None:
            if account.secret_ref is None:
                raise NodeRefused(
                    f"account {account.address}: its agent key has no secret-store reference, "
                    "and over Redis only a reference is sent (never the key)"
                )
            args["account"] = {"address": account.address, "secret_ref": account.secret_ref}
        node = self.node_for(owner_user_id)
        sid = str(self._command(node, "start", args))
        self._where[sid] = node
        return sid

    def _on_its_node(
        self,
        node_strategy_id: str,
        op: str,
        args: dict[str, Any],
        timeout: float | None = None,
    ) -> Any:
        node = self._node_of(node_strategy_id)
        if node is None:
            raise NodeUnavailable(f"no node knows strategy {node_strategy_id}")
        return self._command(node, op, {"node_strategy_id": node_strategy_id, **args}, timeout)

    def stop(self, node_strategy_id: str) -> None:
        """Stop the strategy on its node."""
        self._on_its_node(node_strategy_id, "stop", {})

    def cancel(self, node_strategy_id: str, close: bool) -> None:
        """Cancel the strategy's orders (and close its position if asked) on its node."""
        self._on_its_node(node_strategy_id, "cancel", {"close": close})

    def status(self, node_strategy_id: str) -> StrategyStatus | None:
        """What its node knows of the strategy; None while that node is down."""
        try:
            # A read waits less than a command: a page polling a silent node stays responsive.
            result = self._on_its_node(node_strategy_id, "status", {}, STATUS_TIMEOUT_SECS)
        except NodeUnavailable:
            return None
        return StrategyStatus(**result) if result is not None else None

    def interruption(self, node_strategy_id: str) -> str | None:
        """Why the strategy is not being watched (its node is down), or None."""
        node = self._node_of(node_strategy_id)
        if node is None or self._views[node].down_since_ms is None:
            return None
        return self._down_reason(node)

    def lost(self, node_strategy_ids: Collection[str]) -> dict[str, str]:
        """None: a restarted node adds its strategies again (Redis-backed cache), and a node
        that is down says so through ``interruption``."""
        return {}

    def overview(self, strategy_ids: frozenset[str] | None, recent: int) -> NodeOverview:
        """Every node's picture, merged: instruments once, strategies and positions of all, the
        ``recent`` newest orders and fills across nodes; the strictest RiskEngine state. A node
        that is down adds nothing (its strategies say so through ``interruption``)."""
        ids = sorted(strategy_ids) if strategy_ids is not None else None
        parts: list[dict[str, Any]] = []
        for node in range(self._nodes):
            if not self._up(node):
                continue
            try:
                part = self._command(node, "overview", {"strategy_ids": ids, "recent": recent},
                                     STATUS_TIMEOUT_SECS)  # fmt: skip
            except NodeUnavailable:
                continue
            if part is not None:
                parts.append(part)
        if not parts:
            return EMPTY_OVERVIEW
        instruments: dict[str, dict[str, Any]] = {}
        for part in parts:
            for item in part["instruments"]:
                instruments.setdefault(str(item["instrument_id"]), item)
        orders = sorted((o for p in parts for o in p["orders"]),
                        key=lambda o: int(o.get("ts_last") or 0), reverse=True)  # fmt: skip
        fills = sorted((f for p in parts for f in p["fills"]),
                       key=lambda f: int(f.get("ts_event") or 0), reverse=True)  # fmt: skip
        states = {p.get("risk_engine") for p in parts}
        strictest = next((s for s in ("HALTED", "REDUCING", "ACTIVE") if s in states), None)
        return NodeOverview(
            instruments=list(instruments.values()),
            strategies=[s for p in parts for s in p["strategies"]],
            positions=[s for p in parts for s in p["positions"]],
            orders=orders[:recent],
            fills=fills[:recent],
            risk_engine=strictest,
        )

    def control(self, mode: str, reason: str) -> ControlState:
        """Apply on every node that is up; a node that is down applies it when it returns
        (the control is kept in Redis and read before it takes commands)."""
        self._redis.set(self._names.control, json.dumps({"mode": mode, "reason": reason}))
        results = []
        for node in range(self._nodes):
            if self._up(node):
                result = self._command(node, "control", {"mode": mode, "reason": reason})
                if "ts_ms" in result:
                    with self._lock:
                        view = self._views[node]
                        view.control_mode = str(result["mode"])
                        view.control_ts_ms = int(result["ts_ms"])
                results.append(result)
        if not results:
            raise NodeUnavailable("no node is up; the control is kept and applied on start")
        modes = {r["mode"] for r in results}
        return ControlState(modes.pop() if len(modes) == 1 else "UNKNOWN", reason)

    def control_state(self) -> ControlState:
        """The mode every node reports (UNKNOWN when a node is down or they disagree)."""
        modes: set[str] = set()
        for node in range(self._nodes):
            view = self._views[node]
            if not self._up(node):
                return ControlState("UNKNOWN", "a node is down")
            with self._lock:
                beat = view.beat or {}
                # A beat stamped before the node answered the last control tells the mode
                # before it: the answer is newer (an operator's HALT reads back as HALTED at
                # once, not after the next heartbeat).
                if view.control_mode is not None and int(beat.get("ts_ms", 0)) <= (
                    view.control_ts_ms
                ):
                    modes.add(view.control_mode)
                else:
                    modes.add(str(beat.get("mode")))
        if len(modes) != 1:
            return ControlState("UNKNOWN", f"nodes disagree: {sorted(modes)}")
        saved = self._redis.get(self._names.control)
        return ControlState(modes.pop(), json.loads(saved)["reason"] if saved else None)

    def close(self) -> None:
        """Stop the listener and close the connection."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._redis.close()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
