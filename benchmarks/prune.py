"""The worker's latency while old messages are pruned: `handle_event` (default mix, in-process, on
PostgreSQL) before and during a prune of `--messages` old frames running in another process.

    python -m benchmarks.prune [--messages 1500000] [--chargers 20] [--cycles 5] [--batch 2000]

Creates (and drops) the database `levity_prunebench`; fills it by SQL (generate_series) with
`--messages` frames 100-200 days old, shaped like the default mix (each CALL answered, two meter
values per MeterValues, a transaction and a command per session); prints the plans of one prune batch; plays
`--cycles` sessions per charger without a prune, then keeps playing while another process prunes
a one-second slice every `--every` seconds as beat would, then while it prunes the rest back to
back, one batch per call; prints p50/p99/max of each phase and the prune's runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from typing import IO, Any

from benchmarks.load import mix
from benchmarks.worker_cost import Charger, production_settings
from levity.devstack import drop_database, percentile, recreate_database

DB = "levity_prunebench"
DAYS = 90


def _fill(messages: int) -> None:
    """`messages` frames, ids 1..messages, from 200 to 100 days ago: inbound CALLs of the default
    mix's cycle (odd ids) and their answers (even ids), as 100 old chargers sent them."""
    from django.db import connection

    cycle = [
        "StatusNotification" if step.startswith("Status:") else step for step in mix.Mix().cycle()
    ]
    payload = json.dumps(mix.meter_values(1, 1000))
    sessions = messages // (2 * len(cycle)) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO charging_chargepoint (id, vendor, model, serial_number, "
            "charge_box_serial_number, firmware_version, iccid, imsi, meter_type, "
            "meter_serial_number, registration_status, approved, authorization_key, "
            "authorization_key_pending, connected, connection_id, gateway_id, "
            "last_call_unique_id, last_call_action, last_call_repeat, diagnostics_status, "
            "firmware_status, validation, created_at) "
            "SELECT 'OLD' || lpad(n::text, 4, '0'), '', '', '', '', '', '', '', '', '', "
            "'Accepted', true, '', '', false, '', '', '', '', false, '', '', '', now() "
            "FROM generate_series(0, 99) n"
        )
        cursor.execute(
            "INSERT INTO charging_transaction (id, charge_point_id, connector_id, id_tag, "
            "id_tag_status, meter_start, meter_stop, start_received_at, stop_received_at, "
            "stop_reason, stop_id_tag, closed_as_orphan, notes) "
            "SELECT s + 1, 'OLD' || lpad((s %% 100)::text, 4, '0'), 1, 'TAG', 'Accepted', 0, "
            "1000, now() - interval '150 days', now() - interval '150 days', 'Local', '', "
            "false, '' "
            "FROM generate_series(0, %s) s",
            [sessions],
        )
        cursor.execute("SELECT setval('charging_transaction_id_seq', %s)", [sessions + 1])
        # k: the frame's CALL number, p: its place in the session's cycle.
        cursor.execute(
            "INSERT INTO charging_message (id, charge_point_id, direction, message_type, "
            "unique_id, action, payload, raw, error_code, error_description, answer_to_id, "
            "frame_id, connection_id, note, received_at, created_at) "
            "SELECT i, 'OLD' || lpad(((k / %s) %% 100)::text, 4, '0'), "
            "CASE WHEN i %% 2 = 1 THEN 'in' ELSE 'out' END, 2 + (1 - i %% 2), k::text, "
            "(%s::text[])[p + 1], "
            "CASE WHEN i %% 2 = 0 THEN '{}'::jsonb "
            "WHEN (%s::text[])[p + 1] = 'MeterValues' THEN %s::jsonb "
            'ELSE \'{"idTag": "TAG", "connectorId": 1}\'::jsonb END, '
            "CASE WHEN i %% 2 = 0 THEN '[3, \"' || k || '\", {}]' ELSE '' END, '', '', "
            "CASE WHEN i %% 2 = 0 THEN i - 1 END, "
            "CASE WHEN i %% 2 = 1 THEN 'old-' || i END, 'conn', '', at, at "
            "FROM (SELECT i, (i - 1) / 2 AS k, ((i - 1) / 2) %% %s AS p, "
            "now() - interval '200 days' + i * (interval '100 days' / %s) AS at "
            "FROM generate_series(1, %s) i) frames",
            [len(cycle), cycle, cycle, payload, len(cycle), messages, messages],
        )
        cursor.execute("SELECT setval('charging_message_id_seq', %s)", [messages])
        cursor.execute(
            "INSERT INTO charging_metervalue (charge_point_id, transaction_id, connector_id, "
            "received_at, value, context, format, measurand, phase, location, unit, "
            "source_message_id, energy_jump) "
            "SELECT m.charge_point_id, (m.id - 1) / %s + 1, 1, m.created_at, s.value, "
            "'Sample.Periodic', 'Raw', s.measurand, '', 'Outlet', s.unit, m.id, false "
            "FROM charging_message m CROSS JOIN (VALUES "
            "('1000', 'Energy.Active.Import.Register', 'Wh'), "
            "('7400', 'Power.Active.Import', 'W')) AS s(value, measurand, unit) "
            "WHERE m.action = 'MeterValues' AND m.direction = 'in'",
            [2 * len(cycle)],
        )
        # A command per session (its CALL and the frame that asked for it), as auto remote start.
        cursor.execute(
            "INSERT INTO charging_outboundcall (charge_point_id, unique_id, action, payload, "
            "status, response, error_code, error_description, flow, requested_by, "
            "connection_id, delay, timeout, source_message_id, message_id, task_id, created_at, "
            "sent_at, answered_at) "
            "SELECT m.charge_point_id, 'old-' || m.id, 'RemoteStartTransaction', "
            "'{\"idTag\": \"TAG\"}', 'answered', '{\"status\": \"Accepted\"}', '', '', '', "
            "'', 'conn', 0, 30, m.id, m.id + 1, '', m.created_at, m.created_at, m.created_at "
            "FROM charging_message m WHERE m.action = 'Authorize' AND m.direction = 'in'"
        )
        cursor.execute(
            "SELECT (SELECT count(*) FROM charging_metervalue), "
            "(SELECT count(*) FROM charging_outboundcall)"
        )
        samples, calls = cursor.fetchone()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # old rows: all-visible, as they would be in production
    print(
        f"filled: {messages:,} old messages, {samples:,} meter values, {calls:,} calls, "
        f"{sessions:,} transactions"
    )


def _explain(cursor: Any, sql: str, params: Any) -> None:
    cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
    print(f"-- {re.sub(r'%s(, %s)+', '…', sql)[:160]}")
    for (line,) in cursor.fetchall():
        if "Buffers" not in line:
            print(f"   {re.sub(r'{[0-9,]+}', '{…}', line)}")


def _explain_one_batch(batch: int) -> None:
    """EXPLAIN ANALYZE of every statement of one prune batch, and of the alternative that skips
    the messages meter values or calls point at; both rolled back."""
    from django.db import connection, transaction

    from charging import services

    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with transaction.atomic():
        with connection.execute_wrapper(capture):
            services.message_prune(days=DAYS, batch=batch, budget=0)
        transaction.set_rollback(True)
    statements = [(sql, params) for sql, params in captured if not sql.startswith("SAVEPOINT")]
    statements = [(sql, params) for sql, params in statements if not sql.startswith("RELEASE")]
    print("\n== one prune batch: clear the pointers, then delete")
    with transaction.atomic(), connection.cursor() as cursor:
        # Immediate: the foreign keys' checks (deferred to the commit otherwise) show in the plans.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for sql, params in statements:
            _explain(cursor, sql, params)
        transaction.set_rollback(True)
    print("\n== the alternative: answers cleared as above, referenced messages skipped")
    window, answers = statements[0], statements[-2]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(*window)
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(*answers)
        _explain(
            cursor,
            "DELETE FROM charging_message m WHERE m.id = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM charging_metervalue v WHERE v.source_message_id = m.id) AND NOT "
            "EXISTS (SELECT 1 FROM charging_outboundcall c WHERE c.source_message_id = m.id) "
            "AND NOT EXISTS (SELECT 1 FROM charging_outboundcall c WHERE c.message_id = m.id)",
            [ids],
        )
        transaction.set_rollback(True)


def prune_worker(batch: int, every: float) -> None:
    """Run in the child process. `every` 0: prune everything, one batch per call, back to back;
    else a time-boxed run (as beat's task) every `every` seconds until killed. A JSON line of
    (messages, seconds) per call."""
    import django

    django.setup()
    from charging import services

    while True:
        started = time.perf_counter()
        if every:
            pruned = services.message_prune(days=DAYS, batch=batch)
        else:
            pruned = services.message_prune(days=DAYS, batch=batch, budget=0)
        print(json.dumps([pruned.messages, time.perf_counter() - started]), flush=True)
        if pruned.done and not every:
            return
        if every:
            time.sleep(max(0.0, every - (time.perf_counter() - started)))


def _play(chargers: list[Charger], *, cycles: int = 0, until: Any = None) -> list[float]:
    """Play sessions: `cycles` of them, or until the process `until` exits; each event's seconds."""
    from charging.dispatch import handle_event

    cycle = list(mix.Mix().cycle())
    seconds: list[float] = []
    played = 0
    while played < cycles or (until is not None and until.poll() is None):
        for step in cycle:
            for charger in chargers:
                _action, envelope = charger.frame(step)
                started = time.perf_counter()
                handled = handle_event(envelope)
                seconds.append(time.perf_counter() - started)
                charger.take_answer(step, dict(handled.reply))
        played += 1
    return seconds


def _pruner(batch: int, every: float) -> tuple[subprocess.Popen, IO[str]]:
    """The prune process, and the file its lines go to: a pipe nobody reads while the sessions
    play fills up (64 KiB, some 2,000 batches) and stops the prune."""
    command = [sys.executable, "-m", "benchmarks.prune", "--prune-worker"]
    command += ["--batch", str(batch), "--every", str(every)]
    log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed by _runs
    return subprocess.Popen(command, env=os.environ.copy(), stdout=log, text=True), log


def _runs(pruner: subprocess.Popen, log: IO[str]) -> list[tuple[int, float]]:
    pruner.wait()
    with log:
        log.seek(0)
        lines = log.read().splitlines()
    return [tuple(json.loads(line)) for line in lines if line.startswith("[")]


def _summary(name: str, seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return (
        f"{name:<34} {len(ms):>7} {percentile(ms, 0.5):>7.2f} {percentile(ms, 0.99):>7.2f} "
        f"{max(ms):>8.2f}"
    )


def _prune_line(name: str, runs: list[tuple[int, float]]) -> str:
    deleted = sum(n for n, _ in runs)
    ms = [s * 1000 for _, s in runs]
    busy = sum(ms) / 1000
    if not runs or busy == 0:
        return f"{name:<34} {len(runs):>5} runs, {deleted:>9,} deleted"
    return (
        f"{name:<34} {len(runs):>5} runs, {deleted:>9,} deleted, {deleted / busy:>7,.0f}/s while "
        f"running; run p50 {percentile(ms, 0.5):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, "
        f"max {max(ms):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_500_000)
    parser.add_argument("--chargers", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=5, help="sessions per charger per phase")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--every", type=float, default=10.0, help="seconds between beat's runs")
    parser.add_argument("--prune-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", default=DB, help="created and dropped (default %(default)s)")
    args = parser.parse_args()
    if args.prune_worker:
        prune_worker(args.batch, args.every)
        return

    os.environ["DATABASE_URL"] = recreate_database(args.database)
    production_settings()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from charging.dispatch import handle_event

    try:
        call_command("migrate", verbosity=0)
        began = time.perf_counter()
        _fill(args.messages)
        print(f"fill took {time.perf_counter() - began:.0f} s")
        _explain_one_batch(args.batch)

        chargers = [Charger(f"BENCH{n:04d}") for n in range(args.chargers)]
        for charger in chargers:
            for _step, envelope in charger.boot():
                handle_event(envelope)
        quiet = _play(chargers, cycles=args.cycles)
        pruner, log = _pruner(args.batch, args.every)
        paced = _play(chargers, cycles=args.cycles)
        pruner.terminate()
        paced_runs = _runs(pruner, log)
        pruner, log = _pruner(args.batch, 0)
        flat_out = _play(chargers, until=pruner)
        flat_out_runs = _runs(pruner, log)
        assert pruner.returncode == 0, "the prune process failed"
        after = _play(chargers, cycles=args.cycles)
    finally:
        connection.close()
        drop_database(args.database)

    print(f"\nhandle_event, default mix, {args.chargers} chargers (ms)")
    print(f"{'':<34} {'events':>7} {'p50':>7} {'p99':>7} {'max':>8}")
    print(_summary("before (no prune)", quiet))
    print(_summary(f"prune 1 s every {args.every:g} s (beat)", paced))
    print(_summary("prune batches back to back", flat_out))
    print(_summary("after (table pruned)", after))
    print(f"\nprune, batches of {args.batch}")
    print(_prune_line(f"1 s every {args.every:g} s (beat)", paced_runs))
    print(_prune_line("one batch a run, back to back", flat_out_runs))


if __name__ == "__main__":
    main()
