"""End to end: a replay reproduces a live session whose subscriptions changed mid-run.

A TradingNode (recording on) runs against the simulator. A first actor subscribes BTC's managed
book and quotes on start; a second one joins while the book streams -- open interest, trades
and the same managed book, which makes NautilusTrader swap the cached book, so the client
re-sends a full snapshot -- and later unsubscribes open interest and trades. The recording
replayed WITHOUT passing outputs must reproduce exactly the objects the live client emitted,
in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.config import ActorConfig
from nautilus_trader.core.data import Data
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from adapters.hyperliquid.config import HyperliquidRecorderConfig
from adapters.hyperliquid.data_types import OPEN_INTEREST_DATA_TYPE
from adapters.hyperliquid.data_types import OpenInterestUpdate
from adapters.hyperliquid.recorder import FrameKind
from adapters.hyperliquid.recorder import RecordedFrame
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.replay import replay_recording
from jarvis.testkit import build_sim_node
from jarvis.testkit import data_client_config
from jarvis.testkit import hyperliquid_data_client
from jarvis.testkit import run_node
from jarvis.testkit import sim_node_config
from jarvis.testkit import wait_for
from simulator.app import SimConfig
from simulator.app import SimThread

COIN = "BTC"
INSTRUMENT_ID = InstrumentId.from_str("BTC-USD-PERP.HYPERLIQUID")
CLIENT_ID = ClientId("HYPERLIQUID")


class WatcherConfig(ActorConfig, frozen=True):
    """``first``: subscribe the book and quotes on start (else wait for ``join``)."""

    first: bool = True


class Watcher(Actor):
    """Subscribes what the harness tells it to and counts what it receives."""

    def __init__(self, config: WatcherConfig) -> None:
        super().__init__(config)
        self.first = config.first
        self.deltas = 0
        self.open_interest = 0
        self.trades = 0

    def on_start(self) -> None:
        """The first watcher's subscriptions."""
        if self.first:
            self.subscribe_order_book_deltas(INSTRUMENT_ID, book_type=BookType.L2_MBP, managed=True)
            self.subscribe_quote_ticks(INSTRUMENT_ID)

    def join(self) -> None:
        """Mid-session: a new output of a running stream, a new stream, the same book."""
        self.subscribe_data(
            OPEN_INTEREST_DATA_TYPE, client_id=CLIENT_ID, instrument_id=INSTRUMENT_ID
        )
        self.subscribe_trade_ticks(INSTRUMENT_ID)
        self.subscribe_order_book_deltas(INSTRUMENT_ID, book_type=BookType.L2_MBP, managed=True)

    def leave(self) -> None:
        """Later: open interest and trades are no longer wanted."""
        self.unsubscribe_data(
            OPEN_INTEREST_DATA_TYPE, client_id=CLIENT_ID, instrument_id=INSTRUMENT_ID
        )
        self.unsubscribe_trade_ticks(INSTRUMENT_ID)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.deltas += 1

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.trades += 1

    def on_data(self, data: Data) -> None:
        if isinstance(data, OpenInterestUpdate):
            self.open_interest += 1


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the live session once: the objects the client emitted and the recording."""
    recording = tmp_path_factory.mktemp("recording")
    live: list[Data] = []
    with SimThread(SimConfig(coins=(COIN,), activity=3.0, seed=31)) as sim:
        recorder = HyperliquidRecorderConfig(directory=str(recording), compression="none")
        config = data_client_config(sim.base_url, (COIN,), recorder=recorder)
        node = build_sim_node(sim_node_config(config))
        handler = hyperliquid_data_client(node).frame_handler
        emit = handler._emit

        def capture(data: Data) -> None:
            live.append(data)
            emit(data)

        handler._emit = capture
        first = Watcher(WatcherConfig(component_id="FIRST"))
        second = Watcher(WatcherConfig(component_id="SECOND", first=False))
        node.trader.add_actor(first)
        node.trader.add_actor(second)

        async def scenario() -> None:
            await wait_for(lambda: first.deltas >= 4, 20, "book frames before the join")
            second.join()
            await wait_for(
                lambda: second.open_interest >= 2 and second.deltas >= 3, 20, "the joined outputs"
            )
            second.leave()
            seen = first.deltas
            await wait_for(lambda: first.deltas >= seen + 3, 20, "book frames after the leave")

        run_node(node, scenario, stop_grace_secs=0.3)
    return {"live": live, "recording": recording}


def _unwrap(data: Data) -> Any:
    return data.data if isinstance(data, CustomData) else data


def _as_dicts(objects: list[Data]) -> list[tuple[str, dict[str, Any]]]:
    return [(type(_unwrap(o)).__name__, type(_unwrap(o)).to_dict(_unwrap(o))) for o in objects]


def _controls(recording: Path) -> list[RecordedFrame]:
    return [r for r in iter_records(recording) if r.kind == FrameKind.CONTROL]


def test_replay_without_outputs_reproduces_the_live_objects_in_order(
    session: dict[str, Any],
) -> None:
    live = session["live"]
    replayed = replay_recording(session["recording"]).data

    assert len(live) > 20
    assert _as_dicts(replayed) == _as_dicts(live)


def test_second_book_subscription_re_sent_a_full_snapshot(session: dict[str, Any]) -> None:
    snapshots = [
        d
        for d in session["live"]
        if isinstance(d, OrderBookDeltas) and d.deltas[0].action == BookAction.CLEAR
    ]
    resets = [json.loads(r.payload) for r in _controls(session["recording"])]

    assert len(snapshots) >= 2  # the first subscription's, and the re-sent one
    assert sum(1 for r in resets if "before_seq" in r) >= 2


def test_open_interest_is_emitted_only_between_subscribe_and_unsubscribe(
    session: dict[str, Any],
) -> None:
    changes = [
        (r.recv_ns, json.loads(r.payload))
        for r in _controls(session["recording"])
        if r.stream == f"outputs:{COIN}"
    ]
    on = next(ns for ns, p in changes if "open_interest" in p.get("enable", []))
    off = next(ns for ns, p in changes if "open_interest" in p.get("disable", []))
    stamps = [d.ts_init for d in session["live"] if isinstance(_unwrap(d), OpenInterestUpdate)]
    first_book = min(d.ts_init for d in session["live"] if isinstance(d, OrderBookDeltas))

    assert len(stamps) >= 2
    assert first_book < on < min(stamps)
    assert max(stamps) < off
