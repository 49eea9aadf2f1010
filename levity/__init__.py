"""The `levity` command: run the whole system (`levity up`) or one of its processes."""
