"""Issue 20, item 5 (stop feedback), in headless Chromium at a desktop's and a phone's width: an
instance powering off shows how long the guest has had to shut down and when it will be forced
off, as a progress bar a screen reader reads (its value from the accessibility tree), counting on."""
import datetime

import pytest
from django.utils import timezone

from cloudproj.testing.browser import WIDTHS
from compute.models import Instance

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def progress_value(browser, name: str) -> float:
    for node in browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]:
        if node.get("role", {}).get("value") == "progressbar" and node.get("name", {}).get("value") == name:
            return float(node["value"]["value"])
    raise AssertionError(f"no progress bar named {name!r}")


@pytest.mark.parametrize("width", WIDTHS)
def test_powering_off_counts_towards_the_forced_stop(browser, make_account, make_instance, settings, width):
    settings.SHUTDOWN_TIMEOUT = 60
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    server = make_instance(project, user, name="web-1", task_state="powering-off")
    Instance.objects.filter(pk=server.pk).update(updated_at=timezone.now() - datetime.timedelta(seconds=10))
    browser.login("demo-user")
    browser.get("/dashboard/instances/")
    cell = browser.wait_css(f"#instance-{server.uuid} td.task")
    assert "powering-off" in cell.text and "the guest is forced off after 60 s" in cell.text
    first = progress_value(browser, "Shutdown of web-1")
    assert 10 <= first <= 15
    browser.wait(lambda d: progress_value(browser, "Shutdown of web-1") >= first + 2, 6,
                 "the bar to move on without a reload")
    assert "forced off after 60 s" in browser.find(f"#instance-{server.uuid} .countup-text").text
    browser.screenshot(f"{width}-powering-off")
