"""The Hyperliquid adapter: wire schemas, signing, number rules, clients and the simulator."""
