"""End to end in headless Chromium against the API + dashboard served as `make run` serves it
(gunicorn with a uvicorn worker: Django's live server cannot carry websockets), with a real
QEMU guest of the test image: launch it from the dashboard, watch its row turn ACTIVE without
a reload, read its boot marker in the console log, open its VNC console (noVNC connected, a
canvas of the guest's screen), delete it and watch the row go. Screenshots in
test-artifacts/dashboard/."""
import time

import pytest
from selenium.webdriver.support.select import Select

from cloudproj.testing.browser import answer_confirmation
from cloudproj.testing.real_guest import real_guest_cloud
from compute.models import Instance
from images.testimage import builder

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HOST = "vnc-web-host"
BRIDGE = "cptvnc1"
CIDR = "10.247.1.0/24"
ID_START = 0x247100
BOOT_TIMEOUT = 180


@pytest.fixture
def fast_password_hashing():
    """Off: the ASGI server process checks passwords with the default hashers."""


@pytest.fixture
def web_cloud(settings, tmp_path, admin_account, osc):
    with real_guest_cloud(settings, tmp_path, osc, label="vncweb", cidr=CIDR, bridge=BRIDGE, host=HOST,
                          instance_id_start=ID_START, servers=()) as env:
        yield env


def test_launch_a_real_guest_read_its_console_log_open_its_vnc_console_and_delete_it(
        web_cloud, asgi_browser, make_account):
    browser = asgi_browser
    make_account("demo", "member", username="demo-user")
    browser.login("demo-user")
    browser.get("/dashboard/instances/launch/")
    browser.find("#id_name").send_keys("vnc-e2e")
    Select(browser.find("#id_image")).select_by_visible_text("cloudproj-test")
    Select(browser.find("#id_flavor")).select_by_value("1")  # m1.tiny
    browser.screenshot("launch-real-guest")
    browser.find("#launch-submit").click()
    browser.wait(lambda d: "named vnc-e2e" in d.find_element("id", "messages").text, 30, "the launch message")
    instance = Instance.objects.get(display_name="vnc-e2e")
    row = f"#instance-{instance.uuid}"

    browser.driver.execute_script("window.__dashboardMarker = 'not reloaded';")
    started = time.monotonic()
    browser.wait_css(f'{row}[data-status="ACTIVE"]', timeout=BOOT_TIMEOUT)
    assert browser.driver.execute_script("return window.__dashboardMarker") == "not reloaded"
    assert "10.247.1." in browser.find(f"{row} .addresses").text
    browser.screenshot(f"real-guest-active-after-{time.monotonic() - started:.0f}s")

    # the console log on the detail page's Log tab shows the guest's boot marker (refreshed until it has)
    browser.find(f"{row} td a").click()
    browser.wait_css("#tab-log").click()
    browser.wait_css("#console-output", 60)

    def marker_shown(driver):
        if builder.MARKER_UP in driver.find_element("id", "console-output").text:
            return True
        if time.monotonic() - marker_shown.last > 3:
            driver.find_element("link text", "Refresh").click()
            marker_shown.last = time.monotonic()
        return False

    marker_shown.last = time.monotonic()
    browser.wait(marker_shown, BOOT_TIMEOUT, f"{builder.MARKER_UP} in the console log")
    assert "hostname=vnc-e2e" in browser.find("#console-output").text
    browser.screenshot("console-log-boot-marker")

    # the VNC console opens in a new window: noVNC connected through /vnc/websockify
    main_window = browser.driver.current_window_handle
    browser.find("#tab-console").click()
    browser.wait_css(f"#vnc-{instance.uuid}", 30).click()
    browser.wait(lambda d: len(d.window_handles) == 2, 30, "the console window")
    browser.driver.switch_to.window(next(h for h in browser.driver.window_handles if h != main_window))
    assert "/vnc/?token=" in browser.driver.current_url
    browser.wait(lambda d: d.find_element("id", "vnc-status").text == "Connected", 60, "noVNC to connect")
    size = browser.wait(lambda d: d.execute_script(
        "const c = document.querySelector('#vnc-screen canvas');"
        "return c && c.width > 0 && c.height > 0 ? [c.width, c.height] : null;"), 60, "the guest's screen")
    assert size[0] > 0 and size[1] > 0
    lit = browser.wait(lambda d: d.execute_script(
        "const c = document.querySelector('#vnc-screen canvas');"
        "const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let lit = 0;"
        "for (let i = 0; i < px.length; i += 4) { if (px[i] + px[i + 1] + px[i + 2] > 300) lit++; }"
        "return lit;"), 60, "the guest's screen (its text) drawn on the canvas")
    assert lit > 0
    browser.screenshot(f"vnc-console-connected-{size[0]}x{size[1]}")
    browser.driver.close()
    browser.driver.switch_to.window(main_window)

    # deleted from the instances list: the row goes without a reload
    browser.get("/dashboard/instances/")
    browser.driver.execute_script("window.__dashboardMarker = 'not reloaded';")
    assert answer_confirmation(browser, browser.find(f'{row} button[aria-label="Delete vnc-e2e"]'),
                               accept=True) == "Delete vnc-e2e?"
    browser.wait(lambda d: not d.find_elements("css selector", row), 120, "the deleted row to disappear")
    assert browser.driver.execute_script("return window.__dashboardMarker") == "not reloaded"
    browser.screenshot("real-guest-row-gone")
    assert Instance.all_objects.get(pk=instance.pk).deleted_at is not None
