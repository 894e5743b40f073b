"""Faults on demand: what the simulator's admin endpoint can do to its clients.

Clients of a real venue must survive dropped sockets, streams that silently stop, slow or failing
HTTP, gaps and reordering; these are injected here so each recovery path can be tested. This
module holds only the fault *state* and its parsing; the server applies it (it closes sockets,
jumps the clock, filters frames).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """The fault kinds the admin endpoint accepts (`POST /admin/fault/<kind>`)."""

    DROP_WS = "drop-ws"
    STALL = "stall"
    DELAY = "delay"
    HTTP_ERROR = "http-error"
    SKIP = "skip"
    REORDER = "reorder"
    PAUSE_MARKET = "pause-market"
    RESUME_MARKET = "resume-market"
    JUMP_CLOCK = "jump-clock"
    CLEAR = "clear"


class FaultRequestError(ValueError):
    """An admin fault request with missing or invalid parameters (answered with HTTP 400)."""


HTTP_ERROR_TEXT: dict[int, str] = {
    429: "429 Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
"""Plain-text bodies for injected HTTP errors (the venue's exact bodies are not captured)."""


@dataclass
class StreamSelector:
    """Which data stream a fault targets: a channel, optionally narrowed to one coin."""

    channel: str
    coin: str | None = None

    def matches(self, channel: str, coin: str | None) -> bool:
        """True if a frame of `channel` (about `coin`, if any) belongs to this stream."""
        if channel != self.channel:
            return False
        return self.coin is None or self.coin == coin

    def to_json(self) -> dict[str, Any]:
        """Admin-state view."""
        return {"channel": self.channel, "coin": self.coin}


@dataclass
class CountedFault:
    """A stream fault that applies to the next `remaining` frames of its stream."""

    selector: StreamSelector
    remaining: int


@dataclass
class HttpErrorFault:
    """Answer the next `remaining` matching HTTP requests with `status` instead of serving them."""

    status: int
    remaining: int
    path: str | None  # "info", "exchange" or None for both


@dataclass
class Stall:
    """A stream that delivers nothing until `until` (monotonic seconds) or until cleared."""

    selector: StreamSelector
    until: float | None


class FaultState:
    """Active faults, consulted by the server on every HTTP request and every published frame.

    All methods run on the server's event loop thread; there is no locking.
    """

    def __init__(self, monotonic: Callable[[], float] | None = None) -> None:
        self._monotonic = monotonic or time.monotonic
        self.stalls: list[Stall] = []
        self.skips: list[CountedFault] = []
        self.reorders: list[CountedFault] = []
        self.http_errors: list[HttpErrorFault] = []
        self.http_delay_ms = 0
        self.ws_delay_ms = 0
        self.market_paused = False

    # --- queries on the hot path -------------------------------------------------------------

    @property
    def any_stream_fault(self) -> bool:
        """Cheap check so the publish path costs nothing while no stream fault is active."""
        return bool(self.stalls or self.skips or self.reorders)

    def is_stalled(self, channel: str, coin: str | None) -> bool:
        """Whether frames of this stream are currently withheld."""
        if not self.stalls:
            return False
        now = self._monotonic()
        self.stalls = [s for s in self.stalls if s.until is None or s.until > now]
        return any(s.selector.matches(channel, coin) for s in self.stalls)

    def take_skip(self, channel: str, coin: str | None) -> bool:
        """Consume one pending skip for this stream; True means drop this frame."""
        return _take(self.skips, channel, coin)

    def take_reorder(self, channel: str, coin: str | None) -> bool:
        """Consume one pending reorder; True means hold this frame until the stream's next one."""
        return _take(self.reorders, channel, coin)

    def take_http_error(self, path: str) -> int | None:
        """Consume one pending HTTP error for `path` ("info"/"exchange"); returns its status."""
        for fault in self.http_errors:
            if fault.path is None or fault.path == path:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self.http_errors.remove(fault)
                return fault.status
        return None

    # --- changes from the admin endpoint -----------------------------------------------------

    def apply(self, kind: FaultKind, params: dict[str, Any]) -> None:
        """Record a state fault (drop-ws and jump-clock are actions the server performs)."""
        if kind is FaultKind.STALL:
            secs = _opt_float(params, "secs")
            until = None if secs is None else self._monotonic() + secs
            self.stalls.append(Stall(_selector(params), until))
        elif kind is FaultKind.SKIP:
            self.skips.append(CountedFault(_selector(params), _count(params)))
        elif kind is FaultKind.REORDER:
            self.reorders.append(CountedFault(_selector(params), _count(params)))
        elif kind is FaultKind.DELAY:
            ms = _int(params, "ms")
            target = str(params.get("target", "all"))
            if target not in ("http", "ws", "all"):
                raise FaultRequestError(f"target must be http, ws or all, was {target!r}")
            if target in ("http", "all"):
                self.http_delay_ms = ms
            if target in ("ws", "all"):
                self.ws_delay_ms = ms
        elif kind is FaultKind.HTTP_ERROR:
            status = _int(params, "status", 429)
            if status not in HTTP_ERROR_TEXT:
                raise FaultRequestError(f"status must be one of {sorted(HTTP_ERROR_TEXT)}")
            path = params.get("path")
            if path not in (None, "info", "exchange"):
                raise FaultRequestError(f"path must be info, exchange or null, was {path!r}")
            self.http_errors.append(HttpErrorFault(status, _count(params), path))
        elif kind is FaultKind.PAUSE_MARKET:
            self.market_paused = True
        elif kind is FaultKind.RESUME_MARKET:
            self.market_paused = False
        elif kind is FaultKind.CLEAR:
            self.clear()

    def clear(self) -> None:
        """Remove every fault (the market resumes)."""
        self.stalls.clear()
        self.skips.clear()
        self.reorders.clear()
        self.http_errors.clear()
        self.http_delay_ms = 0
        self.ws_delay_ms = 0
        self.market_paused = False

    def to_json(self) -> dict[str, Any]:
        """Admin-state view of every active fault."""
        return {
            "stalls": [s.selector.to_json() for s in self.stalls],
            "skips": [dict(c.selector.to_json(), remaining=c.remaining) for c in self.skips],
            "reorders": [dict(c.selector.to_json(), remaining=c.remaining) for c in self.reorders],
            "httpErrors": [
                {"status": h.status, "remaining": h.remaining, "path": h.path}
                for h in self.http_errors
            ],
            "httpDelayMs": self.http_delay_ms,
            "wsDelayMs": self.ws_delay_ms,
            "marketPaused": self.market_paused,
        }


def parse_kind(text: str) -> FaultKind:
    """The FaultKind named `text`, or a FaultRequestError listing the valid names."""
    try:
        return FaultKind(text)
    except ValueError:
        valid = ", ".join(k.value for k in FaultKind)
        raise FaultRequestError(f"unknown fault {text!r}; valid: {valid}") from None


def _take(faults: list[CountedFault], channel: str, coin: str | None) -> bool:
    for fault in faults:
        if fault.selector.matches(channel, coin):
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.remove(fault)
            return True
    return False


def _selector(params: dict[str, Any]) -> StreamSelector:
    channel = params.get("channel")
    if not isinstance(channel, str) or not channel:
        raise FaultRequestError("'channel' (e.g. \"l2Book\") is required")
    coin = params.get("coin")
    if coin is not None and not isinstance(coin, str):
        raise FaultRequestError("'coin' must be a string")
    return StreamSelector(channel, coin)


def _count(params: dict[str, Any]) -> int:
    count = _int(params, "count", 1)
    if count < 1:
        raise FaultRequestError("'count' must be >= 1")
    return count


def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise FaultRequestError(f"'{name}' is required")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FaultRequestError(f"'{name}' must be an integer, was {value!r}") from None


def _opt_float(params: dict[str, Any], name: str) -> float | None:
    value = params.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FaultRequestError(f"'{name}' must be a number, was {value!r}") from None
