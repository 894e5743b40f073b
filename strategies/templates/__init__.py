"""The user templates: DirectBuy, PriceLimit, EMACross, TWAP and DCA (one module each).

Each is a config class plus a NautilusTrader strategy; the intent compiler (``intents``) turns a
trader's intent into one of these configs.
"""
