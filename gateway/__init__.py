"""The websocket gateway: accepts OCPP 1.6J charge points and relays their events over a Bus.

Pure asyncio, no Django and no database: it shares only `charging.protocol` with the workers.
"""
