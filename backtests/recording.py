"""Load a raw-frame recording as NautilusTrader objects and instruments for a BacktestEngine.

Why: a trader must be able to replay any recorded day bit for bit, and a backtest is only worth
something if it sees exactly what the live node saw. This is step one of "recorded frames ->
catalog -> BacktestNode" (ARCHITECTURE.md): frames become the objects the live node's data
engine received; step two (``backtests/catalog.py``) may write them to a ``ParquetDataCatalog``
for a ``BacktestNode``; a ``BacktestEngine`` can also take them directly (``add_to_engine``).

There is no second parser here. Frames go through ``adapters.hyperliquid.replay.replay_frames``,
i.e. through ``HyperliquidFrameHandler.handle`` -- the code the live ``HyperliquidDataClient``
runs -- so each object carries the live ``ts_init`` (the frame's receive time) and ``ts_event``.

Ordering, the one thing a backtest can get wrong: live, the data engine receives objects in
emission order; a ``BacktestEngine`` replays its data sorted by ``ts_init``. Objects of one
frame share a ``ts_init`` (a trades frame with three prints, an asset-context frame giving mark,
index, funding and open interest), so ``add_to_engine`` adds everything as one list in emission
order and relies on the engine's stable sort to keep that order among equal stamps. Emission
order is non-decreasing in ``ts_init`` except for bars closed by a backstop deadline (stamped
with the deadline, which may precede the frame that flushed them); ``RecordedData.out_of_order``
counts such objects, and for them the backtest order (by stamp) differs from the live order.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.core.data import Data
from nautilus_trader.model.currencies import USDC
from nautilus_trader.model.data import CustomData
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Money

from adapters.hyperliquid.data_types import FeedHealth
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.recorder import iter_records
from adapters.hyperliquid.replay import instruments_from_records
from adapters.hyperliquid.replay import replay_frames

__all__ = [
    "DEFAULT_STARTING_BALANCE_USDC",
    "RecordedData",
    "add_to_engine",
    "load_recording",
]

DEFAULT_STARTING_BALANCE_USDC = Decimal(1_000_000)
"""Venue balance ``add_to_engine`` gives the simulated account when none is given."""


@dataclass(frozen=True)
class RecordedData:
    """
    A recording as NautilusTrader objects, ready for a ``BacktestEngine`` or a catalog.

    Attributes
    ----------
    instruments : list[Instrument]
        Instruments rebuilt from the recorded ``meta`` / ``spotMeta`` responses (or given).
    data : list[Data]
        Market data in emission order, custom types wrapped in ``CustomData`` exactly as the
        live client hands them to the data engine.
    health : list[FeedHealth]
        Stream health changes seen while replaying (continuity only, no staleness timers).
    frames : int
        WebSocket frames fed through the frame handler.
    out_of_order : int
        Objects whose ``ts_init`` is below an earlier object's (see module notes).
    """

    instruments: list[Instrument]
    data: list[Data]
    health: list[FeedHealth] = field(default_factory=list)
    frames: int = 0
    out_of_order: int = 0

    @property
    def start_ns(self) -> int:
        """``ts_init`` of the first object (0 when empty)."""
        return self.data[0].ts_init if self.data else 0

    @property
    def end_ns(self) -> int:
        """Largest ``ts_init`` of any object (0 when empty)."""
        return max((d.ts_init for d in self.data), default=0)

    def instrument(self, instrument_id: InstrumentId) -> Instrument:
        """The instrument with this id (``KeyError`` when the recording has none)."""
        for instrument in self.instruments:
            if instrument.id == instrument_id:
                return instrument
        raise KeyError(f"no instrument {instrument_id} in the recording")

    def for_instruments(self, instrument_ids: Iterable[InstrumentId]) -> RecordedData:
        """The same recording restricted to some instruments (order kept)."""
        wanted = set(instrument_ids)
        return RecordedData(
            instruments=[i for i in self.instruments if i.id in wanted],
            data=[d for d in self.data if _instrument_id(d) in wanted],
            health=list(self.health),
            frames=self.frames,
            out_of_order=_count_out_of_order([d for d in self.data if _instrument_id(d) in wanted]),
        )


def load_recording(
    path: str | Path,
    *,
    instruments: Iterable[Instrument] | None = None,
    outputs: Mapping[str, Iterable[str]] | None = None,
    bar_close_grace_ms: int = 250,
    flush_until_ns: int | None = None,
) -> RecordedData:
    """
    Replay a recording file or directory through the live frame handler and collect the result.

    Parameters
    ----------
    path : str | Path
        A recording file or the recorder's directory.
    instruments : Iterable[Instrument], optional
        Instruments; default: rebuilt from the recorded REST responses.
    outputs : Mapping[str, Iterable[str]], optional
        Enabled outputs per venue coin from the first frame, overriding the recording. Default:
        the output changes the live client recorded (control records), applied where they
        happened live, so the objects are exactly the live node's; for recordings made before
        control records existed, every output of every stream in the recording (more objects
        than the live node emitted, same values). See ``adapters.hyperliquid.replay``.
    bar_close_grace_ms : int
        The live client's ``bar_close_grace_ms`` (bars are stamped with it).
    flush_until_ns : int, optional
        Also emit bars whose backstop deadline is at or before this time.
    """
    records = list(iter_records(path))
    resolved = list(instruments) if instruments is not None else instruments_from_records(records)
    result = replay_frames(
        records,
        instruments=resolved,
        outputs=outputs,
        bar_close_grace_ms=bar_close_grace_ms,
        flush_until_ns=flush_until_ns,
    )
    return RecordedData(
        instruments=resolved,
        data=result.data,
        health=result.health,
        frames=result.frames,
        out_of_order=_count_out_of_order(result.data),
    )


def add_to_engine(
    engine: BacktestEngine,
    recorded: RecordedData,
    *,
    add_venue: bool = True,
    book_type: BookType = BookType.L2_MBP,
    starting_balances: list[Money] | None = None,
    client_id: ClientId | None = None,
) -> None:
    """
    Add the venue, the recording's instruments and its data to a ``BacktestEngine``.

    Everything goes in as one list in emission order (see module notes on ordering). Custom
    data (open interest, trades with addresses) is routed through ``client_id`` -- the live
    client's id, ``HYPERLIQUID`` by default -- so subscriptions written for the live node work
    unchanged.

    Parameters
    ----------
    engine : BacktestEngine
        A fresh engine (its data is sorted once more here).
    recorded : RecordedData
        What ``load_recording`` returned.
    add_venue : bool
        Add the Hyperliquid venue (NETTING, MARGIN account) first; False when already added.
    book_type : BookType
        The simulated venue's book type (L2 books come from the recording).
    starting_balances : list[Money], optional
        Default: ``DEFAULT_STARTING_BALANCE_USDC``.
    client_id : ClientId, optional
        Default: the venue's name, as the live client uses.
    """
    if add_venue:
        engine.add_venue(
            HYPERLIQUID_VENUE,
            OmsType.NETTING,
            AccountType.MARGIN,
            starting_balances or [Money(DEFAULT_STARTING_BALANCE_USDC, USDC)],
            book_type=book_type,
        )
    for instrument in recorded.instruments:
        engine.add_instrument(instrument)
    if not recorded.data:
        return
    # One list, emission order, stable sort: objects sharing a ts_init keep their live order.
    # `validate` only inspects the first element; instruments were added above (which also
    # registers the venue's data client), so the engine needs nothing else from it.
    engine.add_data(
        list(recorded.data),
        client_id=client_id or ClientId(HYPERLIQUID_VENUE.value),
        validate=False,
        sort=True,
    )


def _instrument_id(data: Data) -> InstrumentId | None:
    inner = data.data if isinstance(data, CustomData) else data
    instrument_id = getattr(inner, "instrument_id", None)
    if instrument_id is None:
        bar_type = getattr(inner, "bar_type", None)
        instrument_id = None if bar_type is None else bar_type.instrument_id
    return instrument_id if isinstance(instrument_id, InstrumentId) else None


def _count_out_of_order(data: list[Data]) -> int:
    count = 0
    newest = 0
    for item in data:
        ts = item.ts_init
        if ts < newest:
            count += 1
        else:
            newest = ts
    return count
