"""
The wallet tracker actor: trade prints with addresses in, behaviours and manipulator state out.

Subscribes to ``HyperliquidTrade`` (the prints that name both parties) for its instruments and
to the state builder's ``StructuralEvent`` (``OI_DROP`` marks a cascade), feeds the pure
``WalletTracker`` and publishes what it finds: ``WalletBehaviour`` per label and
``ManipulatorState`` on every change and on a heartbeat (so a reader can tell a fresh "no
manipulator" from a dead tracker). The state builder copies the newest ``ManipulatorState`` of
its instrument into ``MarketState`` and the hot store (``is_manipulator_active``,
``manipulator_direction``, ``manipulator_position_usd``).

Time comes from the data (``ts_init``) and the actor's clock only, so it runs unchanged live
and in a ``BacktestEngine``. In a node config (one tracker for all instruments)::

    [[node.actors]]
    actor_path = "actors.wallets.actor:WalletTrackerActor"
    config_path = "actors.wallets.actor:WalletTrackerConfig"
    [node.actors.config]
    component_id = "WalletTracker"
    instrument_ids = ["BTC-USD-PERP.HYPERLIQUID", "ETH-USD-PERP.HYPERLIQUID"]
    [node.actors.config.thresholds]
    max_addresses = 10000
"""

from __future__ import annotations

from datetime import timedelta

from nautilus_trader.common.actor import Actor
from nautilus_trader.common.events import TimeEvent
from nautilus_trader.config import ActorConfig
from nautilus_trader.config import PositiveInt
from nautilus_trader.core.data import Data
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId

from actors.structural_events import STRUCTURAL_EVENT_DATA_TYPE
from actors.structural_events import StructuralEvent
from actors.structural_events import StructuralEventKind
from actors.wallets.data import MANIPULATOR_STATE_DATA_TYPE
from actors.wallets.data import WALLET_BEHAVIOUR_DATA_TYPE
from actors.wallets.data import ManipulatorState
from actors.wallets.tracker import WalletThresholds
from actors.wallets.tracker import WalletTracker
from adapters.hyperliquid.data_types import HYPERLIQUID_TRADE_DATA_TYPE
from adapters.hyperliquid.data_types import HyperliquidTrade
from common.nautilus import custom_data_topic

__all__ = ["WalletTrackerActor", "WalletTrackerConfig"]

_OI_DROP = StructuralEventKind.OI_DROP.value


class WalletTrackerConfig(ActorConfig, frozen=True):
    """
    Configuration of ``WalletTrackerActor``.

    Parameters
    ----------
    instrument_ids : list[InstrumentId]
        Instruments whose prints are tracked (one tracker: an address's positions on all of
        them share its memory slot, and a manipulator found on one is known on the others).
    client_id : ClientId, optional
        Data client of the ``HyperliquidTrade`` subscriptions (None: from the venue).
    thresholds : WalletThresholds
        Memory cap (``max_addresses``; the memory it implies is documented there), windows and
        the behaviour thresholds.
    heartbeat_interval_ms : int, default 1000
        Every instrument's ``ManipulatorState`` is published on this timer (and the top-N large
        wallets and label expiry refreshed); strategies treat a state older than their
        ``max_state_age_secs`` as unknown.

    """

    instrument_ids: list[InstrumentId]
    client_id: ClientId | None = None
    thresholds: WalletThresholds = WalletThresholds()
    heartbeat_interval_ms: PositiveInt = 1000

    def __post_init__(self) -> None:
        """Fail at construction naming the field."""
        if not self.instrument_ids:
            raise ValueError("instrument_ids must name at least one instrument")
        if len(set(self.instrument_ids)) != len(self.instrument_ids):
            raise ValueError(f"instrument_ids has duplicates: {self.instrument_ids}")
        if self.heartbeat_interval_ms <= 0:
            raise ValueError(
                f"heartbeat_interval_ms must be positive, was {self.heartbeat_interval_ms}"
            )


class WalletTrackerActor(Actor):
    """Runs a ``WalletTracker`` on the node's prints and publishes its findings."""

    def __init__(self, config: WalletTrackerConfig) -> None:
        super().__init__(config)
        self._instrument_ids = frozenset(config.instrument_ids)
        self.tracker = WalletTracker(config.thresholds)
        self.latest: dict[InstrumentId, ManipulatorState] = {}
        self.behaviours_published = 0
        self.states_published = 0
        self._timer = f"{type(self).__name__}-{self.id}-heartbeat"

    def on_start(self) -> None:
        """Subscribe to the prints and the structural events; start the heartbeat."""
        config: WalletTrackerConfig = self.config  # type: ignore[assignment]
        for instrument_id in config.instrument_ids:
            if self.cache.instrument(instrument_id) is None:
                self.log.error(f"Instrument {instrument_id} not in cache: wallet tracker stopped")
                self.stop()
                return
        for instrument_id in config.instrument_ids:
            self.subscribe_data(
                HYPERLIQUID_TRADE_DATA_TYPE,
                client_id=config.client_id,
                instrument_id=instrument_id,
            )
        self.msgbus.subscribe(
            custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self.on_structural_event
        )
        self.clock.set_timer(
            self._timer,
            timedelta(milliseconds=config.heartbeat_interval_ms),
            callback=self._on_heartbeat,
        )

    def on_stop(self) -> None:
        """Mirror of ``on_start``."""
        config: WalletTrackerConfig = self.config  # type: ignore[assignment]
        if self._timer in self.clock.timer_names:
            self.clock.cancel_timer(self._timer)
        self.msgbus.unsubscribe(
            custom_data_topic(STRUCTURAL_EVENT_DATA_TYPE), self.on_structural_event
        )
        for instrument_id in config.instrument_ids:
            self.unsubscribe_data(
                HYPERLIQUID_TRADE_DATA_TYPE,
                client_id=config.client_id,
                instrument_id=instrument_id,
            )

    def on_reset(self) -> None:
        """Forget every address, label and state."""
        self.tracker.reset()
        self.latest.clear()
        self.behaviours_published = 0
        self.states_published = 0

    def on_data(self, data: Data) -> None:
        """A print with both parties' addresses."""
        if isinstance(data, HyperliquidTrade) and data.instrument_id in self._instrument_ids:
            tracker = self.tracker
            tracker.on_trade(
                data.instrument_id,
                data.ts_init,
                data.price,
                data.size,
                data.aggressor_side == "B",
                data.buyer,
                data.seller,
            )
            if tracker.behaviours or tracker.states:
                self._publish_findings()

    def on_structural_event(self, event: StructuralEvent) -> None:
        """An ``OI_DROP`` on one of our instruments marks a cascade."""
        if event.kind == _OI_DROP and event.instrument_id in self._instrument_ids:
            self.tracker.on_cascade_signal(event.instrument_id, event.ts_init)
            self._publish_findings()

    def _on_heartbeat(self, event: TimeEvent) -> None:
        now = self.clock.timestamp_ns()
        self.tracker.refresh(now)
        self._publish_findings()
        for instrument_id in sorted(self._instrument_ids, key=str):
            state = self.tracker.manipulator_state(instrument_id, now)
            self.latest[instrument_id] = state
            self.publish_data(MANIPULATOR_STATE_DATA_TYPE, state)
            self.states_published += 1

    def _publish_findings(self) -> None:
        tracker = self.tracker
        for behaviour in tracker.behaviours:
            self.publish_data(WALLET_BEHAVIOUR_DATA_TYPE, behaviour)
            self.log.info(
                f"Wallet {behaviour.address} {behaviour.behaviour} {behaviour.instrument_id}: "
                f"position_usd={behaviour.position_usd:.0f} "
                f"holding_secs={behaviour.holding_secs:.1f} "
                f"taker_share={behaviour.taker_share:.2f} large={behaviour.is_large}",
            )
        self.behaviours_published += len(tracker.behaviours)
        tracker.behaviours.clear()
        for state in tracker.states:
            self.latest[state.instrument_id] = state
            self.publish_data(MANIPULATOR_STATE_DATA_TYPE, state)
            self.log.info(
                f"Manipulator {state.instrument_id}: active={state.is_manipulator_active} "
                f"direction={state.manipulator_direction} address={state.address} "
                f"position_usd={state.position_usd:.0f} behaviours={state.behaviours}",
            )
        self.states_published += len(tracker.states)
        tracker.states.clear()
