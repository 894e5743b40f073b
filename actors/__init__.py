"""NautilusTrader actors that build market state from the data feed."""
