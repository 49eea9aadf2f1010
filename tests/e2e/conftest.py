"""End-to-end tests: their fixtures `stack` and `e2e_db` live in tests/e2e/fixtures.py, made
visible to every suite by tests/conftest.py (tests/browser uses them too)."""
