"""charging.middleware.pipeline: chains built once from OCPP_MIDDLEWARE, validated at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from ocpp.v16.enums import Action as OcppAction

from charging import Action, MessageType
from charging.middleware import (
    DEFAULT_MIDDLEWARE,
    AuthorizeMiddleware,
    AutoRemoteStartMiddleware,
    BootNotificationMiddleware,
    DataTransferMiddleware,
    DiagnosticsStatusNotificationMiddleware,
    FirmwareStatusNotificationMiddleware,
    HeartbeatMiddleware,
    LogStatusNotificationMiddleware,
    MeterValuesMiddleware,
    Middleware,
    OrphanedTransactionMiddleware,
    SecurityEventNotificationMiddleware,
    SignCertificateMiddleware,
    SignedFirmwareStatusNotificationMiddleware,
    StartTransactionMiddleware,
    StatusNotificationMiddleware,
    StopTransactionMiddleware,
    build_pipelines,
    get_pipeline,
)
from charging.protocol.errors import NotSupported

ROOT = Path(__file__).resolve().parents[2]


class Tag(Middleware):
    """Appends its name to the answer, to show the order of a chain."""

    name = "tag"

    def __call__(self, context):
        response = self.get_response(context)
        return {**response, "order": [self.name, *response.get("order", [])]}


class First(Tag):
    name = "first"


class Second(Tag):
    name = "second"


class Answer(Middleware):
    def __call__(self, context):
        return {"order": []}


class Broken(Middleware):
    def __init__(self, get_response):
        raise RuntimeError("cannot build")


def test_default_table_is_the_seed_apps_and_the_security_extension():
    assert {
        (Action.Authorize, MessageType.call): [AuthorizeMiddleware],
        (Action.BootNotification, MessageType.call): [BootNotificationMiddleware],
        (Action.DataTransfer, MessageType.call): [DataTransferMiddleware],
        (Action.DiagnosticsStatusNotification, MessageType.call): [
            DiagnosticsStatusNotificationMiddleware
        ],
        (Action.FirmwareStatusNotification, MessageType.call): [
            FirmwareStatusNotificationMiddleware
        ],
        (Action.Heartbeat, MessageType.call): [HeartbeatMiddleware],
        (Action.MeterValues, MessageType.call): [MeterValuesMiddleware],
        (Action.StartTransaction, MessageType.call): [
            OrphanedTransactionMiddleware,
            StartTransactionMiddleware,
        ],
        (Action.StatusNotification, MessageType.call): [
            AutoRemoteStartMiddleware,
            StatusNotificationMiddleware,
        ],
        (Action.StopTransaction, MessageType.call): [StopTransactionMiddleware],
        (Action.SecurityEventNotification, MessageType.call): [SecurityEventNotificationMiddleware],
        (Action.SignCertificate, MessageType.call): [SignCertificateMiddleware],
        (Action.SignedFirmwareStatusNotification, MessageType.call): [
            SignedFirmwareStatusNotificationMiddleware
        ],
        (Action.LogStatusNotification, MessageType.call): [LogStatusNotificationMiddleware],
    } == DEFAULT_MIDDLEWARE


def test_default_pipelines_cover_every_core_call():
    pipelines = build_pipelines()
    assert set(pipelines) == {(str(action), MessageType.call) for action, _ in DEFAULT_MIDDLEWARE}
    assert isinstance(
        pipelines[("StartTransaction", MessageType.call)], OrphanedTransactionMiddleware
    )


def test_chain_runs_outermost_first():
    pipelines = build_pipelines({("Heartbeat", MessageType.call): [First, Second, Answer]})
    assert pipelines[("Heartbeat", MessageType.call)](None) == {"order": ["first", "second"]}


def test_a_chain_that_never_answers_ends_in_not_supported():
    class Context:
        class call:  # noqa: N801 - stands in for a Call
            action = "Heartbeat"

    pipelines = build_pipelines({("Heartbeat", MessageType.call): [First]})
    with pytest.raises(NotSupported):
        pipelines[("Heartbeat", MessageType.call)](Context())


@pytest.mark.parametrize("action", [Action.Heartbeat, OcppAction.heartbeat, "Heartbeat"])
@pytest.mark.parametrize("message_type", [MessageType.call, 2])
def test_keys_accept_our_enum_the_ocpp_enum_strings_and_ints(action, message_type):
    pipelines = build_pipelines({(action, message_type): [Answer]})
    assert list(pipelines) == [("Heartbeat", MessageType.call)]


def test_entries_accept_dotted_strings():
    pipelines = build_pipelines(
        {("Heartbeat", MessageType.call): [f"{__name__}.First", f"{__name__}.Answer"]}
    )
    assert pipelines[("Heartbeat", MessageType.call)](None) == {"order": ["first"]}


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({("Heartbeat", 2): ["charging.middleware.NoSuchMiddleware"]}, "NoSuchMiddleware"),
        ({("Heartbeat", 2): ["no_such_package.Thing"]}, "no_such_package.Thing"),
        ({("Heartbeat", 2): [42]}, "42"),
        ({("Heartbeat", 2): [Broken]}, "Broken"),
        ({("MakeCoffee", 2): [Answer]}, "MakeCoffee"),
        ({("Heartbeat", 7): [Answer]}, "7"),
        ({("Heartbeat", True): [Answer]}, "True"),
        ({"Heartbeat": [Answer]}, "Heartbeat"),
        ({("Heartbeat", 2): "charging.middleware.HeartbeatMiddleware"}, "HeartbeatMiddleware"),
        ([("Heartbeat", 2)], "OCPP_MIDDLEWARE"),
    ],
)
def test_bad_entries_are_improperly_configured_naming_them(table, named):
    with pytest.raises(ImproperlyConfigured) as raised:
        build_pipelines(table)
    assert named in str(raised.value)


def test_bad_setting_fails_build_and_get(settings):
    settings.OCPP_MIDDLEWARE = {("Heartbeat", MessageType.call): ["charging.nope.Missing"]}
    with pytest.raises(ImproperlyConfigured, match="charging.nope.Missing"):
        build_pipelines()
    with pytest.raises(ImproperlyConfigured, match="charging.nope.Missing"):
        get_pipeline("Heartbeat", MessageType.call)
    with pytest.raises(ImproperlyConfigured, match="charging.nope.Missing"):
        apps.get_app_config("charging").ready()  # what start-up runs


def test_get_pipeline_follows_setting_changes(settings):
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), HeartbeatMiddleware)
    settings.OCPP_MIDDLEWARE = {(OcppAction.heartbeat, MessageType.call): [First, Answer]}
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), First)
    assert get_pipeline("Authorize", MessageType.call) is None
    settings.OCPP_MIDDLEWARE = None  # None: the default table
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), HeartbeatMiddleware)


def test_middleware_classes_import_before_django_is_set_up():
    # A settings module may list the classes themselves, as the seed app's README does.
    code = "import charging.middleware as m; print(m.AuthorizeMiddleware.__name__)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, env={}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AuthorizeMiddleware"
