"""``jarvis serve-node``: one trading node of a multi-node set, taking the sidecar's commands
from its Redis command stream and writing its events and heartbeats to the events stream.

The node runs as ``jarvis serve`` runs it (main thread, NautilusTrader's loop); the commands are
carried out by the same ``InProcessNodeLink`` the single-process sidecar uses, whose events go to
Redis instead of an in-memory hub. Recovery after a crash, in this order, before any command is
read:

1. NautilusTrader's cache is Redis-backed under this node's own trader id, so the orders it had
   come back with their client order ids and strategy ids; startup reconciliation then brings
   them to the venue's state (the trader only runs once that is done).
2. The strategies it ran (kept in ``<ns>:node:<i>:strategies``) are added again with the same
   ids; they find and adopt their own open orders in the cache instead of placing new ones.
3. The operator's last control (HALT, REDUCE_ONLY) is applied again.

User accounts: a strategy on a user's own account arrives with the account's address and its
key's reference in the secret store, never the key. This process opens the same store from its
own environment (``JARVIS_SECRETS_KEY`` and the secrets directory, as the sidecar does) and the
in-process link adds the account's execution client as ``jarvis serve`` does. After a restart
the clients of accounts whose strategies were running are registered before the node starts
(``prepare_accounts``), so the kernel connects and reconciles them with its own client, and
step 1 covers their orders too. A node without the store, or whose store cannot read the key,
or an account whose agent wallet the venue no longer accepts (checked read-only before its
client is added, so one revoked wallet cannot fail the node's start for everyone), refuses the
strategy (409, saying why) and, on restore, reports ``strategy.restore_failed``.

Only then do heartbeats say ``ready`` and commands run. A command id already answered is
answered again from its kept answer (the consumer group re-delivers unacknowledged ones); reads
(``status``) are not kept, they change nothing. A command past its deadline is refused: a
synchronous one's caller has given up and been told so; a queued one (sent while this node was
down, ``queued`` names its owner) is past ``QUEUED_COMMAND_TTL_SECS``. A queued command's outcome,
run or refused, goes to its owner as a ``command_result`` message on the events stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import threading
import time
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

import msgspec
import redis

from api.inprocess import InProcessNodeLink
from api.node_link import NodeRefused
from api.node_link import NodeUnavailable
from api.node_link import TradingAccount
from api.secrets import SecretStore
from api.secrets import SecretStoreError
from api.streams import COMMAND_GROUP
from api.streams import DONE_TTL_SECS
from api.streams import EVENTS_MAXLEN
from api.streams import HEARTBEAT_INTERVAL_SECS
from api.streams import REPLY_TTL_SECS
from api.streams import StreamNames
from api.streams import decode
from api.streams import encode
from api.streams import node_trader_id
from config.loading import LoadedNodeConfig

__all__ = ["NodeWorker", "RedisEventPublisher", "for_node", "run_node_worker"]

_RUNNING = "__running__"
# Nonce lanes of the nodes' execution clients: up to this many nodes never sign the same nonce.
NONCE_LANES = 16

log = logging.getLogger("jarvis.api")


def for_node(loaded: LoadedNodeConfig, redis_url: str, node: int) -> LoadedNodeConfig:
    """The config with this node's trader id and a Redis-backed cache (kept across restarts),
    and the strategies' own state saved at stop and loaded again (the regime controller loads
    it for the strategies it adds back): what a strategy knows only in memory, such as the
    PriceLimit legs its stop withdrew, survives a graceful restart."""
    from nautilus_trader.config import CacheConfig
    from nautilus_trader.config import DatabaseConfig

    url = urlparse(redis_url)
    database = DatabaseConfig(
        type="redis",
        host=url.hostname or "127.0.0.1",
        port=url.port or 6379,
        username=url.username,
        password=url.password,
        ssl=url.scheme == "rediss",
    )
    exec_clients = {
        name: _in_nonce_lane(entry, node) for name, entry in loaded.node.exec_clients.items()
    }
    cache = loaded.node.cache or CacheConfig()
    cache = msgspec.structs.replace(cache, database=database, flush_on_start=False)
    node_config = msgspec.structs.replace(
        loaded.node,
        trader_id=node_trader_id(str(loaded.node.trader_id), node),
        cache=cache,
        exec_clients=exec_clients,
        save_state=True,
        load_state=True,
    )
    return dataclasses.replace(loaded, node=node_config)


def _in_nonce_lane(entry: Any, node: int) -> Any:
    """A Hyperliquid execution client entry signing in this node's nonce lane: every node
    signs for the node's account with the same key, and two nodes signing in the same
    millisecond would send the same nonce (the venue refuses the second order)."""
    from jarvis.node import HYPERLIQUID_EXEC_CONFIG_PATH

    config = getattr(entry, "config", None)
    if getattr(entry, "path", None) != HYPERLIQUID_EXEC_CONFIG_PATH or not isinstance(config, dict):
        return entry
    lanes = {"nonce_lanes": NONCE_LANES, "nonce_lane": node % NONCE_LANES}
    return msgspec.structs.replace(entry, config={**config, **lanes})


class RedisEventPublisher:
    """The ``EventHub.publish`` the in-process link calls, writing to the events stream."""

    def __init__(self, client: redis.Redis, names: StreamNames, node: int) -> None:
        self._redis: Any = client  # redis-py's stream stubs are narrower than what it takes
        self._names = names
        self._node = node

    def publish(self, user_id: str, type_: str, data: dict[str, Any]) -> None:
        """One user event on the shared events stream."""
        message = {"type": "event", "node": self._node, "user": user_id, "kind": type_,
                   "data": data}  # fmt: skip
        self._redis.xadd(self._names.events, encode(message), maxlen=EVENTS_MAXLEN,
                         approximate=True)  # fmt: skip


class NodeWorker:
    """Restores the node's strategies, then heartbeats and runs commands (two threads)."""

    def __init__(
        self,
        client: redis.Redis,
        names: StreamNames,
        node: int,
        link: InProcessNodeLink,
        secrets: SecretStore | None = None,
    ) -> None:
        self._redis: Any = client  # redis-py's stream stubs are narrower than what it takes
        self._names = names
        self._node = node
        self._link = link
        self._secrets = secrets
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start heartbeating and (once the node runs) restoring, then taking commands."""
        for target, name in ((self._beat, "heartbeat"), (self._serve, "commands")):
            thread = threading.Thread(target=target, name=f"jarvis-node-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop both threads."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    # -- heartbeats ----------------------------------------------------------------------------

    def _beat(self) -> None:
        while not self._stop.is_set():
            # Stamped before the mode is read: a beat is never older than the mode it carries
            # (the sidecar compares the stamp with a control's answer's, ``RedisNodeLink``).
            ts_ms = int(time.time() * 1000)
            ready = self.ready.is_set()
            state = self._link.control_state() if ready else None
            message = {
                "type": "heartbeat",
                "node": self._node,
                "ts_ms": ts_ms,
                "ready": ready,
                "connected": ready and self._link.connected(),
                "feed_healthy": ready and self._link.feed_healthy(),
                "mode": state.mode if state else "UNKNOWN",
                "reason": state.reason if state else None,
            }
            # A failed beat is not retried: the sidecar sees the silence and marks us down.
            with contextlib.suppress(redis.RedisError):
                self._redis.xadd(self._names.events, encode(message), maxlen=EVENTS_MAXLEN,
                                 approximate=True)  # fmt: skip
            self._stop.wait(HEARTBEAT_INTERVAL_SECS)

    # -- recovery, then commands ---------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stop.is_set() and not self._link.connected():
            self._stop.wait(0.1)
        if self._stop.is_set():
            return
        self._restore()
        self.ready.set()
        stream = self._names.commands(self._node)
        try:
            self._redis.xgroup_create(stream, COMMAND_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        consumer = f"node-{self._node}"
        pending = True  # first our own unacknowledged entries (a crash mid-command), then new
        while not self._stop.is_set():
            try:
                answer = self._redis.xreadgroup(
                    COMMAND_GROUP, consumer, {stream: "0" if pending else ">"}, count=16,
                    block=None if pending else 500,
                )  # fmt: skip
            except redis.RedisError:
                self._stop.wait(0.5)
                continue
            entries = answer[0][1] if answer else []
            if pending and not entries:
                pending = False
                continue
            for entry_id, fields in entries:
                self._handle(decode(fields))
                self._redis.xack(stream, COMMAND_GROUP, entry_id)

    # -- user accounts -------------------------------------------------------------------------

    def _account(self, ref: dict[str, Any] | None) -> TradingAccount | None:
        """The account a command names (address and secret reference), its key read from this
        node's own secret store."""
        if ref is None:
            return None
        address = str(ref["address"])
        if self._secrets is None:
            raise NodeRefused(
                f"node {self._node} cannot trade from account {address}: it has no secret store "
                "(set JARVIS_SECRETS_KEY and the sidecar's secrets directory in its environment)"
            )
        try:
            key = self._secrets.get(str(ref["secret_ref"]))
        except SecretStoreError as exc:
            raise NodeRefused(
                f"node {self._node} cannot read the agent key of account {address}: {exc}"
            ) from None
        return TradingAccount(address, key, str(ref["secret_ref"]))

    def prepare_accounts(self) -> list[str]:
        """Before the node runs: register the execution clients of the user accounts whose
        strategies were running, so start-up reconciliation covers their orders; the accounts
        that could not be (logged; their strategies' restore tries again through ``start`` once
        the node runs, and tells the owner ``strategy.restore_failed`` if that fails too)."""
        failed: list[str] = []
        seen: set[str] = set()
        for raw in self._redis.hgetall(self._names.strategies(self._node)).values():
            entry = json.loads(raw)
            ref = entry.get("account")
            if not entry.get("running") or ref is None or ref["address"] in seen:
                continue
            seen.add(ref["address"])
            try:
                account = self._account(ref)
                assert account is not None
                self._link.restore_account(account)
            except Exception as exc:  # one account's failure must not keep the others out
                log.error("node %d: account %s not restored: %s", self._node, ref["address"],
                          exc if isinstance(exc, NodeRefused) else type(exc).__name__)  # fmt: skip
                failed.append(str(ref["address"]))
        return failed

    def _restore(self) -> None:
        """Add the strategies this node ran again (they adopt their orders from the cache) and
        apply the operator's last control."""
        for sid, raw in self._redis.hgetall(self._names.strategies(self._node)).items():
            entry = json.loads(raw)
            if not entry.get("running"):
                continue
            try:
                account = self._account(entry.get("account"))
                if account is None:
                    self._link.start(entry["config"], entry["owner"], None)
                else:
                    self._link.start(entry["config"], entry["owner"], None, account=account)
            except (NodeRefused, NodeUnavailable) as exc:
                data = {"node_strategy_id": _text(sid), "error": str(exc)}
                self._link._hub.publish(entry["owner"], "strategy.restore_failed", data)
        control = self._redis.get(self._names.control)
        if control is not None:
            saved = json.loads(control)
            if saved["mode"] != "RESUME":
                self._link.control(saved["mode"], saved["reason"])

    def _handle(self, command: dict[str, Any]) -> None:
        command_id = str(command["id"])
        if command.get("op") in ("status", "overview"):
            self._reply(command_id, self._answer(command))
            return
        done = self._names.done(self._node, command_id)
        if not self._redis.set(done, _RUNNING, nx=True, ex=DONE_TTL_SECS):
            previous = _text(self._redis.get(done) or b"")
            if previous == _RUNNING:
                reply = {"ok": False, "error": "the node stopped while running this command; "
                         "read the strategy's status before repeating it"}  # fmt: skip
            else:
                reply = json.loads(previous)
            self._tell(command, reply)  # again: the first answer may not have gone out
            return
        reply = self._answer(command)
        self._redis.set(done, json.dumps(reply, default=str), ex=DONE_TTL_SECS)
        self._tell(command, reply)

    def _answer(self, command: dict[str, Any]) -> dict[str, Any]:
        expires_ms = int(command.get("expires_ms", 0))
        if expires_ms < time.time() * 1000:
            if command.get("queued"):
                error = (
                    f"the {command.get('op')} queued while node {self._node} was down expired "
                    f"at {_iso(expires_ms)} before the node was back; it did not run"
                )
                return {"ok": False, "error": error}
            return {"ok": False, "error": "the command expired before the node took it"}
        try:
            return {"ok": True, "result": self._run(command["op"], command.get("args", {}))}
        except NodeRefused as exc:
            return {"ok": False, "error": str(exc), "refused": True}
        except NodeUnavailable as exc:
            return {"ok": False, "error": str(exc)}
        except Exception as exc:  # an answer always goes back; the type, never a secret
            return {"ok": False, "error": f"the node failed: {type(exc).__name__}"}

    def _tell(self, command: dict[str, Any], reply: dict[str, Any]) -> None:
        """A queued command's outcome to its owner (events stream), else to the waiting caller."""
        owner = command.get("queued")
        if not owner:
            self._reply(str(command["id"]), reply)
            return
        message = {"type": "command_result", "node": self._node, "user": owner,
                   "id": command["id"], "op": command.get("op"),
                   "args": command.get("args", {}), "reply": reply}  # fmt: skip
        self._redis.xadd(self._names.events, encode(message), maxlen=EVENTS_MAXLEN,
                         approximate=True)  # fmt: skip

    def _reply(self, command_id: str, reply: dict[str, Any]) -> None:
        key = self._names.reply(command_id)
        self._redis.rpush(key, json.dumps(reply, default=str))
        self._redis.expire(key, REPLY_TTL_SECS)

    def _run(self, op: str, args: dict[str, Any]) -> Any:
        link = self._link
        registry = self._names.strategies(self._node)
        if op == "start":
            sid = args.get("node_strategy_id")
            known = sid is not None and link.status(sid) is not None
            account = self._account(args.get("account"))
            if account is None:  # the node's own account: the call every link has always taken
                sid = link.start(args["config"], args["owner"], sid if known else None)
            else:
                sid = link.start(args["config"], args["owner"], sid if known else None,
                                 account=account)  # fmt: skip
            entry = {"config": args["config"], "owner": args["owner"], "running": True}
            if account is not None:  # the reference only: the key stays in the secret store
                entry["account"] = args["account"]
            self._redis.hset(registry, sid, json.dumps(entry))
            return sid
        if op in ("stop", "cancel"):
            sid = args["node_strategy_id"]
            if op == "stop":
                link.stop(sid)
            else:
                link.cancel(sid, bool(args.get("close")))
            raw = self._redis.hget(registry, sid)
            if raw is not None:
                self._redis.hset(registry, sid, json.dumps(json.loads(raw) | {"running": False}))
            return None
        if op == "status":
            status = link.status(args["node_strategy_id"])
            return dataclasses.asdict(status) if status is not None else None
        if op == "overview":
            ids = args.get("strategy_ids")
            scope = frozenset(ids) if ids is not None else None
            return dataclasses.asdict(link.overview(scope, int(args["recent"])))
        if op == "control":
            state = link.control(args["mode"], args["reason"])
            # When it was applied (this node's clock), so the sidecar can tell the heartbeats
            # stamped before it, which still carry the old mode.
            return {"mode": state.mode, "reason": state.reason, "ts_ms": int(time.time() * 1000)}
        raise NodeUnavailable(f"unknown command {op!r}")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def run_node_worker(
    loaded: LoadedNodeConfig,
    redis_url: str,
    node: int,
    namespace: str = "jarvis",
    duration_secs: float | None = None,
) -> None:
    """Build and run node ``node`` of the set until a signal (or ``duration_secs``)."""
    from api.secrets import open_secret_store
    from api.settings import ApiSettings
    from jarvis.node import build_node

    secrets = open_secret_store(ApiSettings())
    client = redis.Redis.from_url(redis_url)
    client.ping()  # fail before building anything if the broker is not there
    names = StreamNames(namespace)
    loaded = for_node(loaded, redis_url, node)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    built = build_node(loaded, loop)
    link = InProcessNodeLink(built, RedisEventPublisher(client, names, node))  # type: ignore[arg-type]
    worker = NodeWorker(client, names, node, link, secrets)
    worker.prepare_accounts()  # before the node runs: start-up reconciliation covers them
    worker.start()
    if duration_secs is not None:
        loop.call_later(duration_secs, built.stop)
    try:
        built.run()
    finally:
        worker.stop()
        built.dispose()
        asyncio.set_event_loop(None)
        client.close()
