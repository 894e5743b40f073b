"""
The decision log: what a run decided, in a form two runs can be compared by (replay validation).

Why: STRATEGIES.md asks that a recording replayed twice and run twice in a backtest gives the
identical regime changes, strategy transitions and orders, and that no decision uses data stamped
after it. ``DecisionLog`` is an actor installed in every backtest (``backtests.run``) and in a
live node started with ``--run-dir`` (``jarvis.node``). It listens on the bus only (no data
subscription, so it changes nothing a strategy sees) and writes, into the run directory:

    decisions.jsonl   one line per decision, in publication order: every ``RegimeChange``,
                      ``StrategyGate`` and ``StrategyState``, every order a strategy created
                      (``OrderInitialized``) and every later event of those orders
    decisions.json    the digests, counts per kind and the input audit (written at stop)

Each line holds only what is the same on every run of the same input: times are the events' own
(``ts_event``: venue time in a backtest), never the wall clock; random ids (event UUIDs) are left
out, and orders are named ``<strategy>#<n>`` (the n-th order that strategy created) instead of
their client order id, which embeds the clock's date. Three SHA-256 digests:

* ``decisions_sha256``: the regime changes, gates and strategy states;
* ``orders_sha256``: the orders the strategies created (side, type, quantity, prices, flags);
* ``executions_sha256``: what happened to them (accepted, filled at what, cancelled ...). Fills
  depend on the venue (a backtest's fill model or the live venue).

Two backtests of one input compare all three. A live run and a backtest of its recording cannot
share stamps (wall clock against recorded receive times), so ``decisions.json`` also holds
``sequence_sha256``: per stream (regime changes, gates, strategy states, orders) a digest of what
changed from what to what, per instrument or strategy, without stamps (``sequence_digests``);
those are the parity hashes (``jarvis.parity``).

The input audit: every data item published on the bus (``data.*``: market data, market state,
structural events) raises a watermark of the newest ``ts_init`` seen; a decision stamped before
that watermark would have been taken with data from its future, and is counted as a violation
(``input_audit.violations``, the first few kept in ``input_audit.examples``). The decisions'
own bus items do not raise it: the controller stamps every gate of one decision with that
decision's time, and live the strategy's ``StrategyState`` answering the first gate (stamped a
moment later by the wall clock) is published before the next gate -- an order of stamping, not a
use of later data.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import IO
from typing import Any
from typing import Final

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.events import OrderInitialized

from common.nautilus import custom_data_topic
from controllers.protocol import REGIME_CHANGE_DATA_TYPE
from controllers.protocol import STRATEGY_GATE_DATA_TYPE
from controllers.protocol import STRATEGY_STATE_DATA_TYPE
from controllers.protocol import RegimeChange
from controllers.protocol import StrategyGate
from controllers.protocol import StrategyState

__all__ = [
    "DECISIONS_FILE",
    "DIGEST_FILE",
    "DecisionLog",
    "DecisionLogConfig",
    "compare_decision_logs",
    "load_decision_digest",
    "read_decision_log",
    "sequence_digests",
]

DECISIONS_FILE: Final[str] = "decisions.jsonl"
DIGEST_FILE: Final[str] = "decisions.json"
_MAX_EXAMPLES: Final[int] = 10
_DECISION_TYPES: Final[frozenset[type]] = frozenset({RegimeChange, StrategyGate, StrategyState})


class DecisionLogConfig(ActorConfig, frozen=True):
    """
    Configuration of ``DecisionLog``.

    Parameters
    ----------
    directory : str
        The run directory (created at start; ``decisions.jsonl`` is replaced at start).
    audit_inputs : bool
        Watch every data item on the bus for the input audit (one cheap callback per item).
    """

    directory: str
    audit_inputs: bool = True

    def __post_init__(self) -> None:
        if not self.directory:
            raise ValueError("directory: must not be empty")


class DecisionLog(Actor):
    """Writes a run's decisions and their digests (see module notes)."""

    def __init__(self, config: DecisionLogConfig) -> None:
        super().__init__(config)
        self._dir = Path(config.directory)
        self._audit = config.audit_inputs
        self._file: IO[str] | None = None
        self._digests = {
            "decisions": hashlib.sha256(),
            "orders": hashlib.sha256(),
            "executions": hashlib.sha256(),
        }
        self.counts: dict[str, int] = {}
        self._order_names: dict[str, str] = {}
        self._per_strategy: dict[str, int] = {}
        self._newest_input_ns = 0
        self.inputs_seen = 0
        self.violations = 0
        self._examples: list[dict[str, Any]] = []

    # -- lifecycle --------------------------------------------------------------------------------

    def on_start(self) -> None:
        """Open the log and listen; decisions are subscribed first in line (priority)."""
        self._dir.mkdir(parents=True, exist_ok=True)
        self._file = _new_file(self._dir / DECISIONS_FILE).open("w")
        if self._audit:
            self.msgbus.subscribe("data.*", self._on_input, priority=100)
        self.msgbus.subscribe(
            custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime, priority=10
        )
        self.msgbus.subscribe(
            custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate, priority=10
        )
        self.msgbus.subscribe(
            custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_state, priority=10
        )
        self.msgbus.subscribe("events.order.*", self._on_order_event, priority=10)

    def on_stop(self) -> None:
        """Close the log and write the digests."""
        if self._audit:
            self.msgbus.unsubscribe("data.*", self._on_input)
        self.msgbus.unsubscribe(custom_data_topic(REGIME_CHANGE_DATA_TYPE), self._on_regime)
        self.msgbus.unsubscribe(custom_data_topic(STRATEGY_GATE_DATA_TYPE), self._on_gate)
        self.msgbus.unsubscribe(custom_data_topic(STRATEGY_STATE_DATA_TYPE), self._on_state)
        self.msgbus.unsubscribe("events.order.*", self._on_order_event)
        if self._file is not None:
            self._file.close()
            self._file = None
        summary = self.summary()
        # The log is small (decisions, not market data): read back once for the sequences.
        summary["sequence_sha256"] = sequence_digests(read_decision_log(self._dir))
        _new_file(self._dir / DIGEST_FILE).write_text(json.dumps(summary, indent=1, sort_keys=True))

    def summary(self) -> dict[str, Any]:
        """Digests, counts and the input audit (what ``decisions.json`` holds)."""
        return {
            "decisions_sha256": self._digests["decisions"].hexdigest(),
            "orders_sha256": self._digests["orders"].hexdigest(),
            "executions_sha256": self._digests["executions"].hexdigest(),
            "counts": dict(sorted(self.counts.items())),
            "input_audit": {
                "inputs_seen": self.inputs_seen,
                "newest_input_ns": self._newest_input_ns,
                "violations": self.violations,
                "examples": list(self._examples),
            },
        }

    # -- bus handlers ---------------------------------------------------------------------------

    def _on_input(self, data: Any) -> None:
        if type(data) in _DECISION_TYPES:
            return
        ts = getattr(data, "ts_init", 0)
        self.inputs_seen += 1
        if ts > self._newest_input_ns:
            self._newest_input_ns = ts

    def _on_regime(self, change: RegimeChange) -> None:
        self._decision(
            "RegimeChange",
            change.ts_event,
            {
                "instrument_id": str(change.instrument_id),
                "previous": change.previous,
                "regime": change.regime,
                "reason": change.reason,
                "inputs": change.inputs,
            },
        )

    def _on_gate(self, gate: StrategyGate) -> None:
        self._decision(
            "StrategyGate",
            gate.ts_event,
            {
                "strategy_id": gate.strategy_id,
                "instrument_id": str(gate.instrument_id),
                "enabled": gate.enabled,
                "action": gate.action,
                "reason": gate.reason,
            },
        )

    def _on_state(self, state: StrategyState) -> None:
        self._decision(
            "StrategyState",
            state.ts_event,
            {
                "strategy_id": state.strategy_id,
                "instrument_id": str(state.instrument_id),
                "previous": state.previous,
                "state": state.state,
                "reason": state.reason,
                "flat": state.flat,
                "entry_price": _finite(state.entry_price),
                "stop_price": _finite(state.stop_price),
                "target_price": _finite(state.target_price),
            },
        )

    def _on_order_event(self, event: OrderEvent) -> None:
        if isinstance(event, OrderInitialized):
            strategy = event.strategy_id.value
            number = self._per_strategy.get(strategy, 0) + 1
            self._per_strategy[strategy] = number
            name = f"{strategy}#{number}"
            self._order_names[event.client_order_id.value] = name
            self._audit_decision("Order", event.ts_event)
            self._write(
                "orders",
                "Order",
                event.ts_event,
                {
                    "order": name,
                    "strategy_id": strategy,
                    "instrument_id": event.instrument_id.value,
                    "side": _name(event.side),
                    "type": _name(event.order_type),
                    "quantity": str(event.quantity),
                    "time_in_force": _name(event.time_in_force),
                    "post_only": event.post_only,
                    "reduce_only": event.reduce_only,
                    "price": _option(event.options.get("price")),
                    "trigger_price": _option(event.options.get("trigger_price")),
                    "tags": list(event.tags or []),
                },
            )
            return
        known = self._order_names.get(event.client_order_id.value)
        if known is None:
            return  # an order this log did not see created (e.g. reconciled external order)
        record: dict[str, Any] = {"order": known, "event": type(event).__name__}
        for field in ("last_qty", "last_px", "commission", "quantity", "price", "trigger_price"):
            value = getattr(event, field, None)
            if value is not None:
                record[field] = str(value)
        liquidity = getattr(event, "liquidity_side", None)
        if liquidity is not None:
            record["liquidity_side"] = _name(liquidity)
        reason = getattr(event, "reason", None)
        if reason:
            record["reason"] = str(reason)
        self._write("executions", "OrderEvent", event.ts_event, record)

    # -- output ---------------------------------------------------------------------------------

    def _decision(self, kind: str, ts_event: int, fields: dict[str, Any]) -> None:
        self._audit_decision(kind, ts_event)
        self._write("decisions", kind, ts_event, fields)

    def _audit_decision(self, kind: str, ts_event: int) -> None:
        if ts_event < self._newest_input_ns:
            self.violations += 1
            if len(self._examples) < _MAX_EXAMPLES:
                self._examples.append(
                    {"kind": kind, "ts_event": ts_event, "newest_input_ts": self._newest_input_ns}
                )

    def _write(self, digest: str, kind: str, ts_event: int, fields: dict[str, Any]) -> None:
        line = json.dumps({"kind": kind, "ts": ts_event, **fields}, sort_keys=True)
        self._digests[digest].update(line.encode() + b"\n")
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if self._file is not None:
            self._file.write(line + "\n")


def load_decision_digest(run_dir: str | Path) -> dict[str, Any]:
    """The ``decisions.json`` of a finished run (``FileNotFoundError`` naming it when absent)."""
    path = Path(run_dir) / DIGEST_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no decision digest; the run had no DecisionLog or did not stop cleanly"
        )
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def read_decision_log(run_dir: str | Path) -> list[dict[str, Any]]:
    """The ``decisions.jsonl`` lines of a finished run, in order."""
    path = Path(run_dir) / DECISIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no decision log; the run had no DecisionLog")
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# Stream name -> (kinds, the key a sequence is kept per, the fields compared).
_STREAMS: Final[dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]]] = {
    "regime_changes": (("RegimeChange",), "instrument_id", ("previous", "regime")),
    "gates": (("StrategyGate",), "strategy_id", ("action",)),
    "strategy_states": (("StrategyState",), "strategy_id", ("previous", "state")),
    "orders": (("Order",), "strategy_id", ("order", "side", "type", "reduce_only")),
}


def compare_decision_logs(
    a_dir: str | Path,
    b_dir: str | Path,
    until_ns: int | None = None,
    end_window_ns: int = 0,
) -> dict[str, Any]:
    """
    Compare two runs' decisions as sequences, per instrument (regime changes) or strategy.

    For runs whose time stamps cannot match (a live node ``a`` against a backtest ``b`` of its
    recording: wall clock against recorded receive times, timers at other phases), only what
    changed from what to what, and in which order per instrument or strategy, is compared; the
    interleaving across instruments and the stamps are not. ``REFUSE`` gates (a strategy asking
    for a held instrument) are left out: how often a strategy asks depends on timing. Returns
    per stream whether the sequences are equal and, when not, the first difference.

    ``until_ns`` is where the recording ends (the backtest's ``newest_input_ns``): a live node's
    timers keep deciding after its last recorded frame, which a backtest never reaches. Near
    that end one decision can fall on either side of it -- live it comes up to a timer period
    (plus the node's handling lag) before or after the backtest's -- so ``end_window_ns`` before
    ``until_ns`` is not compared: ``b`` is read up to ``until_ns - end_window_ns``, ``a`` up to
    ``until_ns`` (its counterparts of ``b``'s last decisions may come later), and the decisions
    ``a`` holds beyond ``b``'s are allowed only when stamped inside the last two windows (their
    counterparts in ``b`` fell past the cut). An extra decision earlier than that, or a missing
    one, is a difference. ``sequence_sha256`` digests exactly what was compared.
    """
    a, b = read_decision_log(a_dir), read_decision_log(b_dir)
    cut_ns: int | None = None
    if until_ns is not None:
        cut_ns = until_ns - end_window_ns
        a = [line for line in a if line["ts"] <= until_ns]
        b = [line for line in b if line["ts"] <= cut_ns]
    result: dict[str, Any] = {
        "same": {},
        "first_difference": {},
        "counts": {},
        "compared_until_ns": {"a": until_ns, "b": cut_ns},
        "sequence_sha256": {},
    }
    compared_a: list[dict[str, Any]] = []
    for stream, (kinds, key, fields) in _STREAMS.items():
        lines_a, lines_b = _lines_per_key(a, kinds, key), _lines_per_key(b, kinds, key)
        if cut_ns is not None:
            lines_a = _trim_extra_at_end(lines_a, lines_b, cut_ns - end_window_ns)
        compared_a.extend(line for lines in lines_a.values() for line in lines)
        seq_a, seq_b = _fields_of(lines_a, fields), _fields_of(lines_b, fields)
        result["counts"][stream] = [sum(map(len, seq_a.values())), sum(map(len, seq_b.values()))]
        result["same"][stream] = seq_a == seq_b
        for name in sorted(set(seq_a) | set(seq_b)):
            left, right = seq_a.get(name, []), seq_b.get(name, [])
            if left == right:
                continue
            index = next(
                (i for i, (x, y) in enumerate(zip(left, right, strict=False)) if x != y),
                min(len(left), len(right)),
            )
            result["first_difference"][stream] = {
                key: name,
                "index": index,
                "a": left[index] if index < len(left) else None,
                "b": right[index] if index < len(right) else None,
            }
            break
    result["sequence_sha256"] = {"a": sequence_digests(compared_a), "b": sequence_digests(b)}
    for side, directory in (("a", a_dir), ("b", b_dir)):
        digest = load_decision_digest(directory)
        result[f"digests_{side}"] = {name: digest[name] for name in sorted(digest) if "sha" in name}
        result[f"input_violations_{side}"] = digest["input_audit"]["violations"]
    return result


def _trim_extra_at_end(
    lines_a: dict[str, list[dict[str, Any]]],
    lines_b: dict[str, list[dict[str, Any]]],
    allowed_from_ns: int,
) -> dict[str, list[dict[str, Any]]]:
    """``a``'s lines per key without those beyond ``b``'s count stamped after
    ``allowed_from_ns`` (counterparts past ``b``'s cut); earlier extras stay and differ."""
    trimmed: dict[str, list[dict[str, Any]]] = {}
    for name, lines in lines_a.items():
        n = len(lines_b.get(name, []))
        kept = lines[:n] + [line for line in lines[n:] if line["ts"] <= allowed_from_ns]
        if kept:
            trimmed[name] = kept
    return trimmed


def sequence_digests(lines: list[dict[str, Any]]) -> dict[str, str]:
    """SHA-256 per stream of the sequences ``compare_decision_logs`` compares (per instrument
    or strategy, no stamps): equal digests are parity between a live run and a backtest."""
    digests: dict[str, str] = {}
    for stream, (kinds, key, fields) in _STREAMS.items():
        sequences = _sequences(lines, kinds, key, fields)
        text = json.dumps(sorted(sequences.items()), separators=(",", ":"))
        digests[stream] = hashlib.sha256(text.encode()).hexdigest()
    return digests


def _sequences(
    lines: list[dict[str, Any]], kinds: tuple[str, ...], key: str, fields: tuple[str, ...]
) -> dict[str, list[list[Any]]]:
    return _fields_of(_lines_per_key(lines, kinds, key), fields)


def _lines_per_key(
    lines: list[dict[str, Any]], kinds: tuple[str, ...], key: str
) -> dict[str, list[dict[str, Any]]]:
    per_key: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        if line["kind"] not in kinds or line.get("action") == "REFUSE":
            continue
        if line["kind"] == "StrategyState" and line["previous"] == line["state"]:
            continue  # a re-announcement (start, restart), not a transition
        per_key.setdefault(str(line.get(key)), []).append(line)
    return per_key


def _fields_of(
    per_key: dict[str, list[dict[str, Any]]], fields: tuple[str, ...]
) -> dict[str, list[list[Any]]]:
    return {
        name: [[line.get(f) for f in fields] for line in lines] for name, lines in per_key.items()
    }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _option(value: Any) -> str | None:
    return None if value is None else str(value)


def _name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _new_file(path: Path) -> Path:
    """``path`` with any older file removed (see ``backtests.journal._new_file``: no flush)."""
    path.unlink(missing_ok=True)
    return path
