"""Fuzz a live gateway and worker with mutated OCPP-J frames from many chargers at once.

    python -m benchmarks.fuzz_frames [--frames 100000] [--chargers 50] [--good 5]
        [--max-seconds 600] [--concurrency 2] [--rate 20] [--seed 1]

Creates (and drops) the database `levity_fuzz` on the local PostgreSQL, starts a gateway and a
Celery worker on 127.0.0.1 (RabbitMQ from $AMQP_URL), then `--chargers` fuzzing chargers send
`--frames` frames in total: valid frames, bit flips, truncations, wrong types, huge ids, unknown
actions, broken payloads, deep nesting, lone surrogates, huge numbers, binary messages, and a
few oversized (1009) or non-UTF-8 (1007) messages, reconnecting whenever the gateway closes
them. Meanwhile `--good` chargers send a Heartbeat every 100 ms and time the answers.

Reports frames sent by mutation, answers by CALLERROR code, socket closes by code, the good
chargers' latency before and during the run, and crashes: a process that exited, or a traceback
in the gateway's or worker's log. Exits 1 if there was a crash or a good charger went
unanswered. Every charger is throttled by the gateway (`--rate` frames/s, its
`--max-frames-per-second`), so the fuzzers cannot starve the others of the gateway; the worker
is shared, so the good chargers' latency grows with the number of busy chargers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets
from kombu import Connection as AmqpConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.protocol import State

from levity.devstack import (
    ROOT,
    amqp_url,
    base_env,
    health,
    percentile,
    raw_charger,
    recreate_database,
    start_gateway,
    start_worker,
)

DB = "levity_fuzz"
MAX_FRAME_SIZE = 65536
PROBE_EVERY = 20
NOW = "2026-01-01T00:00:00Z"

TEMPLATES: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    ("BootNotification", {"chargePointVendor": "Fuzz", "chargePointModel": "F-1"}),
    ("Authorize", {"idTag": "TAG-1"}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    ("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": NOW}),
    ("StopTransaction", {"transactionId": 1, "meterStop": 10, "timestamp": NOW}),
    (
        "MeterValues",
        {
            "connectorId": 1,
            "meterValue": [
                {
                    "timestamp": NOW,
                    "sampledValue": [
                        {"value": "10", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
                    ],
                }
            ],
        },
    ),
    ("DataTransfer", {"vendorId": "fuzz", "messageId": "m", "data": "d"}),
    ("DiagnosticsStatusNotification", {"status": "Idle"}),
    ("FirmwareStatusNotification", {"status": "Idle"}),
]
# Weights of each mutation; `oversize` and `bad_utf8` cost a reconnection each.
MUTATIONS = {
    "valid": 10,
    "bitflip": 14,
    "truncate": 10,
    "wrong_types": 10,
    "broken_payload": 10,
    "huge_id": 5,
    "unknown_action": 5,
    "bad_message_type": 5,
    "garbage": 5,
    "answers": 5,
    "nesting": 3,
    "surrogates": 3,
    "numbers": 4,
    "binary": 3,
    "empty": 2,
    "oversize": 0.1,
    "bad_utf8": 0.1,
}
WEIRD_VALUES: list[Any] = [
    None,
    True,
    -1,
    0,
    2**31,
    2**64,
    1.5,
    "",
    "x" * 600,
    [],
    {},
    [1, [2, [3]]],
    {"a": {"b": None}},
    "Unknown",
    "2026-13-45T99:00:00Z",
]


@dataclass
class Message:
    """One websocket message to send: text, or bytes sent as a binary (or raw text) frame."""

    kind: str
    data: str | bytes
    text: bool = True


class Fuzzer:
    """Makes mutated frames from a seeded random generator (reproducible with `--seed`)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.count = 0
        self._kinds = list(MUTATIONS)
        self._weights = list(MUTATIONS.values())

    def _id(self) -> str:
        self.count += 1
        return f"z{self.count}"

    def _frame(self) -> list[Any]:
        """A valid CALL of a charger, with a fresh unique id."""
        action, payload = self.random.choice(TEMPLATES)
        return [2, self._id(), action, json.loads(json.dumps(payload))]

    def _value(self) -> Any:
        return self.random.choice(WEIRD_VALUES)

    def next(self) -> Message:
        kind = self.random.choices(self._kinds, self._weights)[0]
        return Message(kind, *getattr(self, f"_{kind}")())

    def _dump(self, frame: list[Any]) -> tuple[str]:
        return (json.dumps(frame, separators=(",", ":")),)

    def _valid(self) -> tuple[str]:
        return self._dump(self._frame())

    def _bitflip(self) -> tuple[str]:
        data = bytearray(self._dump(self._frame())[0].encode())
        for _ in range(self.random.randint(1, 3)):
            data[self.random.randrange(len(data))] ^= 1 << self.random.randrange(8)
        return (data.decode("utf-8", "replace"),)

    def _truncate(self) -> tuple[str]:
        text = self._dump(self._frame())[0]
        return (text[: self.random.randrange(len(text))],)

    def _wrong_types(self) -> tuple[str]:
        frame = self._frame()
        payload = frame[3]
        if payload:
            payload[self.random.choice(sorted(payload))] = self._value()
        else:
            frame[3] = self.random.choice([[], "x", 1, None])
        return self._dump(frame)

    def _broken_payload(self) -> tuple[str]:
        frame = self._frame()
        payload = frame[3]
        choice = self.random.randrange(3)
        if choice == 0 and payload:
            del payload[self.random.choice(sorted(payload))]
        elif choice == 1:
            payload["surprise"] = self._value()
        else:
            for key in payload:
                if isinstance(payload[key], str):
                    payload[key] = "NotAnEnumValue"
        return self._dump(frame)

    def _huge_id(self) -> tuple[str]:
        frame = self._frame()
        frame[1] = "i" * self.random.choice([37, 100, 5000, 60000])
        return self._dump(frame)

    def _unknown_action(self) -> tuple[str]:
        frame = self._frame()
        frame[2] = self.random.choice(
            ["MakeCoffee", "", "heartbeat", "Reset", "RemoteStartTransaction", "A" * 300, "\u2603"]
        )
        return self._dump(frame)

    def _bad_message_type(self) -> tuple[str]:
        frame = self._frame()
        frame[0] = self.random.choice([0, 1, 5, 99, -2, "2", 2.5, None, True, [2]])
        return self._dump(frame)

    def _garbage(self) -> tuple[str]:
        size = self.random.randrange(1, 200)
        data = bytes(self.random.randrange(256) for _ in range(size))
        return (data.decode("utf-8", "replace"),)

    def _answers(self) -> tuple[str]:
        unique_id = self.random.choice([self._id(), "z1", "", 7])
        if self.random.random() < 0.5:
            return self._dump([3, unique_id, self.random.choice([{}, {"status": "Accepted"}, []])])
        return self._dump([4, unique_id, self.random.choice(["NotSupported", "Nope", 5]), "d", {}])

    def _nesting(self) -> tuple[str]:
        depth = self.random.choice([10, 500, 900, 990, 1100, 20000])
        action, payload = self.random.choice(TEMPLATES)
        key = self.random.choice(sorted(payload) or ["data"])
        nested = "[" * depth + "]" * depth
        head = json.dumps([2, self._id(), action])[:-1]
        body = json.dumps({**payload, key: "@"}).replace('"@"', nested)
        return (f"{head},{body}]",)

    def _surrogates(self) -> tuple[str]:
        frame = self._frame()
        text = self._dump(frame)[0]
        target = self.random.choice(["id", "payload", "key"])
        if target == "id":
            return (text.replace(f'"{frame[1]}"', '"\\ud800"', 1),)
        if target == "key":
            return (text.replace("{", '{"\\udfff":1,', 1).replace(",}", "}"),)
        return (text.replace('"' + frame[2] + '",{', '"' + frame[2] + '",{"x":"a\\udc80b",', 1),)

    def _numbers(self) -> tuple[str]:
        frame = self._frame()
        number = self.random.choice(
            ["1e999", "-1e999", "NaN", "Infinity", "9" * 5000, "-0", "1e-400"]
        )
        text = self._dump(frame)[0]
        if frame[3]:
            key = self.random.choice(sorted(frame[3]))
            return (text.replace(f'"{key}":', f'"{key}":{number},"_{key}":', 1),)
        return (text[:-2] + '{"n":' + number + "}]",)

    def _binary(self) -> tuple[bytes, bool]:
        text = self.random.choice([self._valid, self._bitflip, self._truncate])()[0]
        return text.encode("utf-8", "surrogatepass"), False

    def _empty(self) -> tuple[str]:
        return (self.random.choice(["", " ", "\n", "[]", "{}", "null", "[2]"]),)

    def _oversize(self) -> tuple[str]:
        frame = self._frame()
        frame[3]["pad"] = "x" * (MAX_FRAME_SIZE + self.random.randrange(10, 5000))
        return self._dump(frame)

    def _bad_utf8(self) -> tuple[bytes, bool]:
        return b'[2,"u","Heartbeat",{"x":"\xff\xfe"}]', True


@dataclass
class Tally:
    sent: collections.Counter[str] = field(default_factory=collections.Counter)
    answers: collections.Counter[str] = field(default_factory=collections.Counter)
    closes: collections.Counter[str] = field(default_factory=collections.Counter)
    connections: int = 0
    probes: collections.Counter[str] = field(default_factory=collections.Counter)
    probe_timeouts: int = 0
    refused: int = 0
    total_sent: int = 0


async def fuzz_charger(
    port: int, cp_id: str, fuzzer: Fuzzer, tally: Tally, quota: int, deadline: float
) -> None:
    """Send mutated frames until the shared quota is used up, reconnecting after each close.

    Every PROBE_EVERY frames a Heartbeat probe is sent and its answer awaited: frames of one
    connection are processed in order, so the probe's answer means the frames before it were
    handled. That keeps the fuzzer from outrunning the gateway (whose buffers would be thrown
    away with the socket) and finds connections that stop being served.
    """
    loop = asyncio.get_running_loop()
    probe = 0
    while tally.total_sent < quota and time.monotonic() < deadline:
        try:
            ws = await websockets.connect(
                f"ws://127.0.0.1:{port}/ocpp/{cp_id}",
                subprotocols=["ocpp1.6"],
                ping_interval=None,
                max_size=None,
                open_timeout=10,
                close_timeout=5,
            )
        except (OSError, InvalidHandshake, TimeoutError):
            tally.refused += 1
            await asyncio.sleep(0.2)
            continue
        tally.connections += 1
        probes: dict[str, asyncio.Future[str]] = {}
        reader = asyncio.create_task(read_answers(ws, tally, probes))
        closed_by_us = False
        with contextlib.suppress(ConnectionClosed):
            while tally.total_sent < quota and time.monotonic() < deadline:
                for _ in range(PROBE_EVERY):
                    if tally.total_sent >= quota:
                        break
                    message = fuzzer.next()
                    tally.total_sent += 1
                    tally.sent[message.kind] += 1
                    if isinstance(message.data, bytes) and message.text:
                        await ws.send(message.data, text=True)  # not valid UTF-8: 1007
                    else:
                        await ws.send(message.data)
                probe += 1
                probe_id = f"p-{cp_id}-{probe}"
                probes[probe_id] = loop.create_future()
                await ws.send(json.dumps([2, probe_id, "Heartbeat", {}]))
                done, _ = await asyncio.wait(
                    {probes[probe_id], reader}, timeout=120, return_when=asyncio.FIRST_COMPLETED
                )
                if reader in done:
                    break  # the gateway closed the socket
                if not done:
                    tally.probe_timeouts += 1
                    break
            else:
                closed_by_us = True
                await ws.close()
        await asyncio.wait({reader}, timeout=10)
        reader.cancel()
        if not closed_by_us:
            # Closed by the gateway: what it sent (1009 too big, 1007 not UTF-8, ...).
            rcvd = ws.protocol.close_rcvd
            label = f"{rcvd.code} {rcvd.reason}".strip() if rcvd else "1006 (no close frame)"
            tally.closes[label] += 1
            if ws.state is not State.CLOSED:
                await ws.close()


def answer_label(message: str | bytes) -> str:
    try:
        answer = json.loads(message)
        if answer[0] == 4:
            return f"CALLERROR {answer[2]}"
        return {3: "CALLRESULT", 2: "CALL (from us)"}.get(answer[0], f"other {answer[0]!r}")
    except (ValueError, TypeError, IndexError, KeyError):
        return "unparsable"


async def read_answers(ws: Any, tally: Tally, probes: dict[str, asyncio.Future[str]]) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in ws:
            label = answer_label(message)
            with contextlib.suppress(ValueError, TypeError, IndexError, KeyError):
                waiting = probes.pop(json.loads(message)[1], None)
                if waiting is not None:
                    tally.probes[label] += 1
                    waiting.set_result(label)
                    continue
            tally.answers[label] += 1


async def good_charger(
    port: int, cp_id: str, stop: asyncio.Event, latencies: list[tuple[float, float]]
) -> int:
    """A Heartbeat every 100 ms; (sent at, round trip ms) go to `latencies`. Returns 1 if one
    went unanswered for 30 s (and stops there), else 0."""
    async with raw_charger(port, cp_id) as ws:
        n = 0
        while not stop.is_set():
            n += 1
            began = time.perf_counter()
            await ws.send(json.dumps([2, f"g{n}", "Heartbeat", {}]))
            try:
                answer = json.loads(await asyncio.wait_for(ws.recv(), 30))
            except TimeoutError:
                return 1
            assert answer[:2] == [3, f"g{n}"], answer
            latencies.append((time.monotonic(), (time.perf_counter() - began) * 1000))
            await asyncio.sleep(0.1)
    return 0


def latency_line(values: list[float]) -> str:
    return (
        f"p50 {percentile(values, 0.5):.1f} ms  p99 {percentile(values, 0.99):.1f} ms  "
        f"max {max(values, default=float('nan')):.1f} ms  ({len(values)} Heartbeats)"
    )


async def campaign(port: int, args: argparse.Namespace, tally: Tally) -> dict[str, Any]:
    stop = asyncio.Event()
    latencies: list[tuple[float, float]] = []
    goods = [
        asyncio.create_task(good_charger(port, f"GOOD-{i}", stop, latencies))
        for i in range(args.good)
    ]
    await asyncio.sleep(3)  # the baseline: good chargers alone
    fuzzer = Fuzzer(args.seed)
    began = time.monotonic()
    deadline = began + args.max_seconds
    await asyncio.gather(
        *(
            fuzz_charger(port, f"FUZZ-{i}", fuzzer, tally, args.frames, deadline)
            for i in range(args.chargers)
        )
    )
    ended = time.monotonic()
    stop.set()
    missed = sum(await asyncio.gather(*goods))
    return {
        "before": [ms for at, ms in latencies if at < began],
        "during": [ms for at, ms in latencies if began <= at <= ended],
        "missed": missed,
        "seconds": ended - began,
    }


def tracebacks(log: str) -> list[str]:
    """The last line (the exception) of every traceback in `log`."""
    found = []
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [line for line in block.splitlines() if line and not line.startswith(" ")]
        found.append(lines[0] if lines else "?")
    return found


def metric(exposition: str, name: str) -> float:
    total = 0.0
    for match in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", exposition, re.M):
        total += float(match.group(1))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=100_000, help="mutated frames in total")
    parser.add_argument("--chargers", type=int, default=50, help="fuzzing chargers")
    parser.add_argument("--good", type=int, default=5, help="chargers timing Heartbeats")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop sending after this")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (-c)")
    parser.add_argument(
        "--rate", type=float, default=20, help="the gateway's --max-frames-per-second (0 = off)"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    env = base_env(DATABASE_URL=recreate_database(DB))
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    with AmqpConnection(amqp_url()) as amqp, contextlib.suppress(Exception):
        amqp.default_channel.queue_purge("cp.*")  # left-overs of an earlier run
    tmp = Path(tempfile.mkdtemp(prefix="levity-fuzz-"))
    worker = start_worker(tmp, env, concurrency=args.concurrency)
    gateway, port = start_gateway(
        tmp,
        env,
        extra=[
            "--max-frames-per-second",
            str(args.rate),
            "--max-frame-size",
            str(MAX_FRAME_SIZE),
            "--idle-timeout",
            "30",
        ],
    )
    tally = Tally()
    exposition = ""
    exits: dict[str, int | None] = {}
    try:
        result = asyncio.run(campaign(port, args, tally))
        # Let the gateway deliver what it holds before judging the processes.
        drain_until = time.monotonic() + 60
        while time.monotonic() < drain_until:
            state = health(port)
            if state is None or (state["connections"] == 0 and state["draining"] == 0):
                break
            time.sleep(0.5)
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response,
        ):
            exposition = response.read().decode()
        for process in (gateway, worker):
            assert process.proc is not None
            exits[process.name] = process.proc.poll()
    finally:
        gateway.stop()
        worker.stop()

    crashes = [f"{name} exited with {code}" for name, code in exits.items() if code is not None]
    for process in (gateway, worker):
        crashes += [f"{process.name}: {line}" for line in tracebacks(process.log())]

    print(
        f"fuzz: {tally.total_sent} frames from {args.chargers} chargers in {result['seconds']:.1f} s "
        f"({tally.total_sent / max(result['seconds'], 1e-9):.0f}/s), gateway --max-frames-per-second "
        f"{args.rate}, worker -c {args.concurrency}, seed {args.seed}"
    )
    print("frames sent by mutation:")
    for kind, count in tally.sent.most_common():
        print(f"  {kind:<18} {count}")
    print("answers received:")
    for label, count in tally.answers.most_common():
        print(f"  {label:<40} {count}")
    print(f"connections {tally.connections} (refused {tally.refused}); socket closes by code:")
    for label, count in tally.closes.most_common():
        print(f"  {label:<40} {count}")
    print(
        "gateway metrics: throttled frames "
        f"{metric(exposition, 'levity_gateway_throttled_frames_total'):.0f}, reply timeouts "
        f"{metric(exposition, 'levity_gateway_reply_timeouts_total'):.0f}, publish failures "
        f"{metric(exposition, 'levity_gateway_publish_failures_total'):.0f}, idle closes "
        f"{metric(exposition, 'levity_gateway_idle_closes_total'):.0f}"
    )
    print(
        f"probes (a Heartbeat after every {PROBE_EVERY} frames): {dict(tally.probes)}, "
        f"unanswered within 120 s: {tally.probe_timeouts}"
    )
    print(f"good chargers ({args.good}), alone:  {latency_line(result['before'])}")
    print(f"good chargers ({args.good}), during: {latency_line(result['during'])}")
    print(f"good Heartbeats unanswered within 30 s: {result['missed']}")
    # Not crashes, but they explain latency: the database went away and the worker retried.
    retries = worker.log().count("database error, retrying")
    print(f"worker database retries (PostgreSQL unavailable): {retries}")
    print(f"crashes: {len(crashes)}")
    for line, count in collections.Counter(crashes).most_common(20):
        print(f"  {count} × {line}")
    print(f"logs in {tmp}")
    if crashes or result["missed"] or tally.probe_timeouts:
        sys.exit(1)


if __name__ == "__main__":
    main()
