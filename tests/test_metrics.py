"""The web app's /metrics: outcomes of charging.dispatch, database gauges, multiprocess mode, token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from charging import metrics
from charging.dispatch import handle_inbound
from tests.factories import call, event, frame, iso, start_payload

ROOT = Path(__file__).resolve().parents[1]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client, **headers: str) -> Samples:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def handled(samples: Samples, message_type: str, action: str, result: str) -> float:
    return value(
        samples,
        "levity_messages_handled_total",
        message_type=message_type,
        action=action,
        result=result,
    )


@pytest.mark.django_db
def test_outcomes_of_dispatched_events_and_database_gauges(client) -> None:
    before = scrape(client)
    assert value(before, "levity_charge_points_connected") == 0

    handle_inbound(event("connect", remote="127.0.0.1:1", subprotocol="ocpp1.6"))
    handle_inbound(
        call("b1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
    )
    handle_inbound(call("u1", "MadeUpAction", {}))
    handle_inbound(call("a1", "Authorize", {}))  # no idTag: refused by the schema
    handle_inbound(frame("not json"))
    # The auto remote start answers Preparing with a RemoteStartTransaction CALL of ours.
    status = {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}
    reply = handle_inbound(call("s1", "StatusNotification", status))
    [remote_start] = reply["calls"]
    handle_inbound(frame([3, remote_start["unique_id"], {"status": "Accepted"}]))
    started = handle_inbound(call("t1", "StartTransaction", start_payload()))
    transaction_id = json.loads(started["send"])[2]["transactionId"]

    during = scrape(client)
    assert value(during, "levity_charge_points_connected") == 1
    assert value(during, "levity_transactions_active") == 1
    assert value(during, "levity_messages_recent", direction="in", action="BootNotification") == 1
    assert value(during, "levity_messages_recent", direction="out", action="BootNotification") == 1

    stop = {"transactionId": transaction_id, "meterStop": 2000, "timestamp": iso(timezone.now())}
    handle_inbound(call("t2", "StopTransaction", stop))
    handle_inbound(event("disconnect", code=1000, reason=""))
    after = scrape(client)

    def delta(message_type: str, action: str, result: str) -> float:
        return handled(after, message_type, action, result) - handled(
            before, message_type, action, result
        )

    assert delta("connect", "", "ok") == 1
    assert delta("disconnect", "", "ok") == 1
    assert delta("CALL", "BootNotification", "ok") == 1
    assert delta("CALL", "unknown", "NotImplemented") == 1
    assert delta("CALL", "Authorize", "ok") == 0
    assert delta("invalid", "unknown", "FormationViolation") == 1
    assert delta("CALL", "StatusNotification", "ok") == 1
    assert delta("CALLRESULT", "RemoteStartTransaction", "ok") == 1
    assert delta("CALL", "StopTransaction", "ok") == 1
    for name in ("levity_transactions_started_total", "levity_transactions_stopped_total"):
        assert value(after, name) - value(before, name) == 1
    count = "levity_message_handling_seconds_count"
    assert (
        value(after, count, message_type="CALL", action="BootNotification")
        - value(before, count, message_type="CALL", action="BootNotification")
        == 1
    )
    assert value(after, "levity_charge_points_connected") == 0
    assert value(after, "levity_transactions_active") == 0
    # Without a multiprocess directory the process's own registry is served.
    assert any(name == "python_info" for name, _ in after)


@pytest.mark.django_db
def test_an_authorize_without_id_tag_counts_its_callerror_code(client) -> None:
    before = scrape(client)
    reply = handle_inbound(call("a1", "Authorize", {}))
    code = json.loads(reply["send"])[2]
    assert code in {
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
    }
    after = scrape(client)
    assert (
        handled(after, "CALL", "Authorize", code) - handled(before, "CALL", "Authorize", code) == 1
    )


@pytest.mark.django_db
def test_an_event_that_fails_counts_as_error_and_internal_error(client, monkeypatch) -> None:
    before = scrape(client)

    def broken(envelope, closes):
        raise RuntimeError("boom")

    monkeypatch.setattr("charging.dispatch._handle", broken)
    reply = handle_inbound(call("h1", "Heartbeat", {}))
    assert json.loads(reply["send"])[2] == "InternalError"
    handle_inbound(event("connect", remote="x", subprotocol=None))
    after = scrape(client)
    assert (
        handled(after, "CALL", "Heartbeat", "InternalError")
        - handled(before, "CALL", "Heartbeat", "InternalError")
        == 1
    )
    assert handled(after, "connect", "", "error") - handled(before, "connect", "", "error") == 1


def test_observe_never_raises(caplog) -> None:
    metrics.observe(("CALL", "Heartbeat"), seconds=0.1)  # type: ignore[arg-type]
    assert "recording metrics ('CALL', 'Heartbeat') failed" in caplog.text


def test_event_labels_need_no_database() -> None:
    # No database access allowed here: the dispatch labels what it handled; what it did not
    # (a redelivered answer of a charger) is counted without its action.
    answer = metrics.event_labels(frame('[3,"x",{}]'), {"send": None}, failed=False)
    assert answer == ("CALLRESULT", "unknown", "ok")
    call = metrics.event_labels(
        frame('[2,"x","Heartbeat",{}]'), {"send": '[4,"x","InternalError","",{}]'}, failed=True
    )
    assert call == ("CALL", "Heartbeat", "InternalError")
    assert metrics.event_labels(frame("[9]"), {}, failed=False) == (
        "invalid",
        "unknown",
        "FormationViolation",
    )


@pytest.mark.django_db
def test_token_protects_metrics_when_set(client, settings) -> None:
    settings.METRICS_TOKEN = "s3cret"
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Token s3cret").status_code == 401
    samples = scrape(client, HTTP_AUTHORIZATION="Bearer s3cret")
    assert ("levity_charge_points_connected", frozenset()) in samples
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


WORKER = """
import sys
import django
django.setup()
from charging.dispatch import handle_inbound
from tests.factories import call
for n in range(int(sys.argv[2])):
    handle_inbound(call(f"hb-{n}", "Heartbeat", {}, cp=sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_multiprocess_mode_sums_every_worker_process(client, settings, tmp_path) -> None:
    """Two worker processes write to one PROMETHEUS_MULTIPROC_DIR; /metrics adds them up."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, cp, str(n)], env=env, cwd=ROOT)
        for cp, n in (("MP-1", 2), ("MP-2", 3))
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    files = sorted(path.name for path in tmp_path.glob("*.db"))
    assert files and all("-" in name for name in files), files  # host-pid identifiers

    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    samples = scrape(client)
    assert handled(samples, "CALL", "Heartbeat", "ok") == 5
    count = "levity_message_handling_seconds_count"
    assert value(samples, count, message_type="CALL", action="Heartbeat") == 5
    # Only the directory's sums, not this (test) process's own counters.
    assert not any(name == "python_info" for name, _ in samples)
    assert value(samples, "levity_messages_recent", direction="in", action="Heartbeat") == 5
