"""What validating one payload costs, in µs: the `ocpp` package's jsonschema validator against ours.

    python -m benchmarks.validation_cost [--rounds 2000]

The default mix's CALLs (benchmarks/load/mix.py) and our answers, plus a RemoteStartTransaction
and the charger's CALLRESULT to it, each validated `--rounds` times, best of 5. `before` is what
charging.protocol.validation did until jsonschema-rs (Draft4 per payload, Decimal for the
`multipleOf: 0.1` schemas); `fastjsonschema` is printed when it is installed (the other
candidate); `after` is `validate_payload` today.
"""

from __future__ import annotations

import argparse
import decimal
import json
import timeit
from collections.abc import Callable
from typing import Any

from benchmarks.load import mix
from charging.protocol import MessageType
from charging.protocol.validation import _SCHEMAS, validate_payload

NOW = "2026-01-01T00:00:00.000Z"
PAYLOADS: list[tuple[MessageType, str, dict[str, Any]]] = [
    (MessageType.call, "BootNotification", mix.boot_notification()),
    (MessageType.call, "StatusNotification", mix.status_notification(1, "Available")),
    (MessageType.call, "StartTransaction", mix.start_transaction("TAG-1", 1000)),
    (MessageType.call, "MeterValues", mix.meter_values(1, 1500)),
    (MessageType.call, "MeterValues", mix.meter_values(1, 2000)),
    (MessageType.call, "MeterValues", mix.meter_values(1, 2500)),
    (MessageType.call, "StopTransaction", mix.stop_transaction(1, "TAG-1", 3000)),
    (MessageType.call, "Heartbeat", {}),
    (
        MessageType.call_result,
        "BootNotification",
        {"status": "Accepted", "currentTime": NOW, "interval": 300},
    ),
    (MessageType.call_result, "Heartbeat", {"currentTime": NOW}),
    (
        MessageType.call_result,
        "StartTransaction",
        {"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
    ),
    (MessageType.call, "RemoteStartTransaction", {"connectorId": 1, "idTag": "TAG-1"}),
    (MessageType.call_result, "RemoteStartTransaction", {"status": "Accepted"}),
]
_DECIMAL = {(MessageType.call, "RemoteStartTransaction")}


def before(message_type: MessageType, action: str, payload: dict[str, Any]) -> None:
    """The old validation's schema work (its error ranking ran only on failures)."""
    from ocpp.messages import get_validator

    parse_float = decimal.Decimal if (message_type, action) in _DECIMAL else float
    validator = get_validator(int(message_type), action, "1.6", parse_float=parse_float)
    if parse_float is decimal.Decimal:
        payload = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    assert next(iter(validator.iter_errors(payload)), None) is None


def fastjsonschema_validator() -> Callable[[MessageType, str, dict[str, Any]], None] | None:
    try:
        import fastjsonschema
    except ImportError:
        return None
    compiled: dict[tuple[MessageType, str], Callable[[Any], Any]] = {}
    for message_type, action, _ in PAYLOADS:
        name = action + ("Response" if message_type == MessageType.call_result else "")
        with open(f"{_SCHEMAS}/{name}.json", encoding="utf-8") as schema:
            compiled[message_type, action] = fastjsonschema.compile(json.load(schema))

    def validate(message_type: MessageType, action: str, payload: dict[str, Any]) -> None:
        compiled[message_type, action](payload)

    return validate


def per_payload(validate: Callable[..., None], rounds: int) -> tuple[float, dict[str, float]]:
    """Mean µs per payload over the whole list, and per action."""
    each: dict[str, float] = {}
    for message_type, action, payload in PAYLOADS:
        validate(message_type, action, payload)  # warm: schemas loaded, validators built
        args = (message_type, action, payload)
        best = min(timeit.repeat(lambda args=args: validate(*args), number=rounds, repeat=5))
        each[f"{action} {message_type.name}"] = best / rounds * 1e6
    return sum(each.values()) / len(each), each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    systems: dict[str, Callable[..., None]] = {"before": before, "after": validate_payload}
    fast = fastjsonschema_validator()
    if fast is not None:
        systems = {"before": before, "fastjsonschema": fast, "after": validate_payload}
    results = {name: per_payload(validate, args.rounds) for name, validate in systems.items()}
    names = list(results)
    print(f"{'payload':<40}" + "".join(f"{name:>16}" for name in names))
    for key in results["before"][1]:
        print(f"{key:<40}" + "".join(f"{results[name][1][key]:>13.2f} µs" for name in names))
    print(f"{'mean per payload':<40}" + "".join(f"{results[n][0]:>13.2f} µs" for n in names))


if __name__ == "__main__":
    main()
