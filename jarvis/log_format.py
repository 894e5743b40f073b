"""``--log-format json``: every line the process writes becomes one JSON object.

Why a pump on the file descriptors and not a logging handler: NautilusTrader 1.231 logs from its
Rust core straight to the process's stdout/stderr (its own JSON option writes only log *files*),
and the CLI's own lines are plain ``print``. So ``JsonLines`` points fds 1 and 2 at pipes and a
thread per pipe turns each line into JSON on the original descriptor: NautilusTrader's lines
(``<ts> [LEVEL] <TRADER>.<Component>: message``) become ``ts``, ``level``, ``trader_id``,
``component``, ``message``, plus the ``instrument``, ``strategy``, ``client_order_id`` and
``venue_order_id`` named in them; any other line becomes ``{"component": "jarvis", ...}``.
Human lines stay the default.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import uuid
from collections.abc import Iterable
from typing import Any
from typing import Final

from nautilus_trader.common.component import Logger
from nautilus_trader.common.component import flush_logger
from nautilus_trader.common.component import is_logging_initialized

__all__ = ["JsonLines", "to_json_record"]

_MARKER_WAIT_SECS: Final[float] = 2.0

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_NAUTILUS = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT[\d:.]+Z) \[(?P<level>[A-Z]+)\] "
    r"(?P<trader>[^.\s]+)\.(?P<component>[^:\s]+): (?P<message>.*)$"
)
_INSTRUMENT = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)*\.HYPERLIQUID\b")
_FIELDS: Final[dict[str, re.Pattern[str]]] = {
    "strategy": re.compile(r"\bstrategy_id=([^,\s)]+)"),
    "client_order_id": re.compile(r"\bclient_order_id=([^,\s)]+)|\b(O-\d{8}-\d{6}-[\d-]+)\b"),
    "venue_order_id": re.compile(r"\bvenue_order_id=([^,\s)]+)"),
}


def to_json_record(line: str, strategy_ids: Iterable[str] = ()) -> dict[str, Any]:
    """One output line -> the JSON object written for it (pure; module notes)."""
    text = _ANSI.sub("", line.rstrip("\r\n"))
    match = _NAUTILUS.match(text)
    record: dict[str, Any]
    if match is None:
        record = {"level": "INFO", "component": "jarvis", "message": text}
    else:
        record = {
            "ts": match["ts"],
            "level": match["level"],
            "trader_id": match["trader"],
            "component": match["component"],
            "message": match["message"],
        }
    message = record["message"]
    instrument = _INSTRUMENT.search(message)
    if instrument is not None:
        record["instrument"] = instrument.group(0)
    for name, pattern in _FIELDS.items():
        found = pattern.search(message)
        if found is not None:
            record[name] = next(g for g in found.groups() if g)
    if "strategy" not in record and record["component"] in set(strategy_ids):
        record["strategy"] = record["component"]
    return record


class JsonLines:
    """While entered, fds 1 and 2 of this process write JSON lines (module notes)."""

    def __init__(self, strategy_ids: Iterable[str] = ()) -> None:
        self._strategies = tuple(strategy_ids)
        self._saved: list[tuple[int, int]] = []
        self._threads: list[threading.Thread] = []
        self._buffering: list[tuple[Any, bool]] = []
        self._marker = f"jarvis-json-lines-end-{uuid.uuid4().hex}"
        self._marker_seen = threading.Event()

    def __enter__(self) -> JsonLines:
        sys.stdout.flush()
        sys.stderr.flush()
        # One write per line: a block-buffered chunk cut mid-line would interleave with the Rust
        # logger's lines in the pipe (writes up to PIPE_BUF are atomic, a line at a time).
        streams = [s for s in (sys.stdout, sys.stderr) if hasattr(s, "reconfigure")]
        self._buffering = [(s, bool(s.line_buffering)) for s in streams]
        for stream, _ in self._buffering:
            stream.reconfigure(line_buffering=True)
        for fd in (1, 2):
            original = os.dup(fd)
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            thread = threading.Thread(
                target=self._pump, args=(read_end, original), name=f"json-log-{fd}", daemon=True
            )
            thread.start()
            self._saved.append((fd, original))
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        # NautilusTrader's logger writes from its own thread, possibly after the node is gone:
        # log a marker through it and wait until the pump has seen it (the pump drops it), so
        # its last lines still come out as JSON before the descriptors are restored.
        if is_logging_initialized():
            Logger("JsonLines").warning(self._marker)
            flush_logger()
            self._marker_seen.wait(_MARKER_WAIT_SECS)
        for fd, original in self._saved:
            os.dup2(original, fd)  # closes the pipe's last write end: the pump sees EOF
        for thread in self._threads:
            thread.join(timeout=5)
        for _, original in self._saved:
            os.close(original)
        for stream, line_buffering in self._buffering:
            stream.reconfigure(line_buffering=line_buffering)
        self._saved.clear()
        self._threads.clear()

    def _pump(self, read_end: int, out_fd: int) -> None:
        with os.fdopen(read_end, "r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if not line.strip():
                    continue
                if self._marker in line:
                    self._marker_seen.set()
                    continue
                record = to_json_record(line, self._strategies)
                os.write(out_fd, (json.dumps(record, ensure_ascii=False) + "\n").encode())
