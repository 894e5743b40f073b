"""The intent compiler: what a trader asked for -> a checked plan -> a strategy config.

A pure library (no HTTP, no node): ``schema`` (the typed intents), ``venue`` (instrument
metadata snapshots), ``compiler`` (validate, plan, ``ImportableStrategyConfig``), ``parser``
(deterministic natural language), ``llm`` (the optional OpenAI-compatible path).
"""
