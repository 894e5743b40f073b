"""Helpers for NautilusTrader custom data types shared by the adapter and the actors."""

from __future__ import annotations

import inspect
import typing

from nautilus_trader.model.custom import customdataclass

__all__ = ["customdataclass_resolved"]


def customdataclass_resolved[T](cls: type[T]) -> type[T]:
    """``@customdataclass`` for modules that use ``from __future__ import annotations``.

    NautilusTrader 1.231 maps field annotations to Arrow types by their runtime type objects;
    postponed evaluation turns them into strings it rejects ("Unsupported custom data
    annotation: 'str'"). Resolving them first keeps our house style and the catalog schema.
    """
    own = inspect.get_annotations(cls)
    hints = typing.get_type_hints(cls)
    cls.__annotations__ = {name: hints[name] for name in own}
    return typing.cast(type[T], customdataclass(cls))
