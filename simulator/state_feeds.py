"""The per-user state channels: what to send on subscribe, and when a new frame is due.

Channels: webData2, webData3, clearinghouseState, openOrders, spotState (the whole state in each
frame), activeAssetData (per user and coin) and userNonFundingLedgerUpdates (a snapshot, then
only the new ledger rows). The venue pushes the state channels when the state changes; here a
frame is due when its content (ignoring the server's clock fields) differs from the last one
sent on that stream, checked at once for users an engine event touched and every
`interval_ms` for everyone (marks move without events).
"""

from __future__ import annotations

from typing import Any

import msgspec

from simulator.frontend import active_asset_data_frame
from simulator.frontend import clearinghouse_state_frame
from simulator.frontend import open_orders_frame
from simulator.frontend import spot_state_frame
from simulator.frontend import web_data2
from simulator.frontend import web_data3
from simulator.state import VenueState

__all__ = ["LEDGER_CHANNEL", "STATE_CHANNELS", "StateFeeds"]

STATE_CHANNELS = (
    "webData2",
    "webData3",
    "clearinghouseState",
    "openOrders",
    "spotState",
    "activeAssetData",
)
LEDGER_CHANNEL = "userNonFundingLedgerUpdates"
# Fields that carry the server's clock: a frame that differs only there is not a change.
_CLOCK_KEYS = frozenset({"time", "serverTime"})
_encode = msgspec.json.Encoder().encode


def _without_clock(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k not in _CLOCK_KEYS}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


class StateFeeds:
    """Builds state-channel frames and remembers the last one sent per stream key."""

    def __init__(self, state: VenueState) -> None:
        self.state = state
        self._last: dict[str, bytes] = {}
        self._ledger_seen: dict[str, int] = {}

    def payload(self, kind: str, user: str, coin: str | None, now_ms: int) -> Any:
        """The data of one frame of state channel `kind` for `user` (and `coin`)."""
        state = self.state
        if kind == "webData2":
            return web_data2(state, user, now_ms)
        if kind == "webData3":
            return web_data3(state, user, now_ms)
        if kind == "clearinghouseState":
            return clearinghouse_state_frame(state, user, now_ms)
        if kind == "openOrders":
            return open_orders_frame(state, user)
        if kind == "spotState":
            return spot_state_frame(state, user)
        if kind == "activeAssetData" and coin is not None:
            return active_asset_data_frame(state, user, coin)
        raise ValueError(f"not a state channel: {kind}")

    def snapshot(self, key: str, kind: str, user: str, coin: str | None, now_ms: int) -> Any:
        """The first frame after a subscription ack (and the baseline for change detection)."""
        if kind == LEDGER_CHANNEL:
            rows = self._ledger(user)
            self._ledger_seen[user] = len(rows)
            return {"isSnapshot": True, "user": user, "nonFundingLedgerUpdates": rows}
        data = self.payload(kind, user, coin, now_ms)
        self._last[key] = _encode(_without_clock(data))
        return data

    def changed(self, key: str, kind: str, user: str, coin: str | None, now_ms: int) -> Any:
        """The next frame of a stream if its content changed since the last one, else None."""
        if kind == LEDGER_CHANNEL:
            rows = self._ledger(user)
            seen = self._ledger_seen.get(user, len(rows))
            self._ledger_seen[user] = len(rows)
            if len(rows) <= seen:
                return None
            return {"user": user, "nonFundingLedgerUpdates": rows[seen:]}
        data = self.payload(kind, user, coin, now_ms)
        signature = _encode(_without_clock(data))
        if self._last.get(key) == signature:
            return None
        self._last[key] = signature
        return data

    def retain(self, live_keys: set[str]) -> None:
        """Forget the last frames of streams nobody listens to any more."""
        for key in [k for k in self._last if k not in live_keys]:
            del self._last[key]

    def _ledger(self, user: str) -> list[Any]:
        account = self.state.accounts.get(user)
        return list(account.ledger) if account is not None else []
