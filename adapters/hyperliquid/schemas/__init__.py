"""Hyperliquid wire schemas: msgspec Structs for every /info, /exchange and WebSocket payload.

Field names are exactly the venue's; decoders and encoders are built once, at import of the
submodule that defines them. Nothing else in the project parses venue JSON.

Names are imported from the submodule that defines them, the one import path for each
(`from adapters.hyperliquid.schemas.ws import WsFrame`); this package re-exports nothing, so it
needs no name list to keep in step and no lazy import to dodge a cycle. Submodules: `common`
(shapes shared by info and WS), `info` (requests, response types, `INFO_RESPONSE_TYPES`),
`exchange` (actions in hashed key order, the request envelope, responses), `ws` (subscriptions,
client messages, the `WsFrame` union on `channel`).
"""
