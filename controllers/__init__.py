"""Controllers that decide which strategies may run (the regime controller)."""
