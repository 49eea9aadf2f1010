"""charging.conf: the one default table, the README's table of it, and what settings pass through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from charging import conf

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_defaults() -> dict[str, str]:
    """Each variable of README "Configuration" → its default cell (a row may name several)."""
    section = README.read_text().split("## Configuration\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not cells[0].startswith("`"):
            continue
        names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
        values = [value.strip() for value in cells[1].split(", ")]
        for i, name in enumerate(names):
            found[name] = values[i] if len(values) == len(names) else cells[1]
    return found


def written(value: object) -> str:
    """A default as README writes it."""
    if isinstance(value, conf.ByMode):
        return f"{written(value.development)}; {written(value.production)} when `DEBUG=false`"
    if value is None:
        return "the table below"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def test_readme_documents_every_default_of_the_table_as_it_is():
    documented = readme_defaults()
    for name, value in conf.DEFAULTS.items():
        assert name in documented, f"{name} is missing from README's Configuration table"
        assert documented[name].startswith(written(value)), (name, documented[name])


def test_every_ocpp_setting_in_the_readme_is_in_the_table():
    extra = {name for name in readme_defaults() if name.startswith("OCPP_")} - set(conf.DEFAULTS)
    assert not extra


def test_settings_pass_through_only_what_the_environment_sets():
    found = conf.from_environ(
        {
            "OCPP_CALL_TIMEOUT": "12.5",
            "OCPP_HEARTBEAT_INTERVAL": "300",
            "OCPP_AUTO_REMOTE_START": "off",
            "OCPP_GATEWAY_URL": " ws://cs.example/ocpp/ ",
            "OCPP_CA_KEY": "",  # an empty string is a value
            "OCPP_PENDING_INTERVAL": "",  # an empty number is unset
            "UNRELATED": "1",
        },
        debug=True,
    )
    by_mode = {name for name, value in conf.DEFAULTS.items() if isinstance(value, conf.ByMode)}
    assert set(found) - by_mode == {
        "OCPP_CALL_TIMEOUT",
        "OCPP_HEARTBEAT_INTERVAL",
        "OCPP_AUTO_REMOTE_START",
        "OCPP_GATEWAY_URL",
        "OCPP_CA_KEY",
    }
    assert found["OCPP_CALL_TIMEOUT"] == 12.5 and found["OCPP_HEARTBEAT_INTERVAL"] == 300
    assert found["OCPP_AUTO_REMOTE_START"] is False
    assert found["OCPP_GATEWAY_URL"] == "ws://cs.example/ocpp/" and found["OCPP_CA_KEY"] == ""


def test_defaults_that_follow_debug_are_fixed_for_the_process_mode():
    development = conf.from_environ({}, debug=True)
    production = conf.from_environ({"METRICS_OPEN": "true"}, debug=False)
    assert development["OCPP_UNKNOWN_CHARGE_POINTS"] == "accept"
    assert production["OCPP_UNKNOWN_CHARGE_POINTS"] == "pending"
    assert development["OCPP_SIMULATOR_ENABLED"] and not production["OCPP_SIMULATOR_ENABLED"]
    assert production["METRICS_OPEN"] is True  # the environment wins


def test_a_bad_number_names_the_variable():
    with pytest.raises(ImproperlyConfigured, match="OCPP_CALL_TIMEOUT='soon'"):
        conf.from_environ({"OCPP_CALL_TIMEOUT": "soon"}, debug=True)


def test_overridden_settings_win_and_unset_ones_fall_back_to_the_default(settings):
    settings.OCPP_CALL_TIMEOUT = 7.0
    assert conf.get("OCPP_CALL_TIMEOUT") == 7.0
    del settings.OCPP_CALL_TIMEOUT
    assert conf.get("OCPP_CALL_TIMEOUT") == conf.DEFAULTS["OCPP_CALL_TIMEOUT"]
    settings.DEBUG = False
    del settings.OCPP_SIMULATOR_ENABLED  # a project that does not fix it: DEBUG decides
    assert conf.get("OCPP_SIMULATOR_ENABLED") is False
