"""The traffic mix: which CALLs a simulated charger sends, in what order, with which payloads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PRESETS = {
    # A charging session with MeterValues every few seconds and a Heartbeat now and then.
    "default": "meter=6,heartbeat=2",
    # Chargers that only keep their connection alive.
    "heartbeat": "meter=0,heartbeat=1,sessions=0",
}


@dataclass(frozen=True)
class Mix:
    """One cycle of a charger's traffic after its boot.

    With `sessions`: Authorize, StartTransaction, StatusNotification Charging, `meter`
    MeterValues with `heartbeat` Heartbeats spread among them, StopTransaction,
    StatusNotification Available. Without: `heartbeat` Heartbeats. The charger goes from
    Available straight to Charging (OCPP 1.6 §4.9, transition A3, "charging starts at once"),
    without Preparing: the full stack remote-starts on Preparing (AutoRemoteStartMiddleware) and
    the baseline does not, so the same mix would not be the same load.
    """

    meter: int = 6
    heartbeat: int = 2
    sessions: bool = True

    @classmethod
    def parse(cls, text: str) -> Mix:
        """`default`, `heartbeat`, or `meter=N,heartbeat=N[,sessions=0|1]`."""
        spec = PRESETS.get(text, text)
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, value = item.partition("=")
            if not sep or name not in ("meter", "heartbeat", "sessions"):
                raise ValueError(
                    f"bad mix entry {item!r}: use {', '.join(PRESETS)} or meter=N,heartbeat=N,sessions=0|1"
                )
            values[name] = int(value)
        mix = cls(
            meter=values.get("meter", 6),
            heartbeat=values.get("heartbeat", 2),
            sessions=bool(values.get("sessions", 1)),
        )
        if not mix.sessions and mix.heartbeat <= 0:
            raise ValueError("a mix without sessions needs heartbeat >= 1")
        return mix

    def describe(self) -> str:
        if not self.sessions:
            return "Heartbeats only"
        return f"sessions of {self.meter} MeterValues and {self.heartbeat} Heartbeats"

    def cycle(self) -> Iterator[str]:
        """The actions of one cycle, in order ("Status:Charging" names a StatusNotification)."""
        if not self.sessions:
            yield from ["Heartbeat"] * self.heartbeat
            return
        yield "Authorize"
        yield "StartTransaction"
        yield "Status:Charging"
        # Heartbeats spread evenly among the MeterValues.
        slots = self.meter + self.heartbeat
        for n in range(slots):
            before = (n * self.heartbeat) // slots
            after = ((n + 1) * self.heartbeat) // slots
            yield "Heartbeat" if after > before else "MeterValues"
        yield "StopTransaction"
        yield "Status:Available"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def boot_notification() -> dict[str, Any]:
    return {
        "chargePointVendor": "Levity",
        "chargePointModel": "LoadSim",
        "firmwareVersion": "1.0",
    }


def status_notification(connector_id: int, status: str) -> dict[str, Any]:
    return {
        "connectorId": connector_id,
        "errorCode": "NoError",
        "status": status,
        "timestamp": now(),
    }


def authorize(id_tag: str) -> dict[str, Any]:
    return {"idTag": id_tag}


def start_transaction(id_tag: str, meter_wh: int) -> dict[str, Any]:
    return {"connectorId": 1, "idTag": id_tag, "meterStart": meter_wh, "timestamp": now()}


def meter_values(transaction_id: int, meter_wh: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": transaction_id,
        "meterValue": [
            {
                "timestamp": now(),
                "sampledValue": [
                    {
                        "value": str(meter_wh),
                        "context": "Sample.Periodic",
                        "measurand": "Energy.Active.Import.Register",
                        "unit": "Wh",
                    },
                    {
                        "value": "7400",
                        "context": "Sample.Periodic",
                        "measurand": "Power.Active.Import",
                        "unit": "W",
                    },
                ],
            }
        ],
    }


def stop_transaction(transaction_id: int, id_tag: str, meter_wh: int) -> dict[str, Any]:
    return {
        "transactionId": transaction_id,
        "idTag": id_tag,
        "meterStop": meter_wh,
        "timestamp": now(),
        "reason": "Local",
    }
