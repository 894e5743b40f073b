"""The bottom floor: small NautilusTrader workarounds that several layers need.

Nothing here imports any other project package.
"""
