"""Issue 20, item 3, in headless Chromium at a desktop's and a phone's width: a 255-character
name (no spaces) keeps the instances table on screen (Status and Actions visible, no sideways
scrolling), and a longer name typed or pasted into the launch form is refused with a form error
that says how long it is, not silently cut to 255."""
import pytest

from cloudproj.testing.browser import WIDTHS
from compute.models import Instance
from images.models import Image

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
LONG = "n" * 255


def fits(browser, css: str) -> bool:
    return browser.driver.execute_script(
        "var r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;", css)


@pytest.mark.parametrize("width", WIDTHS)
def test_a_255_character_name_keeps_status_and_actions_on_screen(browser, make_account, make_instance, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    long = make_instance(project, user, name=LONG)
    short = make_instance(project, user, name="web-1")
    browser.login("demo-user")
    browser.get("/dashboard/instances/")
    browser.wait_css(f"#instance-{long.uuid}")
    browser.screenshot(f"{width}-long-name")
    page_width, view_width = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert page_width <= view_width, f"the page is {page_width} px wide in a {view_width} px window"
    for row in (long, short):
        assert fits(browser, f"#instance-{row.uuid} td.status"), "Status is off-screen"
        assert fits(browser, f"#instance-{row.uuid} td.actions"), "Actions are off-screen"
    link = browser.find(f"#instance-{long.uuid} td.name a")
    assert link.get_attribute("title") == LONG  # the whole name is still there for whoever hovers


@pytest.mark.parametrize("width", WIDTHS)
def test_a_longer_name_is_refused_not_cut(browser, make_account, flavor, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    Image.objects.create(name="cirros", owner=project, visibility="private", status=Image.ACTIVE,
                         disk_format="qcow2", container_format="bare", size=1024)
    browser.login("demo-user")
    browser.get("/dashboard/instances/launch/")
    name = browser.find("#id_name")
    browser.driver.execute_script("arguments[0].focus()", name)
    name.send_keys("x" * 300)
    assert len(name.get_attribute("value")) == 300, "the browser cut the name"
    browser.find("#launch-submit").click()
    error = browser.wait_css("#launch-form .field-error")
    browser.screenshot(f"{width}-name-refused")
    assert error.text == "This name is 300 characters long; at most 255 are allowed."
    assert len(browser.find("#id_name").get_attribute("value")) == 300  # kept to fix, not cut
    assert not Instance.objects.exists()
