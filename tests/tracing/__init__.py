"""Tests of charging/tracing.py."""
