"""Local Hyperliquid venue simulator: a pure venue core (engine) plus a loopback server."""
