"""A person drives the charge point simulator in headless Chromium against the real gateway and
worker: connect, boot, plug in a car (the server remote-starts it), meter values, commands from
the server (configuration, trigger, an unsupported one, remote stop, reset), a manual session;
meanwhile an operator, logged in to the admin in another tab, watches the session on the
dashboard and the transaction's chart."""

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
from charging.dashboard.views import POLL_SECONDS
from charging.models import ChargePoint, Connector, MeterValue, OutboundCall, Transaction
from levity.devstack import wait_until

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
            log = self.find_all("#log")  # absent on the admin's pages
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what}; "
                + (
                    f"frame log, newest first:\n{log[0].text[:6000]}"
                    if log
                    else f"the page ({self.driver.current_url}):\n{self.text('body')[:3000]}"
                )
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


class Operator:
    """A staff user in other tabs of the simulator's browser: the simulator's tab, and so its
    websocket, stays open while the operator looks at the admin and the dashboard."""

    USERNAME, PASSWORD = "operator", "browser-test-password"

    def __init__(self, page: SimulatorPage, web_url: str) -> None:
        self.page = page
        self.web_url = web_url
        self.simulator_tab = page.driver.current_window_handle
        self.dashboard_tab: str | None = None

    def log_in_and_open_dashboard(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import PBKDF2PasswordHasher

        # Hashed as the web server (the project's settings) checks it, not with the tests'
        # fast MD5 hasher, which it does not know.
        hasher = PBKDF2PasswordHasher()
        user = get_user_model().objects.create_superuser(self.USERNAME)
        user.password = hasher.encode(self.PASSWORD, hasher.salt())
        user.save(update_fields=["password"])
        driver = self.page.driver
        driver.switch_to.new_window("tab")
        self.dashboard_tab = driver.current_window_handle
        driver.get(f"{self.web_url}/admin/login/?next=/dashboard/")
        self.page.type("#id_username", self.USERNAME)
        self.page.type("#id_password", self.PASSWORD)
        self.page.click('#login-form [type="submit"]')
        self.page.wait(lambda: self.page.find_all("#levity-dashboard"), "the dashboard")

    def transaction_page(self, tx_id: int) -> None:
        """The transaction's admin page, in a tab of its own."""
        self.page.driver.switch_to.new_window("tab")
        self.page.driver.get(f"{self.web_url}/admin/charging/transaction/{tx_id}/change/")
        self.page.wait(lambda: self.page.find_all("svg.levity-chart"), "the transaction chart")

    def dashboard(self) -> None:
        """Back to the dashboard's tab, closing any other admin tab."""
        driver = self.page.driver
        for handle in driver.window_handles:
            if handle not in (self.simulator_tab, self.dashboard_tab):
                driver.switch_to.window(handle)
                driver.close()
        assert self.dashboard_tab is not None
        driver.switch_to.window(self.dashboard_tab)

    def field(self, name: str) -> str:
        return self.page.text(f'#levity-dashboard [data-field="{name}"]')

    def back_to_simulator(self) -> None:
        driver = self.page.driver
        for handle in driver.window_handles:
            if handle != self.simulator_tab:
                driver.switch_to.window(handle)
                driver.close()
        driver.switch_to.window(self.simulator_tab)
        self.dashboard_tab = None


def chart_points(page: SimulatorPage, series: str) -> list[tuple[float, float]]:
    points = page.find(f"svg.levity-chart polyline.series-{series}").get_attribute("points")
    pairs = [pair.split(",") for pair in (points or "").split()]
    return [(float(x), float(y)) for x, y in pairs]


def test_a_person_drives_the_simulator_against_the_gateway(e2e_db, web, browser, artifacts):
    page = SimulatorPage(browser, f"{web.url}/demo/ocpp/", artifacts)
    try:
        _scenario(page, gateway_port=e2e_db.port, web_url=web.url)
    except BaseException:
        page.screenshot("simulator-failure")
        log = page.find_all("#log")
        if log:
            (artifacts / "simulator-failure-log.txt").write_text(log[0].text)
        raise


def _scenario(page: SimulatorPage, *, gateway_port: int, web_url: str) -> None:
    # An operator logs in to the admin and opens the dashboard, in a tab of its own: no charger
    # yet. It is opened first, so that its poll comes soon after the session has begun.
    operator = Operator(page, web_url)
    operator.log_in_and_open_dashboard()
    assert [
        operator.field(name)
        for name in ("charge_points.online", "charge_points.total", "active_transactions.count")
    ] == ["0", "0", "0"]
    page.driver.switch_to.window(operator.simulator_tab)

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

    # The operator sees the session: its admin page charts the meter values received so far...
    received = len(energy_registers(transaction))
    operator.transaction_page(tx_id)
    energy_points = chart_points(page, "energy")
    power_points = chart_points(page, "power")  # the simulator sends Power.Active.Import
    # One point per reading, plus the start (meterStart, 0 kWh) the curve begins at.
    assert received <= len(energy_points) <= len(energy_registers(transaction)) + 1
    assert len(power_points) >= received
    ys = [y for _, y in energy_points]  # SVG y grows downwards: rising energy, falling y
    assert ys == sorted(ys, reverse=True) and ys[-1] < ys[0]
    assert page.text("#content h1") == "View transaction" and CP in page.text("#content")
    page.screenshot("admin-transaction")
    # ...and the dashboard, without a reload, shows the charger and the session by its poll.
    operator.dashboard()
    page.wait(
        lambda: operator.field("active_transactions.count") == "1",
        "the dashboard's poll to show the active transaction",
        timeout=POLL_SECONDS + 5,
    )
    assert page.text("#dash-active a") == str(tx_id)
    assert [operator.field(f"charge_points.{name}") for name in ("online", "total")] == ["1", "1"]
    assert "Charging: 1" in page.text("#dash-connectors")
    page.screenshot("dashboard")
    operator.back_to_simulator()

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
    # No script error, no failed request in the console of any tab (the simulator, the admin,
    # the dashboard's polling, the icon).
    errors = [entry for entry in page.driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


LOOP_CP = "BROWSER-LOOP"


def test_the_simulator_reports_statuses_at_boot_and_plays_the_remote_start_loop(
    e2e_db, web, browser, artifacts
):
    """Boot reports every connector; in loop mode the page accepts RemoteStart while charging
    and reports Preparing again, and the server's guard sends no second one (issue 13)."""
    page = SimulatorPage(browser, f"{web.url}/demo/ocpp/", artifacts)
    page.open()
    page.type("#cp-id", LOOP_CP)
    page.type("#connector-count", "2")
    page.find("#loop-mode").click()
    page.click("#connect")
    page.wait_state("connected")
    page.click('[data-action="boot"]')
    for connector_id in (0, 1, 2):
        page.wait_frame("out", "CALL", "StatusNotification", f'"connectorId": {connector_id},')
    wait_until(
        lambda: Connector.objects.filter(charge_point_id=LOOP_CP, status="Available").count() == 3,
        timeout=WAIT,
        what="connectors 0, 1 and 2 Available in the database",
    )

    # Plug in: the server's RemoteStart is accepted; the page reports Preparing again (the loop's
    # trigger) and starts the session.
    page.click(page.connector(1, ".plug"))
    page.wait_frame("out", "CALLRESULT", "RemoteStartTransaction", '"status": "Accepted"')
    page.wait(lambda: page.text(page.connector(1, ".connector-status")) == "Charging", "Charging")
    # Preparing once more while charging, as on a re-plug: the open transaction holds it off.
    Select(page.find(page.connector(1, ".status-select"))).select_by_value("Preparing")
    page.click(page.connector(1, '[data-action="status"]'))
    wait_until(
        lambda: Connector.objects.filter(
            charge_point_id=LOOP_CP, connector_id=1, status="Preparing"
        ).exists(),
        timeout=WAIT,
        what="the second Preparing in the database",
    )
    page.screenshot("simulator-loop-mode")
    remote_starts = (
        '#log li[data-direction="in"][data-type="CALL"][data-action="RemoteStartTransaction"]'
    )
    assert len(page.find_all(remote_starts)) == 1
    assert (
        OutboundCall.objects.filter(
            charge_point_id=LOOP_CP, action="RemoteStartTransaction"
        ).count()
        == 1
    )
    [transaction] = Transaction.objects.filter(charge_point_id=LOOP_CP)
    assert transaction.is_open and not transaction.closed_as_orphan
    assert transaction.id_tag == "anonymous"
    page.click("#disconnect")
    page.wait_state("closed")
