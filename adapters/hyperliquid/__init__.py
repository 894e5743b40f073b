"""The Hyperliquid adapter: wire schemas, signing, number rules, transport, NautilusTrader clients.

The package itself imports nothing, so the wire modules can be used without the clients.
"""
