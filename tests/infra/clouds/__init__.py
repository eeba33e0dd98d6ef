"""Per-cloud platform tests."""
