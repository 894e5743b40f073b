"""Configuration of the Hyperliquid data client, its recorder and its feed-health gate.

Frozen NautilusTrader configs, so a config file loaded through ``NautilusConfig.parse``
fails loudly at start-up on a typo (unknown field) or a bad value (``ValueError`` naming the field).
Base URLs are free: mainnet, testnet or any custom URL such as the local simulator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from typing import Protocol
from urllib.parse import urlsplit

from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.config import NautilusConfig
from nautilus_trader.core.datetime import secs_to_nanos

from adapters.hyperliquid.constants import LOCAL_HTTP_URL
from adapters.hyperliquid.constants import LOCAL_WS_URL
from adapters.hyperliquid.constants import MAINNET_HTTP_URL
from adapters.hyperliquid.constants import MAINNET_WS_URL
from adapters.hyperliquid.constants import TESTNET_HTTP_URL
from adapters.hyperliquid.constants import TESTNET_WS_URL
from adapters.hyperliquid.enums import ProductType
from adapters.hyperliquid.numbers import is_valid_address

__all__ = [
    "PRODUCT_TYPES",
    "HyperliquidDataClientConfig",
    "HyperliquidExecClientConfig",
    "HyperliquidFeedHealthConfig",
    "HyperliquidRecorderConfig",
    "default_ws_url",
    "validate_transport",
]

PRODUCT_TYPES: Final[frozenset[str]] = frozenset(ProductType)
COMPRESSIONS: Final[frozenset[str]] = frozenset({"zstd", "gzip", "none"})

_KNOWN_WS_URLS: Final[dict[str, str]] = {
    MAINNET_HTTP_URL: MAINNET_WS_URL,
    TESTNET_HTTP_URL: TESTNET_WS_URL,
    LOCAL_HTTP_URL: LOCAL_WS_URL,
}


def _fail(field: str, problem: str) -> None:
    raise ValueError(f"{field}: {problem}")


def _require_positive(field: str, value: float | int) -> None:
    if not value > 0:
        _fail(field, f"must be > 0, was {value!r}")


def _require_url(field: str, value: str, schemes: tuple[str, ...]) -> None:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        _fail(field, f"must be a {'/'.join(schemes)} URL with a host, was {value!r}")


class _TransportConfig(Protocol):
    """The transport fields the data and exec client configs share."""

    @property
    def http_url(self) -> str: ...
    @property
    def ws_url(self) -> str | None: ...
    @property
    def product_types(self) -> tuple[ProductType, ...]: ...
    @property
    def ws_ping_interval_secs(self) -> float: ...
    @property
    def reconnect_initial_backoff_secs(self) -> float: ...
    @property
    def reconnect_max_backoff_secs(self) -> float: ...
    @property
    def http_timeout_secs(self) -> float: ...


def validate_transport(config: _TransportConfig) -> None:
    """The checks every Hyperliquid client config runs on its shared transport fields: URLs,
    product types, heartbeat, reconnect backoff and REST timeout (``ValueError`` naming the
    field)."""
    _require_url("http_url", config.http_url, ("http", "https"))
    if config.ws_url is not None:
        _require_url("ws_url", config.ws_url, ("ws", "wss"))
    if not config.product_types:
        _fail("product_types", "must name at least one of 'perp', 'spot'")
    unknown = sorted(set(config.product_types) - PRODUCT_TYPES)
    if unknown:
        _fail("product_types", f"unknown {unknown}, expected 'perp' and/or 'spot'")
    _require_positive("ws_ping_interval_secs", config.ws_ping_interval_secs)
    if config.ws_ping_interval_secs >= 60:
        _fail("ws_ping_interval_secs", "must be < 60 (the venue drops sockets idle for 60 s)")
    _require_positive("reconnect_initial_backoff_secs", config.reconnect_initial_backoff_secs)
    if config.reconnect_max_backoff_secs < config.reconnect_initial_backoff_secs:
        _fail("reconnect_max_backoff_secs", "must be >= reconnect_initial_backoff_secs")
    _require_positive("http_timeout_secs", config.http_timeout_secs)


def default_ws_url(http_url: str) -> str:
    """The WebSocket URL the venue (and the SDK) pair with an HTTP base URL.

    ``https://host`` -> ``wss://host/ws`` and ``http://host:port`` -> ``ws://host:port/ws``.
    """
    known = _KNOWN_WS_URLS.get(http_url.rstrip("/"))
    if known is not None:
        return known
    base = http_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + "/ws"
    return "ws://" + base.removeprefix("http://") + "/ws"


class HyperliquidRecorderConfig(NautilusConfig, frozen=True):
    """
    Raw frame recorder settings.

    Parameters
    ----------
    directory : str
        Folder for the recording files (created on start, not on config load).
    rotate_max_bytes : int
        Close the current file and start a new one past this many uncompressed bytes.
    rotate_interval_secs : float
        ... or once the current file spans this long (by receive time).
    compression : str
        ``"zstd"`` (via pyarrow, falls back to gzip if unavailable), ``"gzip"`` or ``"none"``.
    queue_max_frames : int
        Bounded hand-off to the writer thread; frames beyond it are dropped and counted.
    status_log_interval_secs : float
        Log the durable-frames counter this often while recording (0 disables).
    """

    directory: str
    rotate_max_bytes: int = 256 * 1024 * 1024
    rotate_interval_secs: float = 3_600.0
    compression: str = "zstd"
    queue_max_frames: int = 100_000
    status_log_interval_secs: float = 60.0

    def __post_init__(self) -> None:
        if not self.directory:
            _fail("directory", "must not be empty")
        _require_positive("rotate_max_bytes", self.rotate_max_bytes)
        _require_positive("rotate_interval_secs", self.rotate_interval_secs)
        _require_positive("queue_max_frames", self.queue_max_frames)
        if self.status_log_interval_secs < 0:
            _fail("status_log_interval_secs", "must be >= 0 (0 disables)")
        if self.compression not in COMPRESSIONS:
            _fail("compression", f"must be one of {sorted(COMPRESSIONS)}, was {self.compression!r}")


class HyperliquidFeedHealthConfig(NautilusConfig, frozen=True):
    """
    Staleness thresholds per stream kind and the RiskEngine health gate: one set of safety
    defaults for every config file.

    A stream is STALE once nothing arrived on it for its kind's threshold; ``0`` disables the
    check for that kind (trades of an illiquid coin may be silent for minutes). The defaults are
    the strictest any shipped config used, so a safety limit never depends on which file a user
    copied: a config may tighten any of them freely, but a looser value (a longer threshold, a
    disabled check, a shorter recovery, a gate or channel switched off) is refused at
    construction unless the field is listed in ``loosen``, and the data client then logs every
    loosened limit at WARNING when it starts (``loosened_limits()``).

    Parameters
    ----------
    stale_l2book_secs : float, default 5.0 s
        l2Book pushes come at least every 0.5 s on change.
    stale_bbo_secs : float, default 30.0 s
        bbo pushes only when the top of book changes.
    stale_trades_secs : float, default 0 (off)
        Trades; off by default (silence is normal).
    stale_candle_secs : float, default 120.0 s
        Candle pushes (every trade updates the current candle).
    stale_asset_ctx_secs : float, default 10.0 s
        activeAssetCtx pushes (about every second).
    check_interval_secs : float, default 1.0 s
        Period of the staleness timer (a longer period detects later: looser).
    gate_enabled : bool, default True
        Whether unhealthy needed streams put the RiskEngine into REDUCING.
    gate_recovery_secs : float, default 5.0 s
        How long all needed streams must have been OK before trading goes back to ACTIVE
        (shorter is looser).
    gate_channels : tuple[str, ...]
        Channels whose subscribed streams are "needed" by the gate. Default: the channels that
        flow continuously (books, top of book, asset context); trades and candles may be silent
        for minutes on an illiquid coin, so they are not needed unless listed here. Leaving out
        a default channel is looser.
    check_trade_counts : bool, default True
        Detect skipped trades messages: subscribing a coin's trades also subscribes its 1m
        candles (no bars published), and a closed minute whose venue trade count exceeds the
        prints received makes the trades stream a GAP.
    loosen : tuple[str, ...]
        Fields this config deliberately sets looser than the defaults (the explicit override).
    """

    stale_l2book_secs: float = 5.0
    stale_bbo_secs: float = 30.0
    stale_trades_secs: float = 0.0
    stale_candle_secs: float = 120.0
    stale_asset_ctx_secs: float = 10.0
    check_interval_secs: float = 1.0
    gate_enabled: bool = True
    gate_recovery_secs: float = 5.0
    gate_channels: tuple[str, ...] = ("l2Book", "bbo", "activeAssetCtx", "activeSpotAssetCtx")
    check_trade_counts: bool = True
    loosen: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in (*_STALE_FIELDS, "gate_recovery_secs"):
            value = getattr(self, name)
            if value < 0:
                _fail(name, f"must be >= 0 (0 disables), was {value!r}")
        _require_positive("check_interval_secs", self.check_interval_secs)
        unknown = sorted(set(self.loosen) - set(_LOOSENABLE))
        if unknown:
            _fail("loosen", f"unknown field(s) {unknown}; expected some of {list(_LOOSENABLE)}")
        looser = dict(self.loosened_limits())
        for name in _LOOSENABLE:
            if name in looser and name not in self.loosen:
                _fail(
                    name,
                    f"{looser[name]} is looser than the safety default; to loosen it on purpose "
                    f'add "{name}" to loosen (the client logs it at start)',
                )
            if name in self.loosen and name not in looser:
                _fail("loosen", f"{name} is listed but not looser than the default")

    def loosened_limits(self) -> list[tuple[str, str]]:
        """(field, "value (default ...)") for every limit looser than the safety defaults."""
        found: list[tuple[str, str]] = []
        for name in _STALE_FIELDS:
            value, default = getattr(self, name), _HEALTH_DEFAULTS[name]
            if default > 0 and (value == 0 or value > default):
                shown = "off" if value == 0 else f"{value:g} s"
                found.append((name, f"{shown} (default {default:g} s)"))
        checks = (
            ("check_interval_secs", self.check_interval_secs > _DEFAULT_CHECK_INTERVAL_SECS),
            ("gate_recovery_secs", self.gate_recovery_secs < _DEFAULT_GATE_RECOVERY_SECS),
        )
        for name, is_looser in checks:
            if is_looser:
                value, default = getattr(self, name), _HEALTH_DEFAULTS[name]
                found.append((name, f"{value:g} s (default {default:g} s)"))
        if not self.gate_enabled:
            found.append(("gate_enabled", "off (default on)"))
        if not self.check_trade_counts:
            found.append(("check_trade_counts", "off (default on)"))
        missing = [c for c in _DEFAULT_GATE_CHANNELS if c not in self.gate_channels]
        if missing:
            found.append(("gate_channels", f"without {missing} (default {_DEFAULT_GATE_CHANNELS})"))
        return found

    def stale_thresholds_ns(self) -> dict[str, int]:
        """Stream kind (the channel name) -> staleness threshold in ns (kinds at 0 left out)."""
        by_kind = {
            "l2Book": self.stale_l2book_secs,
            "bbo": self.stale_bbo_secs,
            "trades": self.stale_trades_secs,
            "candle": self.stale_candle_secs,
            "activeAssetCtx": self.stale_asset_ctx_secs,
            "activeSpotAssetCtx": self.stale_asset_ctx_secs,
        }
        return {kind: secs_to_nanos(secs) for kind, secs in by_kind.items() if secs > 0}


_STALE_FIELDS: Final[tuple[str, ...]] = (
    "stale_l2book_secs",
    "stale_bbo_secs",
    "stale_trades_secs",
    "stale_candle_secs",
    "stale_asset_ctx_secs",
)
_LOOSENABLE: Final[tuple[str, ...]] = (
    *_STALE_FIELDS,
    "check_interval_secs",
    "gate_enabled",
    "gate_recovery_secs",
    "gate_channels",
    "check_trade_counts",
)
# The class's own field defaults are the one source of the safety defaults.
_FIELD_DEFAULTS: Final[dict[str, object]] = dict(
    zip(
        HyperliquidFeedHealthConfig.__struct_fields__[
            -len(HyperliquidFeedHealthConfig.__struct_defaults__) :
        ],
        HyperliquidFeedHealthConfig.__struct_defaults__,
        strict=True,
    )
)
_HEALTH_DEFAULTS: Final[dict[str, float]] = {
    name: float(_FIELD_DEFAULTS[name])  # type: ignore[arg-type]
    for name in (*_STALE_FIELDS, "check_interval_secs", "gate_recovery_secs")
}
_DEFAULT_CHECK_INTERVAL_SECS: Final[float] = _HEALTH_DEFAULTS["check_interval_secs"]
_DEFAULT_GATE_RECOVERY_SECS: Final[float] = _HEALTH_DEFAULTS["gate_recovery_secs"]
_DEFAULT_GATE_CHANNELS: Final[tuple[str, ...]] = _FIELD_DEFAULTS["gate_channels"]  # type: ignore[assignment]


class HyperliquidDataClientConfig(LiveDataClientConfig, frozen=True):
    """
    Configuration of the Hyperliquid data client.

    Parameters
    ----------
    http_url : str
        REST base URL (``/info`` is appended): mainnet, testnet or e.g. the simulator
        ``http://127.0.0.1:3001``.
    ws_url : str, optional
        WebSocket URL; derived from ``http_url`` as the SDK does (``.../ws``) when ``None``.
    product_types : tuple[ProductType, ...]
        ``"perp"`` and/or ``"spot"``.
    hip3_dexes : tuple[str, ...]
        Builder-deployed (HIP-3) perp dexes to include, by name; opt-in, empty = none.
    coins : tuple[str, ...], optional
        Only these venue coins (``"BTC"``, ``"PURR/USDC"``, ``"@107"``); ``None`` = all listed.
    fee_user : str, optional
        Account address whose ``userFees`` set the instruments' fee rates (base tier otherwise).
    instrument_refresh_interval_secs : float
        Reload instrument metadata this often so new listings appear; ``0`` disables.
    ws_ping_interval_secs : float
        Heartbeat period; must stay well under the venue's 60 s idle timeout.
    reconnect_initial_backoff_secs : float
        First reconnect delay (doubled per failed attempt, with jitter).
    reconnect_max_backoff_secs : float
        Cap of the reconnect delay.
    http_timeout_secs : float
        Timeout of one ``/info`` request.
    health : HyperliquidFeedHealthConfig
        Staleness thresholds and the RiskEngine health gate.
    recorder : HyperliquidRecorderConfig, optional
        Record every raw frame and REST response; ``None`` = no recording.
    bar_close_grace_ms : int
        A bar is emitted once the venue's clock (estimated from frame times) is this far past
        the candle's close, unless a frame stamped after the close proves it closed earlier.
    direct_to_data_engine : bool
        Once ``wire_health_gates(node)`` has wired the feed-health gate, hand every data object
        straight to the DataEngine's ``process`` (on the event loop thread, in order) instead of
        through the message bus endpoint and the live engine's queue: one fewer hop and task
        switch per frame. Off: the standard NautilusTrader path.
    """

    http_url: str = MAINNET_HTTP_URL
    ws_url: str | None = None
    product_types: tuple[ProductType, ...] = (ProductType.PERP,)
    hip3_dexes: tuple[str, ...] = ()
    coins: tuple[str, ...] | None = None
    fee_user: str | None = None
    instrument_refresh_interval_secs: float = 3_600.0
    ws_ping_interval_secs: float = 20.0
    reconnect_initial_backoff_secs: float = 0.5
    reconnect_max_backoff_secs: float = 30.0
    http_timeout_secs: float = 10.0
    health: HyperliquidFeedHealthConfig = HyperliquidFeedHealthConfig()
    recorder: HyperliquidRecorderConfig | None = None
    bar_close_grace_ms: int = 250
    direct_to_data_engine: bool = True

    def __post_init__(self) -> None:
        validate_transport(self)
        if self.hip3_dexes and ProductType.PERP not in self.product_types:
            _fail("hip3_dexes", "HIP-3 dexes are perps: add 'perp' to product_types")
        if any(not dex for dex in self.hip3_dexes):
            _fail("hip3_dexes", "dex names must not be empty")
        if self.coins is not None and (not self.coins or any(not coin for coin in self.coins)):
            _fail("coins", "must be None (all) or a non-empty list of non-empty coin names")
        if self.instrument_refresh_interval_secs < 0:
            _fail("instrument_refresh_interval_secs", "must be >= 0 (0 disables)")
        if self.bar_close_grace_ms < 0:
            _fail("bar_close_grace_ms", "must be >= 0")

    @property
    def resolved_ws_url(self) -> str:
        """``ws_url`` if given, else the URL derived from ``http_url``."""
        return self.ws_url if self.ws_url is not None else default_ws_url(self.http_url)

    @property
    def include_perps(self) -> bool:
        """Whether perps are loaded."""
        return ProductType.PERP in self.product_types

    @property
    def include_spot(self) -> bool:
        """Whether spot pairs are loaded."""
        return ProductType.SPOT in self.product_types


DEFAULT_PRIVATE_KEY_ENV: Final[str] = "HYPERLIQUID_PRIVATE_KEY"
"""Environment variable the execution client reads its signing key from (never from a file)."""


class HyperliquidExecClientConfig(LiveExecClientConfig, frozen=True):
    """
    Configuration of the Hyperliquid execution client.

    The signing key is read from the environment variable named by ``private_key_env`` when the
    client is built, never from the config itself: NautilusTrader logs configs at start-up, and a
    key must never reach a log.

    Parameters
    ----------
    http_url : str
        REST base URL (``/exchange`` and ``/info`` are appended): mainnet, testnet or e.g. the
        simulator ``http://127.0.0.1:3001``.
    ws_url : str, optional
        WebSocket URL; derived from ``http_url`` when ``None``.
    is_mainnet : bool, optional
        L1 signing source ("a" mainnet, "b" otherwise); ``None`` = mainnet iff ``http_url`` is the
        mainnet URL.
    private_key_env : str
        Name of the environment variable holding the signing key (the account key or an approved
        API wallet / agent key).
    account_address : str, optional
        The master account the key trades for; ``None`` = the key's own address. With an agent
        key this must be set: the venue answers queries only for the account, never the agent.
    account_address_env : str, optional
        Name of an environment variable holding ``account_address`` instead (config files name
        the variable, so an account is not committed with the file); read when the client is
        built. At most one of the two.
    vault_address : str, optional
        Trade for this vault or sub-account (sent as ``vaultAddress``; queries use it).
    product_types : tuple[ProductType, ...]
        ``"perp"`` and/or ``"spot"``.
    coins : tuple[str, ...], optional
        Only these venue coins; ``None`` = all listed.
    max_slippage_bps : int
        How far a MARKET order (an aggressive IOC limit) may fill from the book reference.
    leverage : dict[str, int], optional
        Leverage per coin set at start (``updateLeverage``), e.g. ``{"BTC": 5}``.
    isolated_coins : tuple[str, ...]
        Coins of ``leverage`` set to isolated margin (the others are cross).
    account_refresh_interval_secs : float
        Period of the AccountState refresh from ``clearinghouseState``; ``0`` disables (fills,
        funding and liquidations still refresh it).
    inflight_timeout_secs : float
        An order without a venue answer for this long is looked up by cloid and resolved.
    watchdog_interval_secs : float
        Period of the in-flight and open-order audit.
    dead_man_switch_secs : float
        Horizon of the venue's dead-man switch (``scheduleCancel`` at now + this); ``0``
        disables it. The venue requires at least 5 s.
    dead_man_refresh_secs : float
        How often the switch is pushed forward (well below the horizon). After a refusal or a
        failure it is retried sooner, with backoff (1 s doubling up to this period).
    dead_man_switch_required : bool
        ``True`` (default): while the switch is not armed (refused, failing, not yet set) or a
        refresh is overdue by more than half the horizon, the node takes no new risk
        (REDUCING). ``False``: it keeps trading and logs every minute at WARNING that its
        orders are unprotected. Disabling the switch (``dead_man_switch_secs = 0``) needs
        ``False`` here, so running unprotected is always an explicit choice.
    account_max_age_secs : float
        When the account view (``clearinghouseState``) is older than this -- REST failures,
        timeouts, rate limiting -- the node takes no new risk (REDUCING) until a refresh
        succeeds. Only checked while ``account_refresh_interval_secs`` is above 0, and must be
        above it.
    ws_ping_interval_secs : float
        Heartbeat period of the user-stream socket.
    reconnect_initial_backoff_secs : float
        First reconnect delay of the user-stream socket.
    reconnect_max_backoff_secs : float
        Cap of the reconnect delay.
    http_timeout_secs : float
        Timeout of one REST request; an ``/exchange`` timeout makes the outcome unknown and
        triggers a lookup by cloid, never a retry.
    nonce_lanes / nonce_lane : int
        Nonces (milliseconds) this client signs with are those equal to ``nonce_lane`` modulo
        ``nonce_lanes``. Processes that sign for the same key at the same millisecond would
        otherwise send the same nonce, and the venue refuses the second ("duplicate nonce"):
        ``jarvis serve --nodes`` gives each node its own lane. 1 / 0: every millisecond.
    """

    http_url: str = MAINNET_HTTP_URL
    ws_url: str | None = None
    is_mainnet: bool | None = None
    private_key_env: str = DEFAULT_PRIVATE_KEY_ENV
    account_address: str | None = None
    account_address_env: str | None = None
    vault_address: str | None = None
    product_types: tuple[ProductType, ...] = (ProductType.PERP,)
    coins: tuple[str, ...] | None = None
    max_slippage_bps: int = 50
    leverage: dict[str, int] | None = None
    isolated_coins: tuple[str, ...] = ()
    account_refresh_interval_secs: float = 30.0
    inflight_timeout_secs: float = 10.0
    watchdog_interval_secs: float = 2.0
    dead_man_switch_secs: float = 60.0
    dead_man_refresh_secs: float = 20.0
    dead_man_switch_required: bool = True
    account_max_age_secs: float = 60.0
    ws_ping_interval_secs: float = 20.0
    reconnect_initial_backoff_secs: float = 0.5
    reconnect_max_backoff_secs: float = 30.0
    http_timeout_secs: float = 10.0
    nonce_lanes: int = 1
    nonce_lane: int = 0

    def __post_init__(self) -> None:
        validate_transport(self)
        if self.nonce_lanes < 1:
            _fail("nonce_lanes", f"must be >= 1, was {self.nonce_lanes!r}")
        if not 0 <= self.nonce_lane < self.nonce_lanes:
            _fail("nonce_lane", f"must be in [0, nonce_lanes={self.nonce_lanes}), was "
                                f"{self.nonce_lane!r}")  # fmt: skip
        _require_positive("account_max_age_secs", self.account_max_age_secs)
        refresh = self.account_refresh_interval_secs
        if refresh > 0 and self.account_max_age_secs <= refresh:
            _fail(
                "account_max_age_secs", f"must be above account_refresh_interval_secs ({refresh})"
            )
        if not self.private_key_env:
            _fail("private_key_env", "must name an environment variable")
        if self.account_address_env is not None:
            if not self.account_address_env:
                _fail("account_address_env", "must name an environment variable")
            if self.account_address is not None:
                _fail("account_address_env", "give account_address or account_address_env")
        for name in ("account_address", "vault_address"):
            value = getattr(self, name)
            if value is not None and not is_valid_address(value):
                _fail(name, f"must be a 0x-prefixed 40-hex-digit address, was {value!r}")
        if not 0 < self.max_slippage_bps < 10_000:
            _fail("max_slippage_bps", f"must be in (0, 10000), was {self.max_slippage_bps!r}")
        for coin, value in (self.leverage or {}).items():
            if not isinstance(value, int) or value < 1:
                _fail("leverage", f"{coin}: must be an integer >= 1, was {value!r}")
        unknown = set(self.isolated_coins) - set(self.leverage or {})
        if unknown:
            _fail("isolated_coins", f"{sorted(unknown)} have no leverage set in 'leverage'")
        if self.account_refresh_interval_secs < 0:
            _fail("account_refresh_interval_secs", "must be >= 0 (0 disables)")
        _require_positive("inflight_timeout_secs", self.inflight_timeout_secs)
        _require_positive("watchdog_interval_secs", self.watchdog_interval_secs)
        if self.dead_man_switch_secs < 0:
            _fail("dead_man_switch_secs", "must be >= 0 (0 disables)")
        if self.dead_man_switch_secs == 0 and self.dead_man_switch_required:
            _fail(
                "dead_man_switch_secs",
                "0 disables the dead-man switch; set dead_man_switch_required = false to run "
                "with unprotected orders",
            )
        if self.dead_man_switch_secs:
            if self.dead_man_switch_secs < 5:
                _fail("dead_man_switch_secs", "the venue needs at least 5 s")
            if not 0 < self.dead_man_refresh_secs < self.dead_man_switch_secs:
                _fail("dead_man_refresh_secs", "must be > 0 and below dead_man_switch_secs")

    @property
    def resolved_ws_url(self) -> str:
        """``ws_url`` if given, else the URL derived from ``http_url``."""
        return self.ws_url if self.ws_url is not None else default_ws_url(self.http_url)

    @property
    def resolved_is_mainnet(self) -> bool:
        """``is_mainnet`` if given, else whether ``http_url`` is the mainnet URL."""
        if self.is_mainnet is not None:
            return self.is_mainnet
        return self.http_url.rstrip("/") == MAINNET_HTTP_URL

    def resolve_account_address(self, environ: Mapping[str, str]) -> str | None:
        """``account_address``, or the value of ``account_address_env`` in ``environ``.

        Raises ``ValueError`` naming the variable when it is unset or not an address.
        """
        if self.account_address_env is None:
            return self.account_address
        value = environ.get(self.account_address_env, "").strip()
        if not value:
            raise ValueError(
                f"no Hyperliquid account address: set the environment variable "
                f"{self.account_address_env} (the master account the key trades for)"
            )
        if not is_valid_address(value):
            raise ValueError(
                f"environment variable {self.account_address_env} must hold a 0x-prefixed "
                "40-hex-digit address"
            )
        return value
