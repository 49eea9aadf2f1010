"""The Django project that hosts the `charging` app."""
