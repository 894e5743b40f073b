"""Backtests on recorded data with the same configs as live."""
