"""Wallet tracking: who trades, what they hold, how they behave around liquidation cascades.

``tracker`` is the pure core (per-address notional, positions, holding periods, behaviour
labels, manipulator state); ``data`` the custom data it publishes; ``actor`` the NautilusTrader
actor around it; ``manipulator_filter`` the check a strategy makes before arming.
"""
