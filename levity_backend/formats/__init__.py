"""Date and time formats of the project (FORMAT_MODULE_PATH), per language."""
