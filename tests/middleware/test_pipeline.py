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
    ApprovalGateMiddleware,
    AuthorizeHandler,
    AuthorizeMiddleware,
    AutoRemoteStartMiddleware,
    BootNotificationHandler,
    BootNotificationMiddleware,
    DataTransferHandler,
    DataTransferMiddleware,
    DiagnosticsStatusNotificationHandler,
    DiagnosticsStatusNotificationMiddleware,
    FirmwareStatusNotificationHandler,
    FirmwareStatusNotificationMiddleware,
    Handler,
    HeartbeatHandler,
    HeartbeatMiddleware,
    LogStatusNotificationHandler,
    LogStatusNotificationMiddleware,
    MeterValuesHandler,
    MeterValuesMiddleware,
    Middleware,
    OrphanedTransactionMiddleware,
    SecurityEventNotificationHandler,
    SecurityEventNotificationMiddleware,
    SignCertificateHandler,
    SignCertificateMiddleware,
    SignedFirmwareStatusNotificationHandler,
    SignedFirmwareStatusNotificationMiddleware,
    StartTransactionHandler,
    StartTransactionMiddleware,
    StatusNotificationHandler,
    StatusNotificationMiddleware,
    StopTransactionHandler,
    StopTransactionMiddleware,
    build_pipelines,
    get_pipeline,
    pipeline,
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
        (Action.Authorize, MessageType.call): [AuthorizeHandler],
        (Action.BootNotification, MessageType.call): [BootNotificationHandler],
        (Action.DataTransfer, MessageType.call): [DataTransferHandler],
        (Action.DiagnosticsStatusNotification, MessageType.call): [
            DiagnosticsStatusNotificationHandler
        ],
        (Action.FirmwareStatusNotification, MessageType.call): [FirmwareStatusNotificationHandler],
        (Action.Heartbeat, MessageType.call): [HeartbeatHandler],
        (Action.MeterValues, MessageType.call): [MeterValuesHandler],
        (Action.StartTransaction, MessageType.call): [
            OrphanedTransactionMiddleware,
            StartTransactionHandler,
        ],
        (Action.StatusNotification, MessageType.call): [
            AutoRemoteStartMiddleware,
            StatusNotificationHandler,
        ],
        (Action.StopTransaction, MessageType.call): [StopTransactionHandler],
        (Action.SecurityEventNotification, MessageType.call): [SecurityEventNotificationHandler],
        (Action.SignCertificate, MessageType.call): [SignCertificateHandler],
        (Action.SignedFirmwareStatusNotification, MessageType.call): [
            SignedFirmwareStatusNotificationHandler
        ],
        (Action.LogStatusNotification, MessageType.call): [LogStatusNotificationHandler],
    } == DEFAULT_MIDDLEWARE


def test_default_pipelines_cover_every_core_call():
    pipelines = build_pipelines()
    assert set(pipelines) == {(str(action), MessageType.call) for action, _ in DEFAULT_MIDDLEWARE}
    # The approval gate leads the chains that grant energy (charging.middleware.admission).
    start = pipelines[("StartTransaction", MessageType.call)]
    assert isinstance(start, ApprovalGateMiddleware)
    assert isinstance(start.get_response, OrphanedTransactionMiddleware)
    assert isinstance(pipelines[("Authorize", MessageType.call)], ApprovalGateMiddleware)
    assert isinstance(pipelines[("Heartbeat", MessageType.call)], HeartbeatHandler)


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
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), HeartbeatHandler)
    settings.OCPP_MIDDLEWARE = {(OcppAction.heartbeat, MessageType.call): [First, Answer]}
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), First)
    assert get_pipeline("Authorize", MessageType.call) is None
    settings.OCPP_MIDDLEWARE = None  # None: the default table
    assert isinstance(get_pipeline("Heartbeat", MessageType.call), HeartbeatHandler)


def test_middleware_classes_import_before_django_is_set_up():
    # A settings module may list the classes themselves, as the seed app's README does.
    code = (
        "import charging.middleware as m; from charging.middleware.core import HeartbeatMiddleware;"
        "print(m.AuthorizeHandler.__name__, m.AuthorizeMiddleware.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, env={}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "AuthorizeHandler AuthorizeMiddleware"


# --- handlers end chains ----------------------------------------------------------------------


class Reply(Handler):
    def __call__(self, context):
        return {"order": ["reply"]}


@pytest.mark.parametrize(
    ("stack", "named"),
    [
        ([HeartbeatHandler, First], "First"),
        ([First, Reply, Second], "Second"),
        ([Reply, Reply], "Reply"),
        (["charging.middleware.HeartbeatHandler", f"{__name__}.First"], f"{__name__}.First"),
        # A handler under its former name is a handler all the same.
        (["charging.middleware.HeartbeatMiddleware", f"{__name__}.Second"], f"{__name__}.Second"),
    ],
)
def test_anything_after_a_handler_is_improperly_configured_naming_it(stack, named):
    with pytest.raises(ImproperlyConfigured, match="follows the handler") as raised:
        build_pipelines({("Heartbeat", MessageType.call): stack})
    assert named in str(raised.value) and "Heartbeat" in str(raised.value)


def test_a_bad_setting_with_something_after_a_handler_stops_start_up(settings):
    settings.OCPP_MIDDLEWARE = {("Heartbeat", 2): [HeartbeatHandler, First]}
    with pytest.raises(ImproperlyConfigured, match="First"):
        apps.get_app_config("charging").ready()


def test_a_handler_is_built_without_the_rest_of_the_chain_and_ends_it():
    pipelines = build_pipelines({("Heartbeat", MessageType.call): [First, Second, Reply]})
    chain = pipelines[("Heartbeat", MessageType.call)]
    assert chain(None) == {"order": ["first", "second", "reply"]}
    assert not hasattr(chain.get_response.get_response, "get_response")


# --- the approval gate ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["Authorize", "StartTransaction"])
def test_the_approval_gate_leads_the_chains_that_grant_energy_in_any_table(action):
    chain = build_pipelines({(action, MessageType.call): [First, Answer]})[
        (action, MessageType.call)
    ]
    assert isinstance(chain, ApprovalGateMiddleware)
    assert isinstance(chain.get_response, First)


def test_other_chains_have_no_approval_gate():
    chain = build_pipelines({("StatusNotification", MessageType.call): [First, Answer]})[
        ("StatusNotification", MessageType.call)
    ]
    assert isinstance(chain, First)


# --- the handlers' former names ---------------------------------------------------------------

FORMER_NAMES = [
    (AuthorizeMiddleware, AuthorizeHandler),
    (BootNotificationMiddleware, BootNotificationHandler),
    (DataTransferMiddleware, DataTransferHandler),
    (DiagnosticsStatusNotificationMiddleware, DiagnosticsStatusNotificationHandler),
    (FirmwareStatusNotificationMiddleware, FirmwareStatusNotificationHandler),
    (HeartbeatMiddleware, HeartbeatHandler),
    (LogStatusNotificationMiddleware, LogStatusNotificationHandler),
    (MeterValuesMiddleware, MeterValuesHandler),
    (SecurityEventNotificationMiddleware, SecurityEventNotificationHandler),
    (SignCertificateMiddleware, SignCertificateHandler),
    (SignedFirmwareStatusNotificationMiddleware, SignedFirmwareStatusNotificationHandler),
    (StartTransactionMiddleware, StartTransactionHandler),
    (StatusNotificationMiddleware, StatusNotificationHandler),
    (StopTransactionMiddleware, StopTransactionHandler),
]


@pytest.mark.parametrize(("former", "handler"), FORMER_NAMES)
def test_former_names_are_the_handlers_and_build_as_before(former, handler):
    assert issubclass(former, handler) and issubclass(former, Handler)
    assert isinstance(former(None), handler)  # built as a middleware was, with get_response


def test_a_former_name_warns_once_naming_the_handler_to_use(caplog, monkeypatch):
    monkeypatch.setattr(pipeline, "_warned", set())
    table = {
        ("Heartbeat", 2): ["charging.middleware.core.HeartbeatMiddleware"],
        ("DataTransfer", 2): [Tag, DataTransferMiddleware],
    }
    with pytest.warns(DeprecationWarning) as warned:
        pipelines = build_pipelines(table)
        build_pipelines(table)
    assert [str(w.message) for w in warned] == [
        "OCPP_MIDDLEWARE: HeartbeatMiddleware is a deprecated name of the handler "
        "charging.middleware.HeartbeatHandler; use that",
        "OCPP_MIDDLEWARE: DataTransferMiddleware is a deprecated name of the handler "
        "charging.middleware.DataTransferHandler; use that",
    ]
    assert [r.getMessage() for r in caplog.records] == [str(w.message) for w in warned]
    assert isinstance(pipelines[("Heartbeat", MessageType.call)], HeartbeatHandler)


def test_a_subclass_of_a_former_name_is_named_in_the_warning(monkeypatch):
    monkeypatch.setattr(pipeline, "_warned", set())

    class MyHeartbeat(HeartbeatMiddleware):
        pass

    with pytest.warns(DeprecationWarning, match=r"MyHeartbeat \(a HeartbeatMiddleware\)"):
        build_pipelines({("Heartbeat", 2): [MyHeartbeat]})


def test_new_names_do_not_warn(recwarn):
    build_pipelines(DEFAULT_MIDDLEWARE)
    assert not [w for w in recwarn if issubclass(w.category, DeprecationWarning)]
