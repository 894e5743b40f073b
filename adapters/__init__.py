"""Venue adapters: everything that speaks a venue's wire protocol lives here."""
