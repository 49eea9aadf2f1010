"""A person drives the charge point simulator in headless Chromium against the real gateway and
worker: connect, boot, plug in a car (the server remote-starts it), meter values, commands from
the server (configuration, trigger, an unsupported one, remote stop, reset), a manual session."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from charging import commands
from charging.models import ChargePoint, Connector, MeterValue, Transaction
from tests.e2e.harness import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CP = "BROWSER-1"
WAIT = 20  # seconds, for every wait on the page or the database
REGISTER = "Energy.Active.Import.Register"


class SimulatorPage:
    """The simulator page in a browser, with bounded waits; screenshots go to `artifacts`."""

    def __init__(self, driver: WebDriver, url: str, artifacts: Path) -> None:
        self.driver = driver
        self.url = url
        self.artifacts = artifacts

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait(lambda: self.find_all("#connectors .connector"), "the connector cards")

    def find(self, css: str) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        return self.find(css).text

    def type(self, css: str, value: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(value)

    def set(self, css: str, value: str) -> None:
        """Set a field's value and fire its change event, as a person finishing an edit does."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));",
            self.find(css),
            value,
        )

    def click(self, css: str) -> None:
        self.wait(lambda: self.find(css).is_enabled(), f"{css} to be enabled")
        self.find(css).click()

    def connector(self, number: int, css: str = "") -> str:
        return f'#connectors .connector[data-connector="{number}"] {css}'.strip()

    def wait(self, predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(
                lambda _driver: predicate()
            )
        except TimeoutException:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; frame log, newest first:\n"
                + self.text("#log")[:6000]
            ) from None

    def wait_state(self, state: str) -> str:
        self.wait(lambda: self.find("#state").get_attribute("data-state") == state, state)
        return self.text("#state")

    def wait_frame(self, direction: str, kind: str, action: str, contains: str = "") -> str:
        """The text of the newest logged frame that matches, once there is one."""
        css = f'#log li[data-direction="{direction}"][data-type="{kind}"][data-action="{action}"]'

        def match() -> str | None:
            texts = [item.text for item in self.find_all(css)]
            return next((text for text in texts if contains in text), None)

        return self.wait(match, f"{direction} {kind} {action} {contains}".strip())

    def wait_note(self, contains: str) -> str:
        def match() -> str | None:
            texts = [item.text for item in self.find_all('#log li[data-direction="sys"]')]
            return next((text for text in texts if contains in text), None)

        return self.wait(match, f"log note {contains!r}")

    def screenshot(self, name: str) -> Path:
        """The whole page (the window grows to the page's height) as <artifacts>/<name>.png."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1400, min(max(int(height), 1000), 5000))
        path = self.artifacts / f"{name}.png"
        assert self.driver.save_screenshot(str(path)), path
        return path


def energy_registers(transaction: Transaction) -> list[float]:
    rows = MeterValue.objects.filter(transaction=transaction, measurand=REGISTER).order_by("id")
    return [float(value) for value in rows.values_list("numeric_value", flat=True)]


def test_a_person_drives_the_simulator_against_the_gateway(e2e_db, web, browser, artifacts):
    page = SimulatorPage(browser, f"{web.url}/demo/ocpp/", artifacts)
    try:
        _scenario(page, gateway_port=e2e_db.port)
    except BaseException:
        page.screenshot("simulator-failure")
        (artifacts / "simulator-failure-log.txt").write_text(page.text("#log"))
        raise


def _scenario(page: SimulatorPage, *, gateway_port: int) -> None:
    page.open()
    # Prefilled from OCPP_GATEWAY_URL, which the web fixture sets as `levity up` does.
    assert page.find("#gateway-url").get_attribute("value") == (
        f"ws://127.0.0.1:{gateway_port}/ocpp/"
    )
    page.type("#cp-id", CP)
    page.type("#connector-count", "2")
    assert page.text("#endpoint") == f"ws://127.0.0.1:{gateway_port}/ocpp/{CP}"
    page.click("#connect")
    assert page.wait_state("connected") == "connected · ocpp1.6"

    # BootNotification, accepted: in the log and on the page.
    page.click('[data-action="boot"]')
    page.wait_frame("in", "CALLRESULT", "BootNotification", '"status": "Accepted"')
    page.wait(lambda: page.text("#registration") == "Accepted", "registration Accepted")
    assert page.text("#heartbeat-interval") == "3600 s"  # the server's interval
    booted = ChargePoint.objects.get(pk=CP)
    assert (booted.vendor, booted.model, booted.connected) == ("Levity", "Browser simulator", True)
    page.screenshot("simulator-1-booted")

    # Plug in a car: Preparing → the server's RemoteStartTransaction → Accepted → charging.
    page.set(page.connector(1, ".meter-interval"), "1")
    page.click(page.connector(1, ".plug"))
    page.wait_frame("out", "CALL", "StatusNotification", '"Preparing"')
    page.wait_frame("in", "CALL", "RemoteStartTransaction", '"idTag": "anonymous"')
    page.wait_frame("out", "CALLRESULT", "RemoteStartTransaction", '"status": "Accepted"')
    page.wait_frame("in", "CALLRESULT", "StartTransaction", '"transactionId"')
    tx_id = int(
        page.wait(lambda: re.fullmatch(r"\d+", page.text(page.connector(1, ".tx-id"))), "tx id")[0]
    )
    assert page.text(page.connector(1, ".connector-status")) == "Charging"
    page.wait(lambda: int(page.text(page.connector(1, ".meter-count"))) >= 3, "3 MeterValues")
    page.screenshot("simulator-2-charging")

    transaction = Transaction.objects.get(charge_point_id=CP)
    assert (transaction.id, transaction.connector_id, transaction.id_tag) == (tx_id, 1, "anonymous")
    assert transaction.is_open
    registers = energy_registers(transaction)
    assert len(registers) >= 3 and registers == sorted(registers) and registers[-1] > registers[0]
    assert Connector.objects.get(charge_point_id=CP, connector_id=1).remote_start_status == (
        "Accepted"
    )

    # The page answers the server's commands.
    configuration = commands.get_configuration(CP, wait=WAIT)
    assert {"key": "NumberOfConnectors", "readonly": True, "value": "2"} in configuration[
        "configurationKey"
    ]
    assert commands.get_configuration(CP, key=["Nope"], wait=WAIT) == {
        "configurationKey": [],
        "unknownKey": ["Nope"],
    }
    assert commands.change_configuration(
        CP, key="MeterValueSampleInterval", value="2", wait=WAIT
    ) == {"status": "Accepted"}
    assert commands.change_configuration(CP, key="NumberOfConnectors", value="9", wait=WAIT) == {
        "status": "Rejected"
    }
    assert commands.trigger_message(CP, requested_message="Heartbeat", wait=WAIT) == {
        "status": "Accepted"
    }
    page.wait(lambda: page.text("#last-heartbeat") != "—", "the triggered Heartbeat")
    assert commands.clear_cache(CP, wait=WAIT) == {"status": "Accepted"}
    with pytest.raises(commands.CallError) as unsupported:
        commands.get_diagnostics(CP, location="ftp://example.com/", wait=WAIT)
    assert unsupported.value.code == "NotSupported"
    page.wait_frame("out", "CALLERROR", "GetDiagnostics", "NotSupported")

    # RemoteStopTransaction stops the simulated transaction with reason Remote.
    assert commands.remote_stop(CP, transaction_id=tx_id, wait=WAIT) == {"status": "Accepted"}
    page.wait_frame("in", "CALLRESULT", "StopTransaction")
    page.wait(lambda: page.text(page.connector(1, ".connector-status")) == "Finishing", "Finishing")
    assert page.text(page.connector(1, ".tx-id")) == "—"
    wait_until(
        lambda: Transaction.objects.get(pk=tx_id).stop_received_at,
        timeout=WAIT,
        what="the stop in the database",
    )
    transaction.refresh_from_db()
    assert transaction.stop_reason == "Remote" and transaction.meter_stop >= registers[-1]
    page.screenshot("simulator-3-stopped")

    # Reset: the simulated charger closes, reconnects and boots again.
    first_boot = ChargePoint.objects.get(pk=CP).last_boot_at
    assert commands.reset(CP, type="Soft", wait=WAIT) == {"status": "Accepted"}
    page.wait_note("Soft reset: rebooting")
    wait_until(
        lambda: ChargePoint.objects.get(pk=CP).last_boot_at != first_boot,
        timeout=WAIT,
        what="a second BootNotification",
    )
    assert page.wait_state("connected") == "connected · ocpp1.6"

    # Heartbeats come on their own at the interval the server sets.
    assert commands.change_configuration(CP, key="HeartbeatInterval", value="1", wait=WAIT) == {
        "status": "Accepted"
    }
    page.wait(lambda: page.text("#heartbeat-interval") == "1 s", "the new heartbeat interval")
    heartbeats = '#log li[data-direction="out"][data-type="CALL"][data-action="Heartbeat"]'
    seen = len(page.find_all(heartbeats))
    page.wait(lambda: len(page.find_all(heartbeats)) >= seen + 2, "two automatic Heartbeats")
    commands.change_configuration(CP, key="HeartbeatInterval", value="3600", wait=WAIT)

    # Availability, unlocking, DataTransfer.
    assert commands.change_availability(CP, connector_id=2, type="Inoperative", wait=WAIT) == {
        "status": "Accepted"
    }
    page.wait(lambda: page.text(page.connector(2, ".connector-status")) == "Unavailable", "2 off")
    assert commands.change_availability(CP, connector_id=2, type="Operative", wait=WAIT) == {
        "status": "Accepted"
    }
    page.wait(lambda: page.text(page.connector(2, ".connector-status")) == "Available", "2 on")
    assert commands.unlock_connector(CP, connector_id=1, wait=WAIT) == {"status": "Unlocked"}
    page.wait(lambda: page.text(page.connector(1, ".plug")) == "Plug in car", "1 unplugged")
    assert commands.unlock_connector(CP, connector_id=7, wait=WAIT) == {"status": "UnlockFailed"}
    assert commands.data_transfer(CP, vendor_id="com.example", wait=WAIT) == {
        "status": "UnknownVendorId"
    }
    wait_until(
        lambda: Connector.objects.get(charge_point_id=CP, connector_id=1).status == "Available",
        timeout=WAIT,
        what="connector 1 Available in the database",
    )

    # A session by hand on connector 2: StartTransaction, MeterValues, StopTransaction (reason).
    page.click(page.connector(2, '[data-action="start"]'))
    page.wait(lambda: page.text(page.connector(2, ".tx-id")) != "—", "the manual transaction")
    page.click(page.connector(2, '[data-action="meter"]'))
    page.wait(lambda: page.text(page.connector(2, ".meter-count")) == "1", "a manual MeterValues")
    Select(page.find(page.connector(2, ".stop-reason"))).select_by_value("EmergencyStop")
    page.click(page.connector(2, '[data-action="stop"]'))
    manual = wait_until(
        lambda: Transaction.objects.filter(
            charge_point_id=CP, connector_id=2, stop_received_at__isnull=False
        ).first(),
        timeout=WAIT,
        what="the manual transaction stopped in the database",
    )
    assert (manual.id_tag, manual.stop_reason) == ("SIM-TAG", "EmergencyStop")
    assert energy_registers(manual)  # the manual sample and the Transaction.End one
    page.screenshot("simulator-4-final")

    page.click("#disconnect")
    page.wait_state("closed")
    errors = [entry for entry in page.driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors  # no script error, no failed request in the page's console
