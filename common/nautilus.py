"""NautilusTrader 1.231 workarounds shared by the adapter, the actors and later floors.

One place for each: the ``@customdataclass`` annotation fix, the topic custom data is published on,
and the placeholder instrument id custom data types need as a field default.
"""

from __future__ import annotations

import inspect
import typing

from nautilus_trader.model.custom import customdataclass
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId

__all__ = ["PLACEHOLDER_INSTRUMENT_ID", "custom_data_topic", "customdataclass_resolved"]

# Custom data types need a default for every field; this id never names a real instrument.
PLACEHOLDER_INSTRUMENT_ID = InstrumentId.from_str("NONE.NONE")


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


def custom_data_topic(data_type: DataType) -> str:
    """
    The message-bus topic ``Actor.publish_data(data_type, ...)`` publishes on.

    In-process consumers subscribe to it directly (``self.msgbus.subscribe(topic, handler)``):
    in NautilusTrader 1.231 ``subscribe_data`` without a client id logs an error, and with one
    the data engine looks for a data client that does not exist.
    """
    return f"data.{data_type.topic}"
