"""Load a node config file (TOML) into a ``TradingNodeConfig``, failing loudly at start-up.

Why a loader and not ``TradingNodeConfig.parse`` alone: NautilusTrader keeps client, actor and
strategy configs as raw dicts inside ``Importable*Config`` and only decodes them when the node is
built — a typo there surfaces late, as a log line, or not at all. Here every nested config goes
through its own class's parsing (``NautilusConfig.parse``, msgspec with unknown fields forbidden)
before a node exists, and every error names the file and the TOML table of the bad field.

A config file has two tables::

    [jarvis]   # what this file is for (JarvisSettings)
    [node]     # a TradingNodeConfig, field for field

Secrets come from the environment only. A file holding a private key (a 64-hex-digit value) or a
secret-named field (``private_key``, ``secret``, ``password``, ...) is refused; secrets are named
by their environment variable (``[jarvis.secrets_env]`` or a field ending in ``_env``) and read by
whoever needs them, when they need them, so they never sit in a config object that gets logged.
Non-secret values may come from the environment as ``"${NAME}"``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import Final

import msgspec
from nautilus_trader.common.config import ActorFactory
from nautilus_trader.config import ImportableConfig
from nautilus_trader.config import NautilusConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.config import resolve_config_path
from nautilus_trader.config import resolve_path
from nautilus_trader.execution.config import ExecAlgorithmFactory
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.config import StrategyFactory

from adapters.hyperliquid.config import HyperliquidDataClientConfig
from adapters.hyperliquid.enums import ProductType
from adapters.hyperliquid.providers import HYPERLIQUID_VENUE
from adapters.hyperliquid.providers import perp_instrument_id
from adapters.hyperliquid.providers import spot_instrument_id

__all__ = [
    "CONFIG_DIR",
    "ENVIRONMENTS",
    "ConfigError",
    "JarvisSettings",
    "LoadedNodeConfig",
    "load_node_config",
    "parse_node_config",
    "read_config_file",
    "referenced_instruments",
]

CONFIG_DIR: Final[Path] = Path(__file__).resolve().parent
"""The folder holding the shipped config files (``sim.toml``, ``testnet.toml``, ...)."""

ENVIRONMENTS: Final[frozenset[str]] = frozenset({"sim", "paper", "testnet", "mainnet"})

# Field names that may only exist as `<name>_env` (holding an environment variable name).
SECRET_FIELD_NAMES: Final[frozenset[str]] = frozenset(
    {
        "private_key",
        "secret",
        "secret_key",
        "api_secret",
        "password",
        "passphrase",
        "mnemonic",
        "seed_phrase",
        "wallet_key",
        "signing_key",
    }
)
_PRIVATE_KEY_RE: Final[re.Pattern[str]] = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_ENV_NAME_RE: Final[re.Pattern[str]] = re.compile(r"[A-Z_][A-Z0-9_]*")
_ENV_REF_RE: Final[re.Pattern[str]] = re.compile(r"\$\{([^}]*)\}")
_TOP_LEVEL_TABLES: Final[frozenset[str]] = frozenset({"jarvis", "node"})
# Nested importable configs: list field -> (class path field, config path field).
_IMPORTABLE_LISTS: Final[dict[str, tuple[str, str]]] = {
    "actors": ("actor_path", "config_path"),
    "strategies": ("strategy_path", "config_path"),
    "exec_algorithms": ("exec_algorithm_path", "config_path"),
}


# How NautilusTrader builds each kind of entry inside the node; the loader builds one up front.
_COMPONENT_FACTORIES: Final[dict[str, Any]] = {
    "actors": ActorFactory.create,
    "strategies": StrategyFactory.create,
    "exec_algorithms": ExecAlgorithmFactory.create,
}


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the field."""


class JarvisSettings(NautilusConfig, frozen=True):
    """
    The ``[jarvis]`` table: what the file is for and where its secrets come from.

    Parameters
    ----------
    environment : str
        ``"sim"``, ``"paper"``, ``"testnet"`` or ``"mainnet"`` (shown at start-up, so nobody
        mistakes a mainnet node for a simulator run).
    description : str
        One line for humans.
    secrets_env : dict[str, str]
        Secret name -> environment variable holding it (e.g. ``private_key = "HL_PRIVATE_KEY"``).
        Only names live here; values are read with ``secret()`` when needed.
    """

    environment: str
    description: str = ""
    secrets_env: dict[str, str] = {}

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(
                f"environment: must be one of {sorted(ENVIRONMENTS)}, was {self.environment!r}"
            )
        for name, variable in self.secrets_env.items():
            if not _ENV_NAME_RE.fullmatch(variable):
                raise ValueError(
                    f"secrets_env.{name}: must be an environment variable NAME "
                    "(upper case, digits, underscores), not a value"
                )

    def secret(self, name: str, environ: Mapping[str, str] | None = None) -> str:
        """The secret ``name``, read from its environment variable now (never stored or logged)."""
        variable = self.secrets_env.get(name)
        if variable is None:
            raise ConfigError(f"no secret {name!r} in [jarvis.secrets_env]")
        env = os.environ if environ is None else environ
        value = env.get(variable)
        if not value:
            raise ConfigError(f"secret {name!r}: environment variable {variable} is not set")
        return value


@dataclass(frozen=True)
class LoadedNodeConfig:
    """A validated config file: its settings and the ``TradingNodeConfig`` to build a node from."""

    source: str
    jarvis: JarvisSettings
    node: TradingNodeConfig


def load_node_config(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
) -> LoadedNodeConfig:
    """Read, check and parse a config file; raises ``ConfigError`` naming the bad field."""
    raw = read_config_file(path, environ)
    return parse_node_config(raw, source=str(path))


def read_config_file(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The file's tables as plain data: TOML parsed, secrets refused, ``${NAME}`` substituted.

    Callers may adjust the result (e.g. point the data client at a simulator's port) before
    ``parse_node_config``.
    """
    file = Path(path)
    source = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read config file: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    unknown = set(raw) - _TOP_LEVEL_TABLES
    if unknown:
        raise ConfigError(
            f"{source}: unknown top-level table(s) {sorted(unknown)}; expected [jarvis] and [node]"
        )
    for table in sorted(_TOP_LEVEL_TABLES):
        if not isinstance(raw.get(table), dict):
            raise ConfigError(f"{source}: missing [{table}] table")
    _refuse_secrets(raw, source)
    env = os.environ if environ is None else environ
    substituted = _substitute_env(raw, env, source, "")
    assert isinstance(substituted, dict)
    return substituted


def parse_node_config(raw: Mapping[str, Any], source: str = "<config>") -> LoadedNodeConfig:
    """Parse the tables of a config file through the config classes' own parsing."""
    jarvis = _parse(JarvisSettings, raw.get("jarvis", {}), source, "jarvis")
    node_raw = raw.get("node", {})
    if not isinstance(node_raw, Mapping):
        raise ConfigError(f"{source}: [node] must be a table")
    # An invalid trader id aborts the process inside NautilusTrader's Rust core: check it first.
    trader_id = node_raw.get("trader_id", "TRADER-001")
    if not isinstance(trader_id, str) or not re.fullmatch(r"[^-\s]+-[^-\s]+", trader_id):
        raise ConfigError(
            f"{source}: [node] trader_id: must be a name and a tag joined by '-' "
            f"(e.g. 'JARVIS-001'), was {trader_id!r}"
        )
    node = _parse(TradingNodeConfig, node_raw, source, "node")
    data_clients: dict[str, Any] = {}
    for kind in ("data_clients", "exec_clients"):
        for name, client in getattr(node, kind).items():
            config = _check_client(client, source, f"node.{kind}.{name}")
            if kind == "data_clients":
                data_clients[name] = config
    components: list[tuple[str, NautilusConfig]] = []
    for field, (class_field, config_field) in _IMPORTABLE_LISTS.items():
        for index, item in enumerate(getattr(node, field)):
            where = f"node.{field}[{index}]"
            config = _check_importable(item, class_field, config_field, source, where, field)
            components.append((f"{where}.config", config))
    if node.controller is not None:
        _check_importable(
            node.controller, "controller_path", "config_path", source, "node.controller"
        )
    _check_instruments_are_fed(data_clients, components, source)
    return LoadedNodeConfig(source=source, jarvis=jarvis, node=node)


def referenced_instruments(config: NautilusConfig) -> list[tuple[str, InstrumentId]]:
    """(field, instrument id) for every Hyperliquid instrument an actor or strategy config
    names (fields holding an ``InstrumentId`` or a list of them)."""
    found: list[tuple[str, InstrumentId]] = []
    for field in getattr(type(config), "__struct_fields__", ()):
        value = getattr(config, field)
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, InstrumentId) and item.venue == HYPERLIQUID_VENUE:
                found.append((field, item))
    return found


def _fed_instruments(config: HyperliquidDataClientConfig) -> set[InstrumentId] | None:
    """The instrument ids a data client's ``coins`` stand for; ``None`` when that needs the
    venue (all coins, or spot coins named by index like ``@107``)."""
    if config.coins is None:
        return None
    ids: set[InstrumentId] = set()
    for coin in config.coins:
        if ProductType.PERP in config.product_types:
            ids.add(perp_instrument_id(coin))
        if ProductType.SPOT in config.product_types:
            base, slash, quote = coin.partition("/")
            if not slash:
                return None
            ids.add(spot_instrument_id(base, quote))
    return ids


def _check_instruments_are_fed(
    data_clients: Mapping[str, Any], components: list[tuple[str, NautilusConfig]], source: str
) -> None:
    """Every Hyperliquid instrument an actor or strategy names must be among the coins a
    Hyperliquid data client loads (else it fails to start while the node runs on)."""
    hyperliquid = {
        name: config
        for name, config in data_clients.items()
        if isinstance(config, HyperliquidDataClientConfig)
    }
    fed: set[InstrumentId] = set()
    for client in hyperliquid.values():
        ids = _fed_instruments(client)
        if ids is None:
            return  # only the venue knows (see jarvis.preflight)
        fed |= ids
    for where, component in components:
        for field, instrument_id in referenced_instruments(component):
            if instrument_id in fed:
                continue
            if not hyperliquid:
                raise ConfigError(
                    f"{source}: [{where}] {field}: {instrument_id} needs a Hyperliquid data "
                    "client, and the config has none"
                )
            coins = "; ".join(
                f"[node.data_clients.{name}.config] coins = {list(client.coins or ())}"
                for name, client in hyperliquid.items()
            )
            raise ConfigError(
                f"{source}: [{where}] {field}: {instrument_id} is not among the instruments "
                f"the data clients load ({coins})"
            )


# Checks
# ------------------------------------------------------------------------------------------------


def _walk(value: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(table path, key, value) of every key/value pair, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield where, str(key), item
            yield from _walk(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{where}[{index}]")


def _refuse_secrets(raw: dict[str, Any], source: str) -> None:
    for where, key, value in _walk(raw, ""):
        field = f"{where}.{key}" if where else key
        # Keys of a `secrets_env` table are secret names; their values are checked as env names.
        if key.lower() in SECRET_FIELD_NAMES and not where.endswith("secrets_env"):
            raise ConfigError(
                f"{source}: [{where}] {key}: secrets are read from the environment only; "
                f'name the variable instead ({key}_env = "MY_ENV_VAR")'
            )
        if key.endswith("_env") and isinstance(value, str) and not _ENV_NAME_RE.fullmatch(value):
            raise ConfigError(
                f"{source}: [{where}] {key}: must be an environment variable NAME "
                "(upper case, digits, underscores), not a value"
            )
        if isinstance(value, str) and _PRIVATE_KEY_RE.fullmatch(value.strip()):
            raise ConfigError(
                f"{source}: {field}: looks like a private key; secrets are read from the "
                "environment only, never from config files"
            )


def _substitute_env(value: Any, env: Mapping[str, str], source: str, where: str) -> Any:
    if isinstance(value, dict):
        return {
            key: _substitute_env(item, env, source, f"{where}.{key}" if where else key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _substitute_env(item, env, source, f"{where}[{index}]")
            for index, item in enumerate(value)
        ]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _ENV_NAME_RE.fullmatch(name):
            raise ConfigError(f"{source}: {where}: bad environment reference ${{{name}}}")
        found = env.get(name)
        if found is None:
            raise ConfigError(f"{source}: {where}: environment variable {name} is not set")
        if _PRIVATE_KEY_RE.fullmatch(found.strip()):
            raise ConfigError(
                f"{source}: {where}: ${{{name}}} holds what looks like a private key; secrets "
                "may only be named (a *_env field), never substituted into a config"
            )
        return found

    return _ENV_REF_RE.sub(replace, value)


def _parse[C: NautilusConfig](cls: type[C], raw: Any, source: str, where: str) -> C:
    try:
        encoded = json.dumps(raw).encode()
        parsed: C = cls.parse(encoded)
    except (msgspec.ValidationError, ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: [{where}] {exc}") from None
    return parsed


def _resolve(path: Any, source: str, where: str) -> type:
    if not isinstance(path, str) or ":" not in path:
        raise ConfigError(f"{source}: {where}: must be 'package.module:ClassName', was {path!r}")
    try:
        return resolve_path(path)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{source}: {where}: cannot import {path!r}: {exc}") from None


def _check_client(client: Any, source: str, where: str) -> NautilusConfig:
    """A client entry must name its config class and factory, and its config must parse."""
    if not isinstance(client, ImportableConfig):
        raise ConfigError(
            f"{source}: [{where}] must give `path` (config class), `factory` and `config`"
        )
    if client.factory is None:
        raise ConfigError(f"{source}: [{where}] factory: missing (factory = {{ path = ... }})")
    _resolve(client.factory.path, source, f"[{where}] factory.path")
    config_cls = _resolve(client.path, source, f"[{where}] path")
    if not (isinstance(config_cls, type) and issubclass(config_cls, NautilusConfig)):
        raise ConfigError(f"{source}: [{where}] path: {client.path!r} is not a config class")
    return _parse(config_cls, client.config, source, f"{where}.config")


def _check_importable(
    item: Any,
    class_field: str,
    config_field: str,
    source: str,
    where: str,
    kind: str | None = None,
) -> NautilusConfig:
    """An actor / strategy entry: its class imports, its config parses with its class, and the
    component can be built from it (NautilusTrader builds it only inside the node, where a
    misfit shows as a raw traceback)."""
    _resolve(getattr(item, class_field), source, f"[{where}] {class_field}")
    config_path = getattr(item, config_field)
    _resolve(config_path, source, f"[{where}] {config_field}")
    try:
        config_cls = resolve_config_path(config_path)
    except TypeError as exc:
        raise ConfigError(f"{source}: [{where}] {config_field}: {exc}") from None
    config = _parse(config_cls, item.config, source, f"{where}.config")
    if kind == "strategies" and isinstance(item.config, Mapping) and "strategy_id" in item.config:
        raise ConfigError(
            f"{source}: [{where}.config] strategy_id: cannot be set in a config file "
            "(NautilusTrader 1.231 then hands the strategy a StrategyId where it needs a "
            "string); leave it out: the id is '<strategy class>-<order_id_tag>', so set "
            "order_id_tag to tell two instances apart"
        )
    factory = _COMPONENT_FACTORIES.get(kind or "")
    if factory is not None:
        try:
            factory(item)
        except Exception as exc:
            raise ConfigError(
                f"{source}: [{where}] cannot be built from its config: {type(exc).__name__}: {exc}"
            ) from None
    return config
