"""The simulator's transport: `POST /info`, `POST /exchange`, WebSocket `/ws` and `/admin/*`.

One aiohttp application on one loopback port, the layout the official SDK derives from a base
URL. `SimVenue` is the single owner of the engine: every engine call happens on the event loop
thread, is followed by draining the engine's events, and those events are handed to the market
(its own bookkeeping) and to the feeds (WebSocket pushes) in order. Time comes only from the
`SimClock`; the market advances in steps, either on a timer (real / accelerated time) or on
request (`/admin/step`, `SimServer.step`), which is what makes stepped runs reproducible.

The admin endpoint is not part of the venue API: it funds accounts, steps the market, injects
faults (see `faults.py`) and shapes the market for tests (one side's depth, open interest and
the flow that comes with it, funding, the mark), so a strategy's exits and invalidations can be
triggered on purpose.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import TYPE_CHECKING
from typing import Any

from aiohttp import WSMsgType
from aiohttp import web

from simulator.errors import InfoRequestError
from simulator.faults import HTTP_ERROR_TEXT
from simulator.faults import FaultKind
from simulator.faults import FaultRequestError
from simulator.faults import FaultState
from simulator.faults import parse_kind
from simulator.latency import LatencyModel
from simulator.market import valid_px
from simulator.spot import SpotMaker
from simulator.ws import FeedPublisher
from simulator.ws import SubscriptionError
from simulator.ws import UnknownCoinError
from simulator.ws import WsConnection
from simulator.ws import WsHub
from simulator.ws import compact_json
from simulator.ws import encode_frame
from simulator.ws import parse_subscription

if TYPE_CHECKING:
    from simulator.clock import SimClock
    from simulator.engine import SimEngine
    from simulator.market import LivingMarket

log = logging.getLogger(__name__)

CONNECTION_ESTABLISHED = "Websocket connection established."
DESERIALIZE_ERROR = "Failed to deserialize the JSON body into the target type"
WS_PARSE_ERROR = "Error parsing JSON into valid websocket request: {text}"
JSON_CONTENT_TYPE = "application/json"


class SimVenue:
    """Engine, clock, market, feeds and faults wired together; all calls on the loop thread.

    Parameters
    ----------
    engine : SimEngine
        The pure venue core.
    clock : SimClock
        The only source of venue time.
    market : LivingMarket | None
        Background makers and takers (None: a silent venue with only client orders).
    step_ms : int
        Venue milliseconds per market step.
    latency : LatencyModel | None
        Request and stream delays (None: no latency).
    """

    def __init__(
        self,
        engine: SimEngine,
        clock: SimClock,
        market: LivingMarket | None,
        *,
        step_ms: int = 250,
        idle_timeout_s: float = 60.0,
        latency: LatencyModel | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.market = market
        self.step_ms = step_ms
        self.idle_timeout_s = idle_timeout_s
        self.faults = FaultState()
        self.latency = latency if latency is not None else LatencyModel()
        self.hub = WsHub(self.faults, self.latency)
        self.feeds = FeedPublisher(engine, self.hub)
        self.spot_maker = SpotMaker()  # quotes the spot pairs whenever the market runs
        self.coins = frozenset(c.name for c in engine.coins) | frozenset(engine.spot_markets)
        self.steps = 0

    # --- engine access (always followed by a drain) ------------------------------------------

    def info(self, body: dict[str, Any]) -> Any:
        """Answer an /info body (raises InfoRequestError for bad requests)."""
        now = self.clock.now_ms()
        result = self.engine.info(body, now)
        self._drain(now)
        return result

    def exchange(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply an /exchange body and publish what it caused."""
        now = self.clock.now_ms()
        try:
            return self.engine.exchange(body, now)
        finally:
            self._drain(now)

    def fund(self, user: str, usdc: float, volume_usd: float = 0.0) -> None:
        """Credit perp USDC to `user` (admin; tests need funded accounts), and optionally
        lifetime traded volume (accounts that must pass the venue's volume gates)."""
        self.engine.credit_usdc(user.lower(), usdc)
        if volume_usd:
            self.engine.credit_volume(user, volume_usd)
        self._drain(self.clock.now_ms())

    def release_schedule(self) -> None:
        """Start the held scenario schedule's clock now (`LivingMarket.release_schedule`)."""
        if self.market is None:
            raise ValueError("release_schedule: this venue runs no market (market=False)")
        self.market.release_schedule(self.clock.now_ms())

    def step(self, now_ms: int | None = None) -> int:
        """One market step at `now_ms` (default: the clock's now); returns the step's time."""
        now = self.clock.now_ms() if now_ms is None else now_ms
        if self.market is not None and not self.faults.market_paused:
            self.market.step(now)
            self._drain(now)
            self.spot_maker.step(self.engine, now)
            self._drain(now)
        self.engine.tick(now)
        self._drain(now)
        self.feeds.on_step(now)
        self.steps += 1
        return now

    def advance(self, n: int = 1) -> int:
        """Stepped mode: move the clock by `step_ms` and step, `n` times; returns the new now."""
        now = self.clock.now_ms()
        for _ in range(n):
            now = self.clock.advance(self.step_ms)
            self.step(now)
        return now

    def set_oracle(self, coin: str, px: float) -> None:
        """Move `coin`'s oracle (and mark) at once; the market carries on from there."""
        now = self.clock.now_ms()
        if self.market is not None:
            self.market.set_oracle(coin, px, now)
        else:
            self.engine.set_oracle_px(coin, px, now)
        self._drain(now)
        self.engine.tick(now)
        self._drain(now)
        self.feeds.on_step(now)

    def move_mark(self, coin: str, px: float, book: bool = True) -> tuple[float, float | None]:
        """Move ``coin``'s price to ``px`` now (admin) and answer (mark, mid) after it.

        ``book``: the market's fair price moves (makers requote, so mid and mark follow, and the
        market walks on from there; without a living market the oracle is set). Without it only
        the venue's mark is forced, until the market's next step takes it from the oracle and
        book again: mark-triggered orders (stops, take-profits) fire on it while the book and
        its mid stay where they were. Either way the triggers are checked on this call.
        """
        now = self.clock.now_ms()
        market = self.engine.market(coin)
        px = valid_px(px, market.sz_decimals)
        if not book:
            self.engine.set_mark_px(coin, px, now)
        elif self.market is not None:
            self.market.move_fair(coin, px, now)
        else:
            self.engine.set_oracle_px(coin, px, now)
        self._drain(now)
        self.engine.tick(now)
        self._drain(now)
        self.feeds.on_step(now)
        bid, ask = self.engine.best_bid_ask(coin)
        mid = None if bid is None or ask is None else (bid + ask) / 2.0
        return market.mark, mid

    def shape_book(self, coin: str, bid_mult: float, ask_mult: float) -> None:
        """Scale `coin`'s maker depth per side (admin; 1, 1 restores the scenario's book)."""
        now = self.clock.now_ms()
        market = self._living_market()
        market.shape_book(coin, bid_mult, ask_mult, now)
        self._drain(now)
        self.feeds.on_step(now)

    def change_open_interest(self, coin: str, usd: float, aggressor: str | None = None) -> int:
        """Open (> 0) or close (< 0) `usd` of open interest by trades; returns the new OI.
        ``aggressor`` ``"buy"``/``"sell"``: that side takes in every trade (one-sided flow)."""
        now = self.clock.now_ms()
        self._living_market().change_open_interest(coin, usd, now, aggressor)
        self._drain(now)
        self.engine.tick(now)
        self._drain(now)
        self.feeds.on_step(now)
        return self.engine.open_interest(coin)

    def set_funding(self, coin: str, rate: float | None) -> None:
        """Force `coin`'s current hourly funding rate (None: back to the premium rule)."""
        self.engine.set_funding_rate(coin, rate)
        self.feeds.on_step(self.clock.now_ms())

    def _living_market(self) -> LivingMarket:
        if self.market is None:
            raise FaultRequestError("this simulator runs no market (no scenario) to shape")
        return self.market

    def jump(self, ms: int) -> int:
        """Jump venue time (fault `jump-clock`) and let the engine catch up at once."""
        now = self.clock.jump(ms)
        self.step(now)
        return now

    def _drain(self, now_ms: int) -> None:
        events = self.engine.drain_events()
        if events:
            if self.market is not None:
                self.market.on_events(events)
            self.feeds.on_events(events, now_ms)

    # --- WebSocket requests ------------------------------------------------------------------

    def on_ws_text(self, conn: WsConnection, text: str) -> bool:
        """Handle one client frame; False means drop the socket (as the venue does)."""
        try:
            msg = json.loads(text)
        except ValueError:
            conn.send(encode_frame("error", WS_PARSE_ERROR.format(text=text)))
            return True
        if not isinstance(msg, dict):
            conn.send(encode_frame("error", WS_PARSE_ERROR.format(text=text)))
            return True
        method = msg.get("method")
        if method == "ping":
            conn.send('{"channel":"pong"}')
        elif method in ("subscribe", "unsubscribe"):
            return self._on_subscription(conn, method, msg.get("subscription"))
        elif method == "post":
            self._on_post(conn, msg)
        else:
            conn.send(encode_frame("error", WS_PARSE_ERROR.format(text=text)))
        return True

    def _on_subscription(self, conn: WsConnection, method: str, raw: Any) -> bool:
        try:
            sub = parse_subscription(raw, self.coins)
        except UnknownCoinError:
            return False
        except SubscriptionError as exc:
            conn.send(encode_frame("error", str(exc)))
            return True
        if method == "subscribe":
            if sub.key in conn.subs:
                conn.send(encode_frame("error", f"Already subscribed: {compact_json(raw)}"))
                return True
            self.hub.subscribe(conn, sub)
            conn.send(
                encode_frame("subscriptionResponse", {"method": method, "subscription": sub.echo})
            )
            self.feeds.snapshot(conn, sub, self.clock.now_ms())
        else:
            if not self.hub.unsubscribe(conn, sub):
                conn.send(encode_frame("error", f"Already unsubscribed: {compact_json(raw)}"))
                return True
            conn.send(
                encode_frame("subscriptionResponse", {"method": method, "subscription": sub.echo})
            )
        return True

    def _on_post(self, conn: WsConnection, msg: dict[str, Any]) -> None:
        post_id = msg.get("id")
        request = msg.get("request")
        if not isinstance(post_id, int) or not isinstance(request, dict):
            conn.send(encode_frame("error", WS_PARSE_ERROR.format(text=compact_json(msg))))
            return
        # Handled on arrival; the request's whole round trip delays the answer, which keeps the
        # answers of one socket in order (a simplification of the inbound half).
        delay_s = 0.0
        if self.latency.enabled:
            delay_s = sum(
                self.latency.request_s("exchange" if request.get("type") == "action" else "info")
            )
        kind = request.get("type")
        payload = request.get("payload")
        response: dict[str, Any]
        if not isinstance(payload, dict) or kind not in ("info", "action"):
            response = {"type": "error", "payload": f"422 {DESERIALIZE_ERROR}"}
        elif kind == "info":
            try:
                data = self.info(payload)
                response = {"type": "info", "payload": {"type": payload.get("type"), "data": data}}
            except InfoRequestError as exc:
                response = {"type": "error", "payload": f"{exc.status} {exc.message}"}
        else:
            try:
                response = {"type": "action", "payload": self.exchange(payload)}
            except InfoRequestError as exc:
                response = {"type": "error", "payload": f"{exc.status} {exc.message}"}
        conn.send(encode_frame("post", {"id": post_id, "response": response}), delay_s=delay_s)

    # --- admin -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What the admin endpoint reports: time, mode, market and faults."""
        market = self.market
        return {
            "time": self.clock.now_ms(),
            "manual": self.clock.manual,
            "speed": self.clock.speed,
            "stepMs": self.step_ms,
            "steps": self.steps,
            "scenario": market.scenario.name if market is not None else None,
            "seed": market.seed if market is not None else None,
            "liquidations": market.liquidations if market is not None else 0,
            "connections": len(self.hub.connections),
            "latency": dataclasses.asdict(self.latency.config),
            "scheduleCancelMinVolumeUsd": self.engine.schedule_cancel_min_volume_usd,
            "faults": self.faults.to_json(),
        }

    def apply_fault(self, kind: FaultKind, params: dict[str, Any]) -> dict[str, Any]:
        """Perform or record one fault; returns a short result for the admin caller."""
        if kind is FaultKind.DROP_WS:
            return {"dropped": self.hub.drop_all()}
        if kind is FaultKind.JUMP_CLOCK:
            ms = params.get("ms")
            if not isinstance(ms, int) or ms < 0:
                raise FaultRequestError("'ms' (a non-negative integer) is required")
            return {"time": self.jump(ms)}
        self.faults.apply(kind, params)
        return {"faults": self.faults.to_json()}


def build_app(venue: SimVenue) -> web.Application:
    """The aiohttp application serving the venue API and the admin endpoint."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    handlers = _Handlers(venue)
    app.router.add_post("/info", handlers.info)
    app.router.add_post("/exchange", handlers.exchange)
    app.router.add_get("/ws", handlers.websocket)
    app.router.add_post("/admin/fault/{kind}", handlers.admin_fault)
    app.router.add_post("/admin/fund", handlers.admin_fund)
    app.router.add_post("/admin/step", handlers.admin_step)
    app.router.add_post("/admin/oracle", handlers.admin_oracle)
    app.router.add_post("/admin/mark", handlers.admin_mark)
    app.router.add_get("/admin/state", handlers.admin_state)
    app.router.add_post("/admin/book-shape", handlers.admin_book_shape)
    app.router.add_post("/admin/open-interest", handlers.admin_open_interest)
    app.router.add_post("/admin/funding", handlers.admin_funding)
    return app


class _Handlers:
    """aiohttp request handlers; thin: decode, call the venue, encode, apply HTTP faults."""

    def __init__(self, venue: SimVenue) -> None:
        self.venue = venue

    async def info(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "info")

    async def exchange(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, "exchange")

    async def _serve(self, request: web.Request, path: str) -> web.StreamResponse:
        venue = self.venue
        status = venue.faults.take_http_error(path)
        if status is not None:
            return web.Response(status=status, text=HTTP_ERROR_TEXT[status])
        inbound_s, outbound_s = venue.latency.request_s(path)
        if inbound_s:
            await asyncio.sleep(inbound_s)  # the request is still on its way to the venue
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            response = web.Response(status=422, text=DESERIALIZE_ERROR)
        else:
            try:
                result = venue.info(body) if path == "info" else venue.exchange(body)
                response = web.Response(text=compact_json(result), content_type=JSON_CONTENT_TYPE)
            except InfoRequestError as exc:
                response = web.Response(status=exc.status, text=exc.message)
            except Exception:
                log.exception("simulator failed on /%s body %s", path, _redact(body))
                response = web.Response(status=500, text=HTTP_ERROR_TEXT[500])
        delay_s = outbound_s + venue.faults.http_delay_ms / 1000.0
        if delay_s:
            await asyncio.sleep(delay_s)
        return response

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        venue = self.venue
        # No permessage-deflate: compressing every small frame costs more CPU than loopback saves.
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4 * 1024 * 1024, compress=False)
        await ws.prepare(request)
        conn = venue.hub.add(ws, request.transport)
        writer = asyncio.create_task(conn.run_writer())
        conn.send(CONNECTION_ESTABLISHED)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    conn.touch()
                    try:
                        keep = venue.on_ws_text(conn, msg.data)
                    except Exception:  # a simulator bug must not look like a venue disconnect
                        log.exception("simulator failed on a WebSocket message")
                        conn.send(encode_frame("error", "Internal error"))
                        keep = True
                    if not keep:
                        conn.abort()
                        break
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            venue.hub.remove(conn)
            if not conn.closed:
                await conn.close()
            writer.cancel()
        return ws

    async def admin_fault(self, request: web.Request) -> web.StreamResponse:
        try:
            kind = parse_kind(request.match_info["kind"])
            params = await _json_params(request)
            result = self.venue.apply_fault(kind, params)
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        return web.json_response({"status": "ok", "fault": kind.value, **result})

    async def admin_fund(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await _json_params(request)
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        user = params.get("user")
        usdc = params.get("usdc")
        volume = params.get("volumeUsd", 0.0)
        if not isinstance(user, str) or not isinstance(usdc, (int, float)):
            return web.json_response({"status": "err", "error": "need user and usdc"}, status=400)
        if not isinstance(volume, (int, float)) or volume < 0:
            error = "volumeUsd must be a number >= 0"
            return web.json_response({"status": "err", "error": error}, status=400)
        self.venue.fund(user, float(usdc), float(volume))
        return web.json_response({"status": "ok"})

    async def admin_step(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await _json_params(request)
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        n = params.get("n", 1)
        if not isinstance(n, int) or n < 1:
            return web.json_response({"status": "err", "error": "n must be >= 1"}, status=400)
        now = self.venue.advance(n)
        return web.json_response({"status": "ok", "time": now})

    async def admin_oracle(self, request: web.Request) -> web.StreamResponse:
        try:
            params = await _json_params(request)
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        coin = params.get("coin")
        px = params.get("px")
        if coin not in self.venue.engine.markets or not isinstance(px, (int, float)) or px <= 0:
            return web.json_response({"status": "err", "error": "need coin and px"}, status=400)
        self.venue.set_oracle(str(coin), float(px))
        return web.json_response({"status": "ok"})

    async def admin_mark(self, request: web.Request) -> web.StreamResponse:
        """``{"coin": "BTC", "px": 61000}`` or ``{"coin": "BTC", "moveBps": -40}`` (from the
        current mark), optionally ``"book": false``: move the coin's mark now; with the book
        (the default) the makers' fair price moves too, so the mid follows; without it only the
        mark moves, until the next market step. Answers the new mark and mid."""
        try:
            params = await _json_params(request)
            coin = self._coin(params)
            px, move = params.get("px"), params.get("moveBps")
            if px is not None and move is None:
                if not (_is_number(px) and px > 0):
                    raise FaultRequestError("px must be a number > 0")
                target = float(px)
            elif move is not None and px is None:
                if not (_is_number(move) and -5_000 <= move <= 5_000):
                    raise FaultRequestError("moveBps must be a number in [-5000, 5000]")
                target = self.venue.engine.market(coin).mark * (1.0 + float(move) / 10_000.0)
            else:
                raise FaultRequestError("give exactly one of px and moveBps")
            book = params.get("book", True)
            if not isinstance(book, bool):
                raise FaultRequestError("book must be true or false")
            mark, mid = self.venue.move_mark(coin, target, book)
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        return web.json_response(
            {"status": "ok", "coin": coin, "mark": mark, "mid": mid, "book": book}
        )

    async def admin_book_shape(self, request: web.Request) -> web.StreamResponse:
        """``{"coin": "BTC", "bidMult": 0.2, "askMult": 1.0}``: scale the makers' depth per
        side (tests thin one side on purpose); 1 and 1 restore the scenario's book."""
        try:
            params = await _json_params(request)
            coin = self._coin(params)
            mults = [params.get(k, 1.0) for k in ("bidMult", "askMult")]
            if not all(_is_number(m) and 0 <= m <= 100 for m in mults):
                raise FaultRequestError("bidMult and askMult must be numbers in [0, 100]")
            self.venue.shape_book(coin, float(mults[0]), float(mults[1]))
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        return web.json_response(
            {"status": "ok", "coin": coin, "bidMult": mults[0], "askMult": mults[1]}
        )

    async def admin_open_interest(self, request: web.Request) -> web.StreamResponse:
        """``{"coin": "BTC", "deltaUsd": 500000}``: open (or, negative, close) that much open
        interest by trades between the market's passive holders; answers the new OI. With
        ``"aggressor": "sell"`` (or ``"buy"``) that side takes in every trade, so the change
        comes with one-sided aggressive flow; without it the flow is balanced."""
        try:
            params = await _json_params(request)
            coin = self._coin(params)
            delta = params.get("deltaUsd")
            if not isinstance(delta, (int, float)) or isinstance(delta, bool) or delta == 0:
                raise FaultRequestError("deltaUsd must be a non-zero number of USD")
            aggressor = params.get("aggressor")
            if aggressor not in (None, "buy", "sell"):
                raise FaultRequestError(
                    f'aggressor must be "buy", "sell" or absent, got {aggressor!r}'
                )
            try:
                oi = self.venue.change_open_interest(coin, float(delta), aggressor)
            except ValueError as exc:
                raise FaultRequestError(str(exc)) from None
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        market = self.venue.engine.market(coin)
        return web.json_response({"status": "ok", "coin": coin, "openInterest": market.sz_str(oi)})

    async def admin_funding(self, request: web.Request) -> web.StreamResponse:
        """``{"coin": "BTC", "rate": 0.0001}``: force the current hourly funding rate;
        ``"rate": null`` returns to the venue's premium rule."""
        try:
            params = await _json_params(request)
            coin = self._coin(params)
            if "rate" not in params:
                raise FaultRequestError("rate is required (a number, or null to clear)")
            rate = params["rate"]
            if rate is not None and not (_is_number(rate) and abs(rate) <= 0.04):
                raise FaultRequestError("rate must be a number in [-0.04, 0.04] or null")
            self.venue.set_funding(coin, None if rate is None else float(rate))
        except FaultRequestError as exc:
            return web.json_response({"status": "err", "error": str(exc)}, status=400)
        return web.json_response({"status": "ok", "coin": coin, "rate": rate})

    def _coin(self, params: dict[str, Any]) -> str:
        coin = params.get("coin")
        if not isinstance(coin, str) or coin not in self.venue.engine.markets:
            raise FaultRequestError(f"coin must be one of this venue's perps, got {coin!r}")
        return coin

    async def admin_state(self, request: web.Request) -> web.StreamResponse:
        return web.json_response(self.venue.state())


async def _json_params(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        params = json.loads(raw)
    except ValueError:
        raise FaultRequestError("body must be a JSON object") from None
    if not isinstance(params, dict):
        raise FaultRequestError("body must be a JSON object")
    return params


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _redact(body: dict[str, Any]) -> dict[str, Any]:
    """Log an /exchange body without its signature."""
    return {k: v for k, v in body.items() if k != "signature"}
