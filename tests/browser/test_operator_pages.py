"""The pages an operator meets, in headless Chromium at 1,400 × 1,000 and at a phone's width:
`/` leads to the login, then the dashboard; the lists show what an operator scans without
scrolling sideways; a disruptive command asks first. Screenshots go to `artifacts`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from charging.models import Connector
from tests.factories import make_charge_point, make_transaction

pytestmark = pytest.mark.browser

SIZES = {"wide": (1400, 1000), "phone": (390, 844)}
# What sticks out of the result list's box (to name it when the list needs scrolling).
OVERFLOWING = """
var box = document.querySelector('#changelist .results').getBoundingClientRect();
return Array.from(document.querySelectorAll('#changelist .results *'))
  .filter(function (e) { return e.getBoundingClientRect().right > box.right + 1; })
  .slice(0, 5).map(function (e) { return e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 30); });
"""
USERNAME, PASSWORD = "operator", "a-browser-password-1"
NAVIGATION = 30  # seconds a submitted form may take to load the next page (as page loads)


def submit_and_wait(driver, button_selector: str, arrived) -> None:
    """Click a submit button and wait for the page it leads to: a click returns before the
    browser has followed the POST's redirect, so reading the URL at once races with it."""
    driver.find_element(By.CSS_SELECTOR, button_selector).click()
    WebDriverWait(driver, NAVIGATION, poll_frequency=0.05).until(arrived)


def log_in(driver, web_url: str) -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    # Hashed as the web server (the project's settings) checks it, not with the tests' MD5.
    hasher = PBKDF2PasswordHasher()
    user = get_user_model().objects.create_superuser(USERNAME)
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    driver.get(f"{web_url}/")
    assert driver.current_url == f"{web_url}/admin/login/?next=%2Fdashboard%2F"
    assert driver.title == "Log in | Levity"
    driver.find_element(By.ID, "id_username").send_keys(USERNAME)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    submit_and_wait(
        driver, '#login-form [type="submit"]', expected_conditions.url_changes(driver.current_url)
    )
    assert driver.current_url == f"{web_url}/dashboard/"


def shoot(driver, artifacts: Path, name: str, size: str) -> dict[str, int]:
    """Screenshot at `size`; the page's and the result list's widths (scrolled, shown)."""
    driver.set_window_size(*SIZES[size])
    assert driver.save_screenshot(str(artifacts / f"operator-{name}-{size}.png"))
    return driver.execute_script(
        "var r = document.querySelector('#changelist .results');"
        "return {page: document.documentElement.scrollWidth,"
        " view: document.documentElement.clientWidth,"
        " results: r ? r.scrollWidth : 0, shown: r ? r.clientWidth : 0};"
    )


def test_an_operator_s_pages_at_desktop_and_phone_width(e2e_db, web, browser, artifacts):
    now = timezone.now()
    busy = make_charge_point(
        "WALLBOX-GARAGE-NORTH-01",
        vendor="Some Vendor GmbH",
        model="Model 22 kW Pro",
        firmware_version="v1.2.3-build.4567",
        last_heartbeat_at=now - timedelta(seconds=5),
        last_message_at=now,
    )
    for number, status in ((1, "Charging"), (2, "Available")):
        Connector.objects.create(charge_point=busy, connector_id=number, status=status)
    session = make_transaction(busy, id_tag="CARD-12345678", started_at=now - timedelta(hours=1))
    make_transaction(
        busy,
        connector_id=2,
        meter_stop=23500,
        stopped_at=now - timedelta(hours=2),
        stop_received_at=now - timedelta(hours=2),
        stop_reason="EVDisconnected",
    )
    make_charge_point("WALLBOX-GARAGE-SOUTH-02", connected=False, registration_status="Pending")

    log_in(browser, web.url)
    for size in SIZES:
        widths = shoot(browser, artifacts, "dashboard", size)
        assert widths["page"] <= widths["view"], (size, widths)  # tables scroll, not the page

    for name, path, columns in (
        ("charge-points", "/admin/charging/chargepoint/", ["active transaction", "connectors"]),
        ("transactions", "/admin/charging/transaction/", ["energy kwh", "state"]),
    ):
        browser.set_window_size(*SIZES["wide"])
        browser.get(f"{web.url}{path}")
        headers = [
            th.text.lower() for th in browser.find_elements(By.CSS_SELECTOR, "#result_list th")
        ]
        assert all(column in headers for column in columns), headers
        wide = shoot(browser, artifacts, name, "wide")
        assert wide["results"] <= wide["shown"], (wide, browser.execute_script(OVERFLOWING))
        phone = shoot(browser, artifacts, name, "phone")
        assert phone["page"] <= phone["view"], phone  # the list scrolls inside its box

    browser.set_window_size(*SIZES["wide"])
    browser.get(f"{web.url}/admin/charging/chargepoint/{busy.pk}/change/")
    command = Select(browser.find_element(By.NAME, "action"))
    assert command.first_selected_option.text == "Choose a command…"
    command.select_by_value("reset_hard")
    submit_and_wait(
        browser,
        "#charge-point-commands [type=submit]",
        expected_conditions.presence_of_element_located((By.ID, "command-targets")),
    )
    targets = browser.find_element(By.ID, "command-targets").text
    assert busy.pk in targets and f"#{session.pk} on connector 1 (CARD-12345678" in targets
    assert (
        "can interrupt the charging session"
        in browser.find_element(By.ID, "command-interrupts").text
    )
    for size in SIZES:
        widths = shoot(browser, artifacts, "confirm-reset", size)
        assert widths["page"] <= widths["view"] + 1, (size, widths)
    assert (
        browser.find_element(By.CSS_SELECTOR, ".submit-row [type=submit]").get_attribute("value")
        == "Yes, send Reset (hard)"
    )

    browser.set_window_size(*SIZES["wide"])
    browser.get(f"{web.url}/admin/charging/transaction/{session.pk}/change/")
    shoot(browser, artifacts, "transaction", "wide")
    browser.get(f"{web.url}/admin/")
    assert browser.title == "Charging operations | Levity"
    shoot(browser, artifacts, "index", "wide")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
