"""Async REST client for the venue's `POST /info` and `POST /exchange`.

Why this shape:

* Any base URL (mainnet, testnet, the local simulator): the bundled adapter cannot be pointed
  elsewhere, ours must.
* Every request first takes its weight from the shared `WeightedRateLimiter` (PROTOCOL.md §10),
  so all clients of a process stay inside the per-IP budget together; a 429 pauses all of them.
* Retries only where they are safe. `/info` is a read: transport errors, 5xx and 429 are retried
  with exponential backoff and jitter, a bounded number of times. `/exchange` is never retried:
  a second copy of an order action could double a position. When the outcome of an action is
  unknown (the connection broke, timed out, a gateway answered 5xx, the answer was garbled) the
  client raises `ExchangeTransportError`; the execution client then asks the venue about the
  order (by cloid) before deciding anything.
* Errors name the request (`info:l2Book`, `exchange:order`) and the HTTP status; 4xx bodies are
  parsed as the SDK does (JSON `{code, msg, data}` when possible, raw text otherwise).
* Every raw response body goes to the optional recorder hook with its receive time and a stream
  key (`rest:info:l2Book`, `rest:exchange:order`) so REST answers are replayable like frames.
* Request bodies are never logged (exchange bodies carry signatures); only request names are.

Nothing happens at import: the aiohttp session is created on first use and closed by `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import Final

import aiohttp
import msgspec
from nautilus_trader.common.component import Logger

from adapters.hyperliquid.rate_limit import WeightedRateLimiter
from adapters.hyperliquid.rate_limit import exchange_weight
from adapters.hyperliquid.rate_limit import info_extra_weight
from adapters.hyperliquid.rate_limit import info_weight
from adapters.hyperliquid.rate_limit import jittered_backoff
from adapters.hyperliquid.rate_limit import shared_rate_limiter
from adapters.hyperliquid.schemas.exchange import EXCHANGE_JSON_ENCODER
from adapters.hyperliquid.schemas.exchange import EXCHANGE_RESPONSE_DECODER
from adapters.hyperliquid.schemas.exchange import ExchangeResponse
from adapters.hyperliquid.schemas.info import INFO_JSON_ENCODER
from adapters.hyperliquid.schemas.info import INFO_RESPONSE_DECODERS

__all__ = [
    "ExchangeTransportError",
    "HyperliquidDecodeError",
    "HyperliquidError",
    "HyperliquidHttpClient",
    "HyperliquidHttpError",
    "HyperliquidRateLimitError",
    "HyperliquidTransportError",
    "RecorderHook",
    "action_type_of",
    "info_type_of",
    "parse_error_body",
]


RecorderHook = Callable[[bytes, int, str], None]
"""Receives (raw response body, receive time ns, stream key).

The key is ``rest:<info|exchange>:<type>`` for a 200 answer (``"rest:info:l2Book"``,
``"rest:exchange:order"``) and ``rest:<info|exchange>:<type>:<status>`` for any other status
(``"rest:info:l2Book:503"``), so a replay never mistakes an error body for an answer.
"""

_JSON_HEADERS: Final[Mapping[str, str]] = {"Content-Type": "application/json"}
_ERROR_TEXT_MAX: Final[int] = 500
_TRANSPORT_ERRORS: Final[tuple[type[BaseException], ...]] = (
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)


class HyperliquidError(Exception):
    """Base of every error raised by the Hyperliquid transport clients."""


class HyperliquidHttpError(HyperliquidError):
    """The venue answered with a non-200 HTTP status (outcome known: the request was refused).

    Parameters
    ----------
    request : str
        What was asked, e.g. ``"info:l2Book"`` or ``"exchange:order"``.
    status : int
        HTTP status code.
    body : str
        The body text (truncated).
    code, message, data : Any
        Fields of a JSON ``{code, msg, data}`` error body, ``None`` for a plain-text body.
    """

    def __init__(
        self,
        request: str,
        status: int,
        body: str,
        code: Any = None,
        message: Any = None,
        data: Any = None,
    ) -> None:
        self.request = request
        self.status = status
        self.body = body
        self.code = code
        self.message = message
        self.data = data
        detail = body if message is None else f"{message} (code={code!r}, data={data!r})"
        super().__init__(f"{request}: HTTP {status}: {detail}")


class HyperliquidRateLimitError(HyperliquidHttpError):
    """HTTP 429: the per-IP budget is exhausted; every client of the process is backing off."""


class HyperliquidTransportError(HyperliquidError):
    """An `/info` request failed below HTTP (connection, timeout) after all its retries."""

    def __init__(self, request: str, reason: str) -> None:
        self.request = request
        self.reason = reason
        super().__init__(f"{request}: {reason}")


class HyperliquidDecodeError(HyperliquidError):
    """A 200 answer did not match the schema of its request (venue changed, or a wrong URL)."""

    def __init__(self, request: str, reason: str, body: bytes) -> None:
        self.request = request
        self.reason = reason
        self.body = body
        excerpt = body[:_ERROR_TEXT_MAX].decode("utf-8", "replace")
        super().__init__(f"{request}: undecodable answer ({reason}): {excerpt}")


class ExchangeTransportError(HyperliquidError):
    """The outcome of an `/exchange` action is UNKNOWN: it may or may not have been applied.

    Raised when the connection broke or timed out, a gateway answered 5xx, or the answer could not
    be decoded. Never retry blindly: query the order (by cloid) first. ``request_sent`` is False
    only when no connection could be opened at all (then the action certainly did not reach the
    venue).
    """

    def __init__(
        self, request: str, reason: str, *, status: int | None = None, request_sent: bool = True
    ) -> None:
        self.request = request
        self.reason = reason
        self.status = status
        self.request_sent = request_sent
        super().__init__(f"{request}: outcome unknown: {reason}")


def info_type_of(body: Mapping[str, Any] | msgspec.Struct) -> str:
    """The `type` of an info body given as a dict or an info request Struct."""
    if isinstance(body, Mapping):
        info_type = body.get("type")
    else:
        info_type = getattr(type(body).__struct_config__, "tag", None)
    if not isinstance(info_type, str) or not info_type:
        raise ValueError("an info body needs a string 'type'")
    return info_type


def action_type_of(body: Mapping[str, Any] | msgspec.Struct) -> tuple[str, Any]:
    """The action `type` and the action of an `/exchange` body (dict or `ExchangeRequest`)."""
    action = body.get("action") if isinstance(body, Mapping) else getattr(body, "action", None)
    if isinstance(action, Mapping):
        action_type = action.get("type")
    else:
        action_type = getattr(getattr(type(action), "__struct_config__", None), "tag", None)
    if not isinstance(action_type, str) or not action_type:
        raise ValueError("an exchange body needs an action with a string 'type'")
    return action_type, action


def parse_error_body(request: str, status: int, raw: bytes) -> HyperliquidHttpError:
    """The error for a non-200 answer; JSON `{code, msg, data}` bodies are unpacked (as the SDK)."""
    text = raw[:_ERROR_TEXT_MAX].decode("utf-8", "replace")
    cls = HyperliquidRateLimitError if status == 429 else HyperliquidHttpError
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and ("msg" in parsed or "code" in parsed):
        return cls(request, status, text, parsed.get("code"), parsed.get("msg"), parsed.get("data"))
    return cls(request, status, text)


def _retry_after_secs(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        secs = float(value)
    except ValueError:
        return None
    return secs if secs >= 0 else None


class HyperliquidHttpClient:
    """`/info` and `/exchange` over aiohttp with rate limiting and safe retries (module notes).

    Parameters
    ----------
    base_url : str
        REST base, e.g. ``https://api.hyperliquid.xyz`` or the simulator's ``http://127.0.0.1:N``.
    limiter : WeightedRateLimiter, optional
        The process's limiter; ``None`` uses `shared_rate_limiter()`.
    recorder_hook : RecorderHook, optional
        Receives every raw response body (see `RecorderHook`).
    timeout_secs : float
        Total time allowed for one HTTP attempt.
    max_info_retries : int
        Retries of an `/info` request after its first attempt (0 disables retries).
    retry_initial_backoff_secs : float
        Delay before the first retry; doubled per retry, with jitter (50-100 % of the value).
    retry_max_backoff_secs : float
        Cap of the retry delay.
    rng : random.Random, optional
        Source of the jitter.
    clock_ns : Callable[[], int]
        Wall clock (ns) for receive timestamps.
    sleep : Callable[[float], Awaitable[None]]
        Coroutine used for retry delays.
    logger : Logger, optional
        NautilusTrader logger for retries and recorder failures (default: one named
        ``HyperliquidHttp``), so the lines reach the node's log with a component name.
    """

    def __init__(
        self,
        base_url: str,
        limiter: WeightedRateLimiter | None = None,
        recorder_hook: RecorderHook | None = None,
        *,
        timeout_secs: float = 10.0,
        max_info_retries: int = 3,
        retry_initial_backoff_secs: float = 0.25,
        retry_max_backoff_secs: float = 5.0,
        rng: random.Random | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        logger: Logger | None = None,
    ) -> None:
        if timeout_secs <= 0:
            raise ValueError("timeout_secs must be > 0")
        if max_info_retries < 0:
            raise ValueError("max_info_retries must be >= 0")
        if retry_initial_backoff_secs <= 0 or retry_max_backoff_secs < retry_initial_backoff_secs:
            raise ValueError("need 0 < retry_initial_backoff_secs <= retry_max_backoff_secs")
        base = base_url.rstrip("/")
        self._info_url = f"{base}/info"
        self._exchange_url = f"{base}/exchange"
        self._base_url = base
        self._limiter = limiter if limiter is not None else shared_rate_limiter()
        self._recorder_hook = recorder_hook
        self._timeout = aiohttp.ClientTimeout(total=timeout_secs)
        self._max_info_retries = max_info_retries
        self._retries_suspended = False
        self._backoff_initial = retry_initial_backoff_secs
        self._backoff_max = retry_max_backoff_secs
        self._rng = rng or random.Random()
        self._clock_ns = clock_ns
        self._sleep = sleep
        self._log = logger if logger is not None else Logger("HyperliquidHttp")
        self._session: aiohttp.ClientSession | None = None
        self.info_retries = 0
        """Retries of `/info` requests so far (transport errors, 5xx, 429)."""

    @contextlib.contextmanager
    def own_retries(self) -> Iterator[None]:
        """Inside this block `/info` requests are tried once: the caller retries them itself
        (start-up does, with its own backoff and one log line per attempt)."""
        self._retries_suspended = True
        try:
            yield
        finally:
            self._retries_suspended = False

    @property
    def base_url(self) -> str:
        """The REST base URL."""
        return self._base_url

    @property
    def limiter(self) -> WeightedRateLimiter:
        """The rate limiter this client takes its weight from."""
        return self._limiter

    async def __aenter__(self) -> HyperliquidHttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (a later request opens a new one)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed:
            session = aiohttp.ClientSession(timeout=self._timeout)
            self._session = session
        return session

    def _record(self, raw: bytes, recv_ns: int, request: str, status: int) -> None:
        hook = self._recorder_hook
        if hook is None:
            return
        stream = f"rest:{request}" if status == 200 else f"rest:{request}:{status}"
        try:
            hook(raw, recv_ns, stream)
        except Exception as exc:  # recording must never break a request
            self._log.exception(f"recorder hook failed for {stream}", exc)

    async def _post(self, url: str, payload: bytes) -> tuple[int, bytes, Mapping[str, str]]:
        session = self._get_session()
        async with session.post(url, data=payload, headers=_JSON_HEADERS) as response:
            raw = await response.read()
            return response.status, raw, response.headers

    # --- /info --------------------------------------------------------------------------------

    async def info(self, body: Mapping[str, Any] | msgspec.Struct) -> Any:
        """Send an `/info` request and return its decoded answer.

        The answer is typed (the `INFO_RESPONSE_TYPES` Struct/list/dict) when the request type has
        a schema, plain JSON values otherwise. Retries transport errors, 5xx and 429.
        """
        info_type = info_type_of(body)
        raw = await self.info_raw(body, info_type)
        decoder = INFO_RESPONSE_DECODERS.get(info_type)
        try:
            result = msgspec.json.decode(raw) if decoder is None else decoder.decode(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise HyperliquidDecodeError(f"info:{info_type}", str(exc), raw) from exc
        if isinstance(result, list):
            self._limiter.debit(info_extra_weight(info_type, len(result)))
        return result

    async def info_raw(
        self, body: Mapping[str, Any] | msgspec.Struct, info_type: str | None = None
    ) -> bytes:
        """Send an `/info` request and return the raw 200 body (retries as `info`)."""
        info_type = info_type or info_type_of(body)
        request = f"info:{info_type}"
        payload = INFO_JSON_ENCODER.encode(body)
        weight = info_weight(info_type)
        attempts = 1 if self._retries_suspended else self._max_info_retries + 1
        for attempt in range(1, attempts + 1):
            await self._limiter.acquire(weight)
            try:
                status, raw, headers = await self._post(self._info_url, payload)
            except _TRANSPORT_ERRORS as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                if attempt == attempts:
                    raise HyperliquidTransportError(
                        request, f"{reason} (after {attempts} attempts)"
                    ) from exc
                await self._retry(request, reason, attempt, attempts)
                continue
            self._record(raw, self._clock_ns(), request, status)
            if status == 200:
                self._limiter.on_success()
                return raw
            error = parse_error_body(request, status, raw)
            if status == 429:
                self._limiter.on_rate_limited(request, _retry_after_secs(headers))
            elif status < 500:
                raise error
            if attempt == attempts:
                raise error
            await self._retry(request, f"HTTP {status}", attempt, attempts)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _retry(self, request: str, reason: str, attempt: int, attempts: int) -> None:
        delay = jittered_backoff(attempt, self._backoff_initial, self._backoff_max, self._rng)
        self.info_retries += 1
        self._log.warning(
            f"{request} failed ({reason}); retry {attempt}/{attempts - 1} in {delay:.3f} s"
        )
        await self._sleep(delay)

    # --- /exchange ----------------------------------------------------------------------------

    async def exchange(self, body: Mapping[str, Any] | msgspec.Struct) -> ExchangeResponse:
        """Send a signed `/exchange` body ONCE and return the decoded `ExchangeOk`/`ExchangeErr`.

        Raises `ExchangeTransportError` when the outcome is unknown, `HyperliquidRateLimitError`
        on 429 and `HyperliquidHttpError` on other 4xx (both: the action was not applied).
        """
        action_type, action = action_type_of(body)
        request = f"exchange:{action_type}"
        payload = EXCHANGE_JSON_ENCODER.encode(body)
        await self._limiter.acquire(exchange_weight(action))
        try:
            status, raw, headers = await self._post(self._exchange_url, payload)
        except aiohttp.ClientConnectorError as exc:
            raise ExchangeTransportError(
                request, f"could not connect: {exc}", request_sent=False
            ) from exc
        except _TRANSPORT_ERRORS as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise ExchangeTransportError(request, reason) from exc
        self._record(raw, self._clock_ns(), request, status)
        if status == 200:
            self._limiter.on_success()
            try:
                return EXCHANGE_RESPONSE_DECODER.decode(raw)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                excerpt = raw[:_ERROR_TEXT_MAX].decode("utf-8", "replace")
                raise ExchangeTransportError(
                    request, f"undecodable answer ({exc}): {excerpt}", status=status
                ) from exc
        if status >= 500:
            excerpt = raw[:_ERROR_TEXT_MAX].decode("utf-8", "replace")
            raise ExchangeTransportError(request, f"HTTP {status}: {excerpt}", status=status)
        if status == 429:
            self._limiter.on_rate_limited(request, _retry_after_secs(headers))
        raise parse_error_body(request, status, raw)
