"""Reaching the venue at start: retry until it answers, with capped backoff, one line per attempt.

Why our own loop: the HTTP client retries one ``/info`` request a few times within about a second
(right for a blip), and NautilusTrader runs a client's ``_connect`` exactly once: a venue that is
down for a minute when the node starts would leave the node with no instruments, never connected,
forever. A client instead wraps its first contact with the venue in ``until_reachable``: transient
failures (no connection, timeouts, HTTP 429 and 5xx) are retried until the venue answers or the
client is stopped (the task is cancelled); anything else (a 4xx, an answer that does not decode:
a wrong URL or config) is raised at once, since retrying cannot fix it.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Protocol

from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidTransportError
from adapters.hyperliquid.rate_limit import jittered_backoff

__all__ = ["StartupLogger", "is_transient", "load_instruments_when_reachable", "until_reachable"]


class StartupLogger(Protocol):
    """The part of NautilusTrader's ``Logger`` used here."""

    def warning(self, message: str) -> None: ...

    def info(self, message: str) -> None: ...


def is_transient(exc: BaseException) -> bool:
    """True for failures a later attempt can cure: transport errors, HTTP 429 and 5xx."""
    if isinstance(exc, HyperliquidTransportError):
        return True
    if isinstance(exc, HyperliquidHttpError):
        return exc.status == 429 or exc.status >= 500
    return False


async def until_reachable[T](
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    log: StartupLogger,
    initial_backoff_secs: float,
    max_backoff_secs: float,
    stopping: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> T:
    """Run ``attempt`` until it succeeds; transient failures wait with capped, jittered backoff.

    Each failed attempt logs ONE warning line: ``what``, the attempt number, the cause (the
    exception's message, no traceback) and the delay before the next attempt. A success after
    failures logs at INFO how many attempts it took. Cancellation (the client stopping) ends
    the loop, and so does ``stopping()`` turning true (the client's disconnect closed the
    transport under a running attempt: its error is not the venue's).
    """
    if not 0 < initial_backoff_secs <= max_backoff_secs:
        raise ValueError("need 0 < initial_backoff_secs <= max_backoff_secs")
    chooser = rng or random.Random()
    number = 1
    while True:
        if stopping():
            raise asyncio.CancelledError(f"{what}: stopped before the venue answered")
        try:
            result = await attempt()
        except Exception as exc:
            if stopping():
                raise asyncio.CancelledError(f"{what}: stopped before the venue answered") from exc
            if not is_transient(exc):
                raise
            delay = jittered_backoff(number, initial_backoff_secs, max_backoff_secs, chooser)
            log.warning(
                f"{what}: venue unreachable (attempt {number}: {exc}); retrying in {delay:.1f} s"
            )
            await sleep(delay)
            number += 1
            continue
        if number > 1:
            log.info(f"{what}: venue reached after {number} attempts")
        return result


class _LoadsOnce(Protocol):
    async def load_once(self) -> None: ...


class _BackoffConfig(Protocol):
    @property
    def http_url(self) -> str: ...

    @property
    def reconnect_initial_backoff_secs(self) -> float: ...

    @property
    def reconnect_max_backoff_secs(self) -> float: ...


async def load_instruments_when_reachable(
    provider: _LoadsOnce,
    http: HyperliquidHttpClient,
    config: _BackoffConfig,
    log: StartupLogger,
    stopping: Callable[[], bool],
) -> None:
    """A client's first contact with the venue (data and exec clients alike): load the
    instruments, waiting for a venue that is down with the config's reconnect backoff. The HTTP
    client's own short retries are off meanwhile, so each attempt logs exactly one line."""
    with http.own_retries():
        await until_reachable(
            provider.load_once,
            what=f"Loading instruments from {config.http_url}",
            log=log,
            initial_backoff_secs=config.reconnect_initial_backoff_secs,
            max_backoff_secs=config.reconnect_max_backoff_secs,
            stopping=stopping,
        )
