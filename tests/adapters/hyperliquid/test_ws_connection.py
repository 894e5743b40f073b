"""The picows connection under the WebSocket client, against a real `websockets` server on
loopback: whole messages in order (fragments joined, the ones before `deliver_to` kept), the
size limit, the peer's close and its reason, and no send on a closed connection."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosedError

from adapters.hyperliquid.ws_connection import ConnectionLost
from adapters.hyperliquid.ws_connection import open_connection

Script = Callable[[ServerConnection], Awaitable[None]]


class _Server:
    """A loopback server that runs ``script`` on each connection and records how it ended."""

    def __init__(self) -> None:
        self.script: Script | None = None
        self.received: list[Any] = []
        self.close_codes: list[int | None] = []
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        assert self.script is not None
        try:
            await self.script(ws)
            async for message in ws:
                self.received.append(message)
        except ConnectionClosedError:
            pass  # the client ended it without a clean close: `close_codes` has how
        finally:
            self.close_codes.append(ws.close_code)


@pytest.fixture
async def server() -> AsyncIterator[_Server]:
    state = _Server()
    async with serve(state.handler, "127.0.0.1", 0, max_size=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}"
        yield state


async def _wait_until(condition: Callable[[], bool], timeout_secs: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_secs
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def test_messages_before_and_after_deliver_to_arrive_whole_and_in_order(
    server: _Server,
) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send("Websocket connection established.")  # the venue greets at once
        await ws.send(b"\x00binary\xff")
        await ws.send(["frag", "mented ", "text"])  # one message in three frames
        await ws.send("last")

    server.script = script
    conn = await open_connection(server.url, max_size=1 << 20, open_timeout_secs=5.0)
    await asyncio.sleep(0.2)  # everything has arrived before anyone listens
    got: list[bytes] = []
    conn.deliver_to(got.append)
    await _wait_until(lambda: len(got) == 4)
    assert got == [
        b"Websocket connection established.",
        b"\x00binary\xff",
        b"fragmented text",
        b"last",
    ]
    conn.send_text(b'{"method":"ping"}')
    await _wait_until(lambda: server.received == ['{"method":"ping"}'])
    await conn.close(2.0)
    assert conn.close_reason == "closed by this client"
    await _wait_until(lambda: server.close_codes == [1000])


async def test_a_message_over_the_size_limit_in_fragments_closes_the_connection_with_1009(
    server: _Server,
) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send(["x" * 600, "y" * 600])  # 1,200 bytes in two frames of 600

    server.script = script
    conn = await open_connection(server.url, max_size=1_000, open_timeout_secs=5.0)
    got: list[bytes] = []
    conn.deliver_to(got.append)
    reason = await conn.wait_closed(5.0)
    assert reason == "protocol error: message over 1000 bytes"
    assert got == []
    await _wait_until(lambda: server.close_codes == [1009])
    with pytest.raises(ConnectionLost, match="message over 1000 bytes"):
        conn.send_text(b"{}")


async def test_a_single_frame_over_the_size_limit_ends_the_connection(server: _Server) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send("z" * 5_000)

    server.script = script
    conn = await open_connection(server.url, max_size=1_000, open_timeout_secs=5.0)
    got: list[bytes] = []
    conn.deliver_to(got.append)
    reason = await conn.wait_closed(5.0)
    assert reason.startswith("protocol error:")
    assert got == []
    assert not conn.is_open
    await _wait_until(lambda: server.close_codes == [1009])


async def test_the_peers_close_gives_its_code_and_reason_and_later_sends_fail(
    server: _Server,
) -> None:
    async def script(ws: ServerConnection) -> None:
        await ws.send("bye soon")
        await ws.close(1001, "going away")

    server.script = script
    conn = await open_connection(server.url, max_size=1 << 20, open_timeout_secs=5.0)
    got: list[bytes] = []
    conn.deliver_to(got.append)
    reason = await conn.wait_closed(5.0)
    assert reason == "closed by the peer (code 1001: going away)"
    assert got == [b"bye soon"]
    assert not conn.is_open
    with pytest.raises(ConnectionLost, match="code 1001"):
        conn.send_text(b"{}")


async def test_abort_drops_the_socket_with_the_reason_given(server: _Server) -> None:
    async def script(ws: ServerConnection) -> None:
        return None

    server.script = script
    conn = await open_connection(server.url, max_size=1 << 20, open_timeout_secs=5.0)
    conn.deliver_to(lambda raw: None)
    conn.abort("no frame (not even a pong) for 61.0 s")
    assert await conn.wait_closed(5.0) == "no frame (not even a pong) for 61.0 s"
    await _wait_until(lambda: len(server.close_codes) == 1)
    assert server.close_codes != [1000]  # no closing handshake


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1 and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "cert.pem"
    key_file = tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


async def test_wss_verifies_the_servers_certificate_and_carries_frames(tmp_path: Path) -> None:
    server_ctx, client_ctx = _self_signed(tmp_path)

    async def handler(ws: ServerConnection) -> None:
        await ws.send("over tls")
        async for message in ws:
            text = message if isinstance(message, str) else message.decode()
            await ws.send(f"echo {text}")

    async with serve(handler, "127.0.0.1", 0, ssl=server_ctx) as srv:
        url = f"wss://127.0.0.1:{srv.sockets[0].getsockname()[1]}"
        # The system's CAs do not know this certificate: refused.
        with pytest.raises(ssl.SSLCertVerificationError):
            await open_connection(url, max_size=1 << 20, open_timeout_secs=5.0)
        conn = await open_connection(
            url, max_size=1 << 20, open_timeout_secs=5.0, ssl_context=client_ctx
        )
        got: list[bytes] = []
        conn.deliver_to(got.append)
        conn.send_text(b"hi")
        await _wait_until(lambda: len(got) == 2)
        assert got == [b"over tls", b"echo hi"]
        await conn.close(2.0)


async def test_connecting_to_a_port_nobody_listens_on_fails() -> None:
    with pytest.raises(OSError):
        await open_connection("ws://127.0.0.1:9", max_size=1 << 20, open_timeout_secs=2.0)
