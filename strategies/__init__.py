"""Trading strategies with explicit state machines, and strategy templates."""
