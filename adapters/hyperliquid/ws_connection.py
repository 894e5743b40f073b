"""One WebSocket connection for `HyperliquidWebSocketClient`, on picows, handing each message over
as soon as it is parsed.

Why not ``websockets`` (which the simulator's server and the tests' clients still use): on the
node's receive path its pure-Python frame parser and its receive queue (an asyncio future and a
loop iteration per message, between the socket and ``recv()``) took ~29 % of the interpreter
thread's time per book frame (benchmarks/README.md, ``bench_peer``). picows parses frames in C
and calls back from the protocol's ``data_received``: a message reaches the frame handler in the
loop iteration that read it, in order, and TCP is the only buffer (the handler runs before the
next read), so a slow handler slows the venue's sending instead of growing a queue.

What the client relied on from ``websockets`` is kept: whole messages (fragments are joined),
raw bytes (text is not decoded), a size limit, replies to the peer's pings, a closing handshake,
and ``ConnectionLost`` for a send on a connection that is gone.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable

from picows import WSCloseCode
from picows import WSError
from picows import WSFrame
from picows import WSListener
from picows import WSMsgType
from picows import WSTransport
from picows import ws_connect

__all__ = ["ConnectionLost", "WsConnection", "open_connection"]

# picows logs through the standard logging module; its per-connection debug lines are noise in a
# trader's terminal (the client logs connects and disconnects itself).
logging.getLogger("picows").setLevel(logging.WARNING)

_TEXT = WSMsgType.TEXT
_BINARY = WSMsgType.BINARY
_CONTINUATION = WSMsgType.CONTINUATION
_CLOSE = WSMsgType.CLOSE


class ConnectionLost(Exception):
    """A send on a connection that is closed or closing: nothing was sent."""


class WsConnection(WSListener):
    """
    The listener of one connection: joins fragments and hands each message (bytes) over.

    Messages that arrive before `deliver_to` (the venue's greeting may come in the same read as
    the handshake) are kept and handed over first, in order, when it is called.
    """

    def __init__(self, max_size: int) -> None:
        self._max_size = max_size
        self._deliver: Callable[[bytes], None] | None = None
        self._early: list[bytes] = []
        self._parts: list[bytes] | None = None
        self._parts_size = 0
        self._transport: WSTransport | None = None
        self.close_reason: str | None = None

    # -- picows callbacks (event loop thread) -------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type is _TEXT or msg_type is _BINARY:
            if self._parts is not None:
                self._fail(
                    transport, WSCloseCode.PROTOCOL_ERROR, "new message inside a fragmented one"
                )
            elif frame.fin:
                if frame.payload_size > self._max_size:  # picows may hand it over first
                    self._too_big(transport)
                else:
                    self._message(frame.get_payload_as_bytes())
            else:
                self._parts = []
                self._parts_size = 0
                self._add_part(transport, frame)
        elif msg_type is _CONTINUATION:
            if self._parts is None:
                self._fail(transport, WSCloseCode.PROTOCOL_ERROR, "continuation without a message")
            elif self._add_part(transport, frame) and frame.fin:
                parts, self._parts = self._parts, None
                self._message(b"".join(parts))
        elif msg_type is _CLOSE:
            if self.close_reason is None:
                code = frame.get_close_code().value
                text = frame.get_close_reason()
                detail = f": {text}" if text else ""
                self.close_reason = f"closed by the peer (code {code}{detail})"
            if not transport.is_close_frame_sent:
                transport.send_close(WSCloseCode.OK)
            transport.disconnect()
        # PING is answered by picows (enable_auto_pong); PONG needs nothing.

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.close_reason is None:
            self.close_reason = "connection closed"

    # -- the client's side ------------------------------------------------------------------

    def deliver_to(self, deliver: Callable[[bytes], None]) -> None:
        """Hand every message to ``deliver`` from now on, the ones that came before first."""
        early, self._early = self._early, []
        for raw in early:
            deliver(raw)
        self._deliver = deliver

    @property
    def is_open(self) -> bool:
        transport = self._transport
        return transport is not None and not transport.is_disconnected

    def send_text(self, message: bytes) -> None:
        """Queue a text frame; `ConnectionLost` when the connection is closed or closing."""
        transport = self._transport
        if transport is None or transport.is_disconnected or transport.is_close_frame_sent:
            raise ConnectionLost(self.close_reason or "connection closed")
        transport.send(_TEXT, message)

    async def close(self, timeout_secs: float) -> None:
        """Closing handshake, then wait (at most ``timeout_secs``) until the socket is closed."""
        transport = self._transport
        if transport is None:
            return
        if self.close_reason is None:
            self.close_reason = "closed by this client"
        if not transport.is_disconnected:
            if not transport.is_close_frame_sent:
                transport.send_close(WSCloseCode.OK)
            transport.disconnect(graceful=True)
        await self.wait_closed(timeout_secs)

    def abort(self, reason: str) -> None:
        """Drop the socket at once (no closing handshake)."""
        if self.close_reason is None:
            self.close_reason = reason
        transport = self._transport
        if transport is not None:
            transport.disconnect(graceful=False)

    async def wait_closed(self, timeout_secs: float | None = None) -> str:
        """Until the connection is closed; the reason. Re-raises what a message handler raised
        (picows then closed the connection), so the client can log it as its own bug."""
        transport = self._transport
        if transport is not None:
            try:
                if timeout_secs is None:
                    await transport.wait_disconnected()
                else:
                    await asyncio.wait_for(transport.wait_disconnected(), timeout_secs)
            except WSError as exc:  # picows ended it: a frame it could not accept (the
                # peer's echo of that close may have set a reason already; this is the cause)
                self.close_reason = f"protocol error: {exc}"
        return self.close_reason or "connection closed"

    # -- internals ------------------------------------------------------------------------------

    def _message(self, raw: bytes) -> None:
        deliver = self._deliver
        if deliver is None:
            self._early.append(raw)
        else:
            deliver(raw)

    def _add_part(self, transport: WSTransport, frame: WSFrame) -> bool:
        assert self._parts is not None
        self._parts_size += frame.payload_size
        if self._parts_size > self._max_size:
            self._parts = None
            self._too_big(transport)
            return False
        self._parts.append(frame.get_payload_as_bytes())
        return True

    def _too_big(self, transport: WSTransport) -> None:
        self._fail(transport, WSCloseCode.MESSAGE_TOO_BIG, f"message over {self._max_size} bytes")

    def _fail(self, transport: WSTransport, code: WSCloseCode, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = f"protocol error: {reason}"
        if not transport.is_close_frame_sent:
            transport.send_close(code, reason.encode())
        transport.disconnect()


async def open_connection(
    url: str,
    *,
    max_size: int,
    open_timeout_secs: float,
    proxy: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> WsConnection:
    """Connect and complete the handshake within ``open_timeout_secs``; the listener.

    ``wss://`` URLs verify the server's certificate against the system's CAs unless another
    ``ssl_context`` is given. The sockets are asyncio's own (not picows' optional aiofastnet
    transports): the same throughput here (bench_transport), and the transport every other
    connection of the node uses.
    """
    _transport, listener = await asyncio.wait_for(
        ws_connect(
            lambda: WsConnection(max_size),
            url,
            websocket_handshake_timeout=open_timeout_secs,
            enable_auto_pong=True,
            max_frame_size=max_size,
            disconnect_on_exception=True,
            proxy=proxy,
            ssl_context=ssl_context,
            use_aiofastnet=False,
        ),
        open_timeout_secs,
    )
    assert isinstance(listener, WsConnection)
    return listener
