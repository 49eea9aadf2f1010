"""The charging app's HTTP API (Django REST Framework): charge points, transactions, id tags, calls."""
