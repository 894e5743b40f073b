"""Does a payload have the venue's shape? Same keys, same JSON value types, same envelope.

The simulator must be faithful enough that code which works against it works against the venue;
this compares what it emits with the recorded captures in `tests/resources/hyperliquid/`.
A shape merges one or more captures: a key is required only if every capture has it, and a value
may take any type some capture shows. String decimals must stay strings, ids integers.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CLOID_OPTIONAL",
    "FRONTEND_ORDER_NULLABLE_KEYS",
    "MAP_KEYS",
    "NULLABLE_KEYS",
    "OPAQUE_KEYS",
    "Shape",
    "shape_errors",
    "shape_of",
    "type_name",
]

# Basic orders and fills carry `cloid` only when the order had one (PROTOCOL §8.2, §8.3),
# although every capture of some of them happens to show one.
CLOID_OPTIONAL = frozenset({"cloid"})
# The venue sends `liquidationPx: null` for a position that cannot be liquidated (an account
# far over-collateralised); the captures only show liquidatable positions.
NULLABLE_KEYS = frozenset({"liquidationPx"})
# Frontend orders (frontendOpenOrders, orderStatus, historicalOrders) carry `tif: null` for trigger
# orders and `cloid: null` when the order has none (PROTOCOL §8.2); single captures show strings.
FRONTEND_ORDER_NULLABLE_KEYS = NULLABLE_KEYS | {"tif", "cloid"}
# Keys whose value is the client's own subscription object echoed back: only its type is checked.
OPAQUE_KEYS = frozenset({"subscription"})
# Keys whose value is a map from data (coin names) to values, not a record with fixed fields.
MAP_KEYS = frozenset({"mids"})


def type_name(value: Any) -> str:
    """JSON type name of a decoded value (bool before int: True is an int in Python)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


class Shape:
    """The merged shape of one or more samples: types seen, keys seen and keys always present."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.samples = 0
        self.fields: dict[str, Shape] = {}
        self.field_counts: dict[str, int] = {}
        self.items: Shape | None = None
        self.map_values: Shape | None = None

    def add(self, value: Any, key: str | None = None) -> Shape:
        kind = type_name(value)
        self.types.add(kind)
        if kind == "dict" and key in MAP_KEYS:
            self.map_values = self.map_values or Shape()
            for item in value.values():
                self.map_values.add(item)
        elif kind == "dict":
            self.samples += 1
            for name, item in value.items():
                self.fields.setdefault(name, Shape()).add(item, name)
                self.field_counts[name] = self.field_counts.get(name, 0) + 1
        elif kind == "list":
            self.items = self.items or Shape()
            for item in value:
                self.items.add(item)
        return self


def shape_of(*samples: Any) -> Shape:
    """The merged shape of the given captures."""
    shape = Shape()
    for sample in samples:
        shape.add(sample)
    return shape


def shape_errors(
    value: Any,
    shape: Shape,
    path: str = "$",
    key: str | None = None,
    optional: frozenset[str] = frozenset(),
    nullable: frozenset[str] = NULLABLE_KEYS,
) -> list[str]:
    """Every way `value` differs from `shape` (empty list: conformant).

    Keys in `optional` may be absent; keys in `nullable` may be null where captures show a value.
    """
    kind = type_name(value)
    if shape.types <= {"null"}:
        return []  # the captures only show null here: nothing to compare against
    if kind == "null" and key in nullable:
        return []
    if kind not in shape.types:
        return [f"{path}: {kind} where the venue sends {sorted(shape.types)}"]
    errors: list[str] = []
    if kind == "dict" and key in OPAQUE_KEYS:
        return []
    if kind == "dict" and key in MAP_KEYS and shape.map_values is not None:
        for name, item in value.items():
            errors += shape_errors(item, shape.map_values, f"{path}.{name}", nullable=nullable)
    elif kind == "dict":
        for name, item in value.items():
            if name not in shape.fields:
                errors.append(f"{path}: unexpected key {name!r}")
            else:
                sub = shape.fields[name]
                errors += shape_errors(item, sub, f"{path}.{name}", name, optional, nullable)
        for name, count in shape.field_counts.items():
            if count == shape.samples and name not in value and name not in optional:
                errors.append(f"{path}: missing key {name!r}")
    elif kind == "list" and shape.items is not None and shape.items.types:
        for i, item in enumerate(value):
            errors += shape_errors(item, shape.items, f"{path}[{i}]", None, optional, nullable)
    return errors
