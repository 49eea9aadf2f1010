"""Levity's reusable Django app for OCPP 1.6J central systems.

Importing the package imports no Django code, so the gateway can use `charging.protocol`.
"""

from .protocol import Action, MessageType

__all__ = ["Action", "MessageType"]
