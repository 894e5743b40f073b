"""Instrument metadata the compiler checks intents against, and where it came from.

The compiler must work with no venue running, so it reads a ``VenueSnapshot``: the perp universe
(szDecimals, maxLeverage), a reference (mark) price per coin and the fee schedule, plus its source
and the time it was taken so every plan can say how old its numbers are. Snapshots are built from
the venue's own ``metaAndAssetCtxs`` answer (live venue, simulator, or a capture) and stored as
JSON: by the last node run or ``jarvis intent --config`` (the cache) or shipped with the project.
No I/O happens here except reading and writing those files when asked.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from typing import Final

import msgspec

from adapters.hyperliquid.constants import PERP_MAKER_FEE
from adapters.hyperliquid.constants import PERP_TAKER_FEE

__all__ = [
    "SHIPPED_SNAPSHOT",
    "InstrumentMeta",
    "VenueSnapshot",
    "load_snapshot",
    "save_snapshot",
    "snapshot_from_meta_and_ctxs",
]

SHIPPED_SNAPSHOT: Final[Path] = Path(__file__).resolve().parent / "snapshots" / "hyperliquid.json"
"""Shipped with the project; made by ``scripts/make_intent_snapshot.py`` (its ``source`` says from
what)."""


class InstrumentMeta(msgspec.Struct, frozen=True, kw_only=True):
    """One perp: the venue's size decimals and max leverage, a reference price and fee rates."""

    coin: str
    sz_decimals: int
    max_leverage: int
    mark_px_usd: Decimal | None
    maker_fee: Decimal = PERP_MAKER_FEE
    taker_fee: Decimal = PERP_TAKER_FEE

    @property
    def instrument_id(self) -> str:
        """The node's instrument id for this perp."""
        return f"{self.coin}-USD-PERP.HYPERLIQUID"


class VenueSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """The perps a plan may use, where that list came from and when (ms since the epoch)."""

    source: str
    taken_at_ms: int
    instruments: dict[str, InstrumentMeta]

    def describe_age(self, now_ms: int) -> str:
        """``'3 h 12 min old'``-style age of the snapshot at ``now_ms``."""
        secs = max(0, (now_ms - self.taken_at_ms) // 1000)
        days, rem = divmod(secs, 86_400)
        hours, rem = divmod(rem, 3_600)
        mins = rem // 60
        if days:
            return f"{days} d {hours} h old"
        if hours:
            return f"{hours} h {mins} min old"
        return f"{mins} min old" if mins else f"{secs} s old"


def snapshot_from_meta_and_ctxs(
    payload: Any,
    *,
    source: str,
    taken_at_ms: int,
    maker_fee: Decimal = PERP_MAKER_FEE,
    taker_fee: Decimal = PERP_TAKER_FEE,
) -> VenueSnapshot:
    """A snapshot from the venue's ``metaAndAssetCtxs`` answer ``[meta, [ctx, ...]]``.

    A bare ``meta`` answer (``{"universe": [...]}``) is accepted too: the coins then have no
    reference price. Delisted coins are left out. Fees default to the base tier.
    """
    if isinstance(payload, dict):
        universe, ctxs = payload["universe"], []
    else:
        universe, ctxs = payload[0]["universe"], payload[1]
    instruments: dict[str, InstrumentMeta] = {}
    for index, asset in enumerate(universe):
        if asset.get("isDelisted"):
            continue
        ctx = ctxs[index] if index < len(ctxs) else {}
        mark = ctx.get("markPx") or ctx.get("midPx")
        instruments[asset["name"]] = InstrumentMeta(
            coin=asset["name"],
            sz_decimals=int(asset["szDecimals"]),
            max_leverage=int(asset["maxLeverage"]),
            mark_px_usd=Decimal(str(mark)) if mark is not None else None,
            maker_fee=maker_fee,
            taker_fee=taker_fee,
        )
    return VenueSnapshot(source=source, taken_at_ms=taken_at_ms, instruments=instruments)


def save_snapshot(snapshot: VenueSnapshot, path: Path) -> None:
    """Write ``snapshot`` as indented JSON (written to a temporary file, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(msgspec.to_builtins(snapshot), indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def load_snapshot(path: Path) -> VenueSnapshot:
    """Read a snapshot file; raises ValueError naming the file when it is not one."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=VenueSnapshot)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"{path}: not a venue snapshot ({exc})") from None
