"""REST client against the real simulator (and a raw socket server for broken connections).

What must hold: answers are decoded into the schemas, raw bodies reach the recorder hook, /info
is retried (bounded, with backoff) on 5xx, 429 and transport errors, /exchange is sent exactly
once whatever happens (the server's own counters prove it), errors name the request and status,
and no request body (signatures) ever reaches the logs.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.hyperliquid.http import ExchangeTransportError
from adapters.hyperliquid.http import HyperliquidDecodeError
from adapters.hyperliquid.http import HyperliquidHttpClient
from adapters.hyperliquid.http import HyperliquidHttpError
from adapters.hyperliquid.http import HyperliquidRateLimitError
from adapters.hyperliquid.http import HyperliquidTransportError
from adapters.hyperliquid.http import parse_error_body
from adapters.hyperliquid.rate_limit import WeightedRateLimiter
from adapters.hyperliquid.schemas.common import L2Book
from adapters.hyperliquid.schemas.exchange import EXCHANGE_REQUEST_DECODER
from adapters.hyperliquid.schemas.exchange import ExchangeErr
from adapters.hyperliquid.schemas.exchange import ExchangeOk
from adapters.hyperliquid.schemas.exchange import OrderResponse
from adapters.hyperliquid.schemas.exchange import OrderStatusEntry
from adapters.hyperliquid.schemas.info import CandleSnapshotParams
from adapters.hyperliquid.schemas.info import CandleSnapshotRequest
from adapters.hyperliquid.schemas.info import L2BookRequest
from adapters.hyperliquid.schemas.info import Meta
from adapters.hyperliquid.signing import HyperliquidSigner
from jarvis.testkit import CapturingLogger
from simulator.app import SimConfig
from simulator.app import SimServer
from simulator.faults import FaultKind

KEY = "0x" + "42" * 32  # a throwaway test key, funded by the simulator's initial_usdc


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(SimConfig(stepped=True, seed=3, initial_usdc=100_000.0)) as server:
        server.step(4)
        yield server


class RecordedSleeps:
    """Retry delays are recorded and only briefly slept, so backoff is checked without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, secs: float) -> None:
        self.delays.append(secs)
        await asyncio.sleep(0)


def _client(
    base_url: str, **kwargs: Any
) -> tuple[
    HyperliquidHttpClient, WeightedRateLimiter, RecordedSleeps, list[tuple[bytes, int, str]]
]:
    limiter = WeightedRateLimiter()
    sleeps = RecordedSleeps()
    recorded: list[tuple[bytes, int, str]] = []
    client = HyperliquidHttpClient(
        base_url,
        limiter,
        lambda body, ns, key: recorded.append((body, ns, key)),
        sleep=sleeps,
        rng=random.Random(1),
        **kwargs,
    )
    return client, limiter, sleeps, recorded


def _http_error_fault(sim: SimServer, status: int, count: int, path: str) -> None:
    sim.venue.apply_fault(FaultKind.HTTP_ERROR, {"status": status, "count": count, "path": path})


def _remaining_http_errors(sim: SimServer) -> int:
    return sum(fault.remaining for fault in sim.venue.faults.http_errors)


def _signed_order(sim_px: float, nonce: int, signer: HyperliquidSigner) -> dict[str, Any]:
    action = {
        "type": "order",
        "orders": [
            {
                "a": 0,
                "b": True,
                "p": str(int(sim_px * 0.95)),
                "s": "0.001",
                "r": False,
                "t": {"limit": {"tif": "Gtc"}},
            }
        ],
        "grouping": "na",
    }
    signature = signer.sign_l1_action(action, nonce)
    return {"action": action, "nonce": nonce, "signature": signature, "vaultAddress": None}


# --- /info ------------------------------------------------------------------------------------


async def test_info_decodes_known_types_into_schemas_and_records_the_raw_body(
    sim: SimServer,
) -> None:
    client, limiter, _, recorded = _client(sim.base_url)
    before = time.time_ns()
    async with client:
        book = await client.info(L2BookRequest(coin="BTC"))
        meta = await client.info({"type": "meta"})
    after = time.time_ns()

    assert isinstance(book, L2Book)
    assert book.coin == "BTC"
    assert len(book.levels[0]) > 0 and len(book.levels[1]) > 0
    assert float(book.levels[0][0].px) < float(book.levels[1][0].px)
    assert isinstance(meta, Meta)
    assert [asset.name for asset in meta.universe] == ["BTC", "ETH", "SOL"]
    assert [key for _, _, key in recorded] == ["rest:info:l2Book", "rest:info:meta"]
    assert all(before <= ns <= after for _, ns, _ in recorded)
    assert b'"coin":"BTC"' in recorded[0][0]
    assert limiter.metrics.weight_acquired == 2 + 20  # l2Book weighs 2, meta 20


async def test_info_of_a_type_without_schema_returns_plain_json_and_charges_per_item(
    sim: SimServer,
) -> None:
    sim.step(40)  # the market trades, so recentTrades has prints
    client, limiter, _, _ = _client(sim.base_url)
    async with client:
        trades = await client.info({"type": "recentTrades", "coin": "ETH"})

    assert isinstance(trades, list) and trades
    assert isinstance(trades[0], dict)
    assert trades[0]["coin"] == "ETH"
    assert limiter.metrics.weight_acquired == 20 + len(trades) // 20


async def test_candle_snapshot_charges_one_extra_weight_per_60_candles(sim: SimServer) -> None:
    sim.step(2_000)  # 500 s of market: 9 one-minute candles
    now_ms = sim.venue.clock.now_ms()
    client, limiter, _, _ = _client(sim.base_url)
    request = CandleSnapshotRequest(
        req=CandleSnapshotParams(coin="BTC", interval="1m", startTime=0, endTime=now_ms)
    )
    async with client:
        candles = await client.info(request)

    assert len(candles) >= 2
    assert limiter.metrics.weight_acquired == 20 + len(candles) // 60


async def test_info_is_retried_on_5xx_with_growing_jittered_backoff(sim: SimServer) -> None:
    _http_error_fault(sim, 503, 3, "info")
    client, _, sleeps, recorded = _client(
        sim.base_url, max_info_retries=3, retry_initial_backoff_secs=0.1
    )
    async with client:
        book = await client.info(L2BookRequest(coin="ETH"))

    assert book.coin == "ETH"
    assert _remaining_http_errors(sim) == 0
    assert client.info_retries == 3
    for delay, base in zip(sleeps.delays, (0.1, 0.2, 0.4), strict=True):
        assert base / 2 <= delay <= base
    # The failed answers were recorded too (they are part of what happened), marked by status.
    assert [key for _, _, key in recorded] == ["rest:info:l2Book:503"] * 3 + ["rest:info:l2Book"]
    assert recorded[0][0] == b"Service Unavailable"


async def test_info_retries_are_bounded_and_the_last_error_names_request_and_status(
    sim: SimServer,
) -> None:
    _http_error_fault(sim, 502, 10, "info")
    client, _, sleeps, _ = _client(sim.base_url, max_info_retries=2)
    async with client:
        with pytest.raises(HyperliquidHttpError) as caught:
            await client.info({"type": "allMids"})

    assert caught.value.status == 502
    assert caught.value.request == "info:allMids"
    assert "info:allMids: HTTP 502" in str(caught.value)
    assert _remaining_http_errors(sim) == 10 - 3  # exactly 1 + 2 retries reached the server
    assert len(sleeps.delays) == 2


async def test_a_429_on_info_backs_off_through_the_shared_limiter_and_is_counted(
    sim: SimServer,
) -> None:
    log = CapturingLogger()
    _http_error_fault(sim, 429, 1, "info")
    limiter = WeightedRateLimiter(backoff_initial_secs=0.05, backoff_max_secs=0.05, logger=log)
    client = HyperliquidHttpClient(sim.base_url, limiter, retry_initial_backoff_secs=0.01)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with client:
        book = await client.info(L2BookRequest(coin="SOL"))

    assert book.coin == "SOL"
    assert loop.time() - started >= 0.05  # the limiter's pause was really waited
    assert limiter.metrics.rate_limited == 1
    assert limiter.metrics.waits == 1
    assert any(line.startswith("WARNING ") and "HTTP 429" in line for line in log.lines)


async def test_a_4xx_on_info_is_not_retried_and_carries_the_venue_text(sim: SimServer) -> None:
    client, _, sleeps, _ = _client(sim.base_url)
    async with client:
        with pytest.raises(HyperliquidHttpError) as caught:
            await client.info({"type": "noSuchInfoType"})

    assert caught.value.status == 422
    assert caught.value.body.startswith("Failed to deserialize")
    assert sleeps.delays == []
    assert client.info_retries == 0


async def test_a_200_that_does_not_match_the_schema_is_a_decode_error_naming_the_request(
    raw_server: RawServer,
) -> None:
    raw_server.reply = b'{"coin":"BTC"}'  # an l2Book answer without time and levels
    client, _, _, _ = _client(raw_server.url)
    async with client:
        with pytest.raises(HyperliquidDecodeError, match="info:l2Book"):
            await client.info(L2BookRequest(coin="BTC"))


# --- /exchange --------------------------------------------------------------------------------


async def test_a_signed_order_is_accepted_and_decoded(sim: SimServer) -> None:
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    client, limiter, _, recorded = _client(sim.base_url)
    async with client:
        mids = await client.info({"type": "allMids"})
        nonce = sim.venue.clock.now_ms()
        as_dict = await client.exchange(_signed_order(float(mids["BTC"]), nonce, signer))
        body = _signed_order(float(mids["BTC"]), nonce + 1, signer)
        as_struct = await client.exchange(EXCHANGE_REQUEST_DECODER.decode(json.dumps(body)))

    for answer in (as_dict, as_struct):
        assert isinstance(answer, ExchangeOk)
        assert isinstance(answer.response, OrderResponse)
        status = answer.response.data.statuses[0]
        assert isinstance(status, OrderStatusEntry)
        assert status.resting is not None and status.resting.oid > 0
    assert [key for _, _, key in recorded[-2:]] == ["rest:exchange:order"] * 2
    assert limiter.metrics.weight_acquired == 2 + 1 + 1


async def test_a_whole_action_refusal_is_returned_as_exchange_err() -> None:
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    async with SimServer(SimConfig(stepped=True, initial_usdc=0.0)) as unfunded:
        client, _, _, _ = _client(unfunded.base_url)
        async with client:
            body = _signed_order(50_000.0, unfunded.venue.clock.now_ms(), signer)
            answer = await client.exchange(body)

    assert isinstance(answer, ExchangeErr)
    # An unfunded signer is unknown to the venue: a whole-action refusal (HTTP 200, status err).
    assert answer.response == f"User or API Wallet {signer.address} does not exist."


async def test_exchange_is_never_retried_on_5xx_and_reports_an_unknown_outcome(
    sim: SimServer,
) -> None:
    log = CapturingLogger()
    _http_error_fault(sim, 503, 5, "exchange")
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    body = _signed_order(50_000.0, sim.venue.clock.now_ms(), signer)
    client, _, sleeps, _ = _client(sim.base_url, logger=log)
    async with client:
        with pytest.raises(ExchangeTransportError) as caught:
            await client.exchange(body)

    assert _remaining_http_errors(sim) == 4  # exactly one request reached the server
    assert sleeps.delays == []
    assert caught.value.status == 503
    assert caught.value.request == "exchange:order"
    assert "outcome unknown" in str(caught.value)
    signature_r = body["signature"]["r"]
    assert signature_r not in log.text
    assert signature_r not in str(caught.value)


async def test_a_429_on_exchange_is_not_retried_but_pauses_the_limiter(sim: SimServer) -> None:
    _http_error_fault(sim, 429, 3, "exchange")
    signer = HyperliquidSigner(KEY, is_mainnet=False)
    client, limiter, _, _ = _client(sim.base_url)
    async with client:
        with pytest.raises(HyperliquidRateLimitError) as caught:
            await client.exchange(_signed_order(50_000.0, sim.venue.clock.now_ms(), signer))

    assert caught.value.status == 429
    assert _remaining_http_errors(sim) == 2
    assert limiter.metrics.rate_limited == 1


# --- broken connections (a raw socket server that counts requests) ---------------------------


class RawServer:
    """Counts HTTP requests; then drops the connection, stays silent, or answers `reply`."""

    def __init__(self) -> None:
        self.requests = 0
        self.mode = "reply"
        self.reply = b"{}"
        self.url = ""
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                self.requests += 1
                if self.mode == "drop":
                    writer.transport.abort()
                    return
                if self.mode == "silent":
                    await reader.read()  # until the client gives up and closes
                    return
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(self.reply)}\r\n\r\n".encode()
                    + self.reply
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    server = RawServer()
    await server.start()
    yield server
    await server.stop()


_BODY = {
    "action": {"type": "cancel", "cancels": [{"a": 0, "o": 1}]},
    "nonce": 1,
    "signature": {"r": "0x1", "s": "0x2", "v": 27},
    "vaultAddress": None,
}


async def test_info_retries_dropped_connections_then_raises_a_transport_error(
    raw_server: RawServer,
) -> None:
    raw_server.mode = "drop"
    client, _, sleeps, recorded = _client(raw_server.url, max_info_retries=2)
    async with client:
        with pytest.raises(HyperliquidTransportError, match=r"info:meta: .*after 3 attempts"):
            await client.info({"type": "meta"})

    assert raw_server.requests == 3
    assert len(sleeps.delays) == 2
    assert recorded == []  # no body was received


async def test_exchange_on_a_dropped_connection_is_sent_once_and_outcome_is_unknown(
    raw_server: RawServer,
) -> None:
    raw_server.mode = "drop"
    client, _, sleeps, _ = _client(raw_server.url)
    async with client:
        with pytest.raises(ExchangeTransportError) as caught:
            await client.exchange(_BODY)

    assert raw_server.requests == 1
    assert sleeps.delays == []
    assert caught.value.request_sent is True
    assert caught.value.request == "exchange:cancel"


async def test_exchange_timeout_is_sent_once_and_outcome_is_unknown(
    raw_server: RawServer,
) -> None:
    raw_server.mode = "silent"
    client, _, _, _ = _client(raw_server.url, timeout_secs=0.3)
    async with client:
        with pytest.raises(ExchangeTransportError, match="outcome unknown"):
            await client.exchange(_BODY)

    assert raw_server.requests == 1


async def test_exchange_that_cannot_connect_says_the_request_was_never_sent(
    raw_server: RawServer,
) -> None:
    url = raw_server.url
    await raw_server.stop()  # nothing listens on that port any more
    client, _, _, _ = _client(url)
    async with client:
        with pytest.raises(ExchangeTransportError) as caught:
            await client.exchange(_BODY)

    assert caught.value.request_sent is False


async def test_an_undecodable_exchange_answer_is_an_unknown_outcome(raw_server: RawServer) -> None:
    raw_server.reply = b'{"status":"maybe"}'
    client, _, _, _ = _client(raw_server.url)
    async with client:
        with pytest.raises(ExchangeTransportError, match="undecodable answer"):
            await client.exchange(_BODY)
    assert raw_server.requests == 1


# --- error bodies -----------------------------------------------------------------------------


def test_json_error_bodies_are_unpacked_like_the_sdk_does() -> None:
    error = parse_error_body("exchange:order", 400, b'{"code":7,"msg":"bad nonce","data":[1]}')

    assert (error.status, error.code, error.message, error.data) == (400, 7, "bad nonce", [1])
    assert str(error) == "exchange:order: HTTP 400: bad nonce (code=7, data=[1])"


def test_plain_text_error_bodies_are_kept_as_text() -> None:
    error = parse_error_body("info:meta", 422, b"Failed to deserialize the JSON body")

    assert error.message is None
    assert str(error) == "info:meta: HTTP 422: Failed to deserialize the JSON body"
    assert isinstance(parse_error_body("info:meta", 429, b"slow down"), HyperliquidRateLimitError)
