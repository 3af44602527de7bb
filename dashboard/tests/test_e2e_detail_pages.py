"""Issue 20 (detail pages, instance tabs, usage charts, serial-console hint, project delete) in
headless Chromium at a desktop's and a 390 px phone's width, with screenshots: what a user sees
and what a screen reader gets (CDP Accessibility.getFullAXTree): tabs with their selected state,
a running action's progress bar, charts as named images, confirmations naming the object."""
import datetime

import pytest
from django.utils import timezone

from cloudproj.testing.browser import WIDTHS, answer_confirmation
from compute.models import InstanceAction, InstanceActionEvent
from compute.services import actions
from identity.models import Project
from images.models import Image
from volumes.models import Snapshot, Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SERIAL = {"kernel_id": "k-1", "image_properties": {"os_command_line": "root=/dev/vda console=ttyS0"}}


def ax_nodes(browser) -> list[dict]:
    return browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]


def value(node, key):
    return (node.get(key) or {}).get("value")


def props(node) -> dict:
    return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}


def tabs(browser) -> dict:
    """{tab name: selected} as the accessibility tree has them."""
    return {value(n, "name"): props(n).get("selected") for n in ax_nodes(browser) if value(n, "role") == "tab"}


def fits(browser) -> None:
    page, view = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert page <= view, f"the page is {page} px wide in a {view} px window"


@pytest.mark.parametrize("width", WIDTHS)
def test_instance_tabs_progress_and_serial_hint(browser, make_account, make_instance, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    server = make_instance(project, user, name="web-1", task_state="resize_migrating", **SERIAL)
    action = actions.start_action(server, "resize", request_id="req-e2e", user_id=user.id, project_id=project.id)
    with actions.event(action, "compute_prep_resize"):
        pass
    running = actions.event_start(action, "compute_resize_instance", host="host-a")
    InstanceActionEvent.objects.filter(pk=running.pk).update(start_time=timezone.now() - datetime.timedelta(seconds=5))
    InstanceAction.objects.filter(pk=action.pk).update(start_time=timezone.now() - datetime.timedelta(seconds=6))
    browser.login("demo-user")
    browser.get(f"/dashboard/instances/{server.uuid}/")
    browser.wait_css("#action-progress")
    assert tabs(browser) == {"Overview": True, "Log": False, "Console": False, "Action log": False}
    bars = [n for n in ax_nodes(browser) if value(n, "role") == "progressbar"]
    assert [(value(b, "name"), value(b, "value")) for b in bars] == [("Progress of resize of web-1", 1)]
    assert "step 2 of 3 (compute_resize_instance, running for" in browser.find("#action-progress").text
    fits(browser)
    browser.screenshot(f"{width}-overview-progress")

    # the keyboard: the selected tab takes the focus, the arrows move along the tabs, Enter opens one
    from selenium.webdriver.common.keys import Keys

    browser.driver.execute_script("document.getElementById('tab-overview').focus()")
    browser.find("#tab-overview").send_keys(Keys.ARROW_RIGHT)
    browser.driver.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    focused = [value(n, "name") for n in ax_nodes(browser) if props(n).get("focused") and value(n, "role") == "tab"]
    assert focused == ["Console"]
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda d: tabs(browser).get("Console") is True, 10, "the Console tab to be selected")
    hint = browser.find("#serial-hint")
    assert hint.is_displayed() and "This guest's console is serial" in hint.text
    fits(browser)
    browser.screenshot(f"{width}-console-serial-hint")
    browser.find("#serial-hint a").click()
    browser.wait(lambda d: tabs(browser).get("Log") is True, 10, "the Log tab")
    browser.wait(lambda d: d.find_elements("id", "console-output") or d.find_elements("id", "console-problem"),
                 30, "the console log or a message")
    browser.screenshot(f"{width}-log")

    # the task settles: the head, polling, notices and the page reloads into the settled state
    browser.find("#tab-overview").click()
    browser.wait(lambda d: "resize_migrating" in facts_text(d), 10, "the overview")
    actions.event_finish(running)
    actions.finish_action(action)
    server.task_state = None
    server.save(update_fields=["task_state"])
    # read in one script: the page reloads itself, and an element found before a reload is gone after it
    browser.wait(lambda d: "none in progress" in facts_text(d), 20, "the page to reload once the task settled")
    assert not browser.driver.find_elements("id", "action-progress")
    browser.find("#tab-actions").click()
    timeline = browser.wait_css("#timeline").text
    assert "resize" in timeline and "compute_resize_instance" in timeline
    fits(browser)
    browser.screenshot(f"{width}-action-log")


@pytest.mark.parametrize("width", WIDTHS)
def test_volume_and_image_pages_and_their_named_confirmations(browser, make_account, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    volume = Volume.objects.create(name="payroll-data", size=2, availability_zone="nova", project_id=project.id,
                                   user_id=user.id, host="vol-a", status="available")
    Snapshot.objects.create(volume=volume, name="nightly", size=2, project_id=project.id, user_id=user.id,
                            host="vol-a", status="available")
    browser.login("demo-user")
    browser.get("/dashboard/volumes/")
    browser.driver.find_element("link text", "payroll-data").click()
    browser.wait_css("#volume-facts")
    assert "nightly" in browser.find("#volume-snapshots").text and "Not attached." in browser.find("#attachment").text
    fits(browser)
    browser.screenshot(f"{width}-volume-page")
    button = browser.driver.find_element("xpath", '//button[.="Delete volume"]')
    assert answer_confirmation(browser, button, accept=False) == "Delete volume payroll-data?"
    assert Volume.objects.get(pk=volume.pk).status == "available"

    image = Image.objects.create(name="golden-debian", owner=project, visibility="private", status=Image.ACTIVE,
                                 disk_format="qcow2", container_format="bare", size=2048,
                                 properties={"os_distro": "debian"})
    browser.get("/dashboard/images/")
    browser.driver.find_element("link text", "golden-debian").click()
    facts = browser.wait_css("#image-facts").text
    assert "qcow2" in facts and "2.0 KB" in facts and "debian" in browser.find("#image-properties").text
    fits(browser)
    browser.screenshot(f"{width}-image-page")
    button = browser.driver.find_element("xpath", '//button[.="Delete image"]')
    assert answer_confirmation(browser, button, accept=False) == "Delete image golden-debian?"
    browser.driver.find_element("link text", "Launch an instance").click()
    browser.wait(lambda d: "/dashboard/instances/launch/" in d.current_url, 10, "the launch form")
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE


@pytest.mark.parametrize("width", WIDTHS)
def test_usage_charts_are_named_images(browser, make_account, make_instance, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    day = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    make_instance(project, user, name="web", vcpus=2, launched_at=day - datetime.timedelta(days=2))
    browser.login("demo-user")
    browser.get("/dashboard/usage/")
    browser.wait_css("#chart-vcpu svg")
    images = {value(n, "name") for n in ax_nodes(browser) if value(n, "role") in ("image", "img")}
    named = [name for name in images if name and name.startswith("vCPU-hours per day vCPU-hours per day:")]
    assert named and "the highest is" in named[0], images
    assert any(name and name.startswith("Quota use Quota use: Instances") for name in images), images
    bars = browser.driver.find_elements("css selector", "#chart-vcpu rect.bar")
    assert len(bars) == 31 and max(float(b.get_attribute("height")) for b in bars) > 100
    fits(browser)
    browser.screenshot(f"{width}-usage")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_deletes_a_project_typing_its_name_and_sees_the_overview(browser, make_account, make_instance, width):
    browser.driver.set_window_size(*WIDTHS[width])
    make_account("admin", "admin", username="admin")
    user, doomed, _ = make_account("doomed", "member", username="doomed-user")
    make_instance(doomed, user, name="left-behind", vcpus=3,
                  launched_at=timezone.now() - datetime.timedelta(days=1))
    browser.login("admin")
    browser.get("/dashboard/admin/usage/")
    table = browser.wait_css("#usage-projects").text
    assert "doomed" in table
    fits(browser)
    browser.screenshot(f"{width}-usage-overview")

    browser.get(f"/dashboard/admin/projects/{doomed.id}/")
    browser.find("#confirm-name").send_keys("doomed")
    button = browser.driver.find_element("xpath", '//button[.="Delete project"]')
    assert answer_confirmation(browser, button, accept=False) == "Delete project doomed?"
    assert Project.objects.filter(pk=doomed.pk).exists()
    browser.screenshot(f"{width}-project-delete-asked")
    assert answer_confirmation(browser, browser.driver.find_element("xpath", '//button[.="Delete project"]'),
                               accept=True) == "Delete project doomed?"
    browser.wait(lambda d: "Project doomed deleted." in d.find_element("id", "messages").text, 10, "the message")
    assert not Project.objects.filter(pk=doomed.pk).exists() and Project.all_objects.filter(pk=doomed.pk).exists()
    browser.get("/dashboard/admin/usage/")
    row = browser.wait_css("#usage-projects").text
    assert "doomed deleted" in row  # the tombstone's usage still counts, marked
    browser.screenshot(f"{width}-usage-overview-after-delete")


def facts_text(driver) -> str:
    return driver.execute_script("const e = document.querySelector('dl.facts'); return e ? e.innerText : '';")
