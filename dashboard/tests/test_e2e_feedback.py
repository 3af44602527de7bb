"""Issue 20, item 5, in headless Chromium at a desktop's and a phone's width: the launch form fits
a 390 px phone; the menu marks the current page and every field of the launch form has its label
as its name and its help text as its description, read from Chromium's accessibility tree (CDP
Accessibility.getFullAXTree: what a screen reader gets)."""
import pytest

from cloudproj.testing.browser import WIDTHS
from images.models import Image

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def ax_nodes(browser) -> list[dict]:
    return browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]


def text(node, key) -> str | None:
    return (node.get(key) or {}).get("value")


def props(node) -> dict:
    return {p["name"]: p["value"].get("value") for p in node.get("properties", [])}


def current_links(browser) -> list[str]:
    """Names of the menu links marked current. CDP's AX properties have no `current` (Chromium
    passes aria-current to platform screen readers only), so each link node of the tree is mapped
    back to its DOM node (DOM.describeNode) to read aria-current there."""
    marked = []
    for node in ax_nodes(browser):
        if text(node, "role") != "link" or "backendDOMNodeId" not in node:
            continue
        dom = browser.driver.execute_cdp_cmd("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
        attributes = dict(zip(dom["attributes"][::2], dom["attributes"][1::2]))
        if attributes.get("aria-current") == "page":
            marked.append(text(node, "name"))
    return marked


@pytest.mark.parametrize("width", WIDTHS)
def test_launch_form_fits_and_its_fields_and_menu_are_announced(browser, make_account, flavor, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    Image.objects.create(name="debian-12-generic-amd64-20261201-1583.qcow2", owner=project, visibility="private",
                         status=Image.ACTIVE, disk_format="qcow2", container_format="bare", size=1024)
    browser.login("demo-user")
    browser.get("/dashboard/instances/launch/")
    browser.wait_css("#launch-form")
    browser.screenshot(f"{width}-launch-form")
    page, view, form_right = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " document.getElementById('launch-form').getBoundingClientRect().right]")
    assert page <= view and form_right <= view, f"page {page} px, form to {form_right} px in a {view} px window"

    nodes = ax_nodes(browser)
    assert current_links(browser) == ["Instances"]  # /dashboard/instances/launch/ is under Instances, and only it
    weight = browser.driver.execute_script(
        "return getComputedStyle(document.querySelector('nav a[aria-current=page]')).fontWeight")
    assert weight == "700"  # seen too, not only announced
    fields = {text(n, "name"): text(n, "description") for n in nodes
              if text(n, "role") in ("textbox", "combobox", "listbox", "spinbutton")}
    for label in ("Name", "Number of instances", "Flavor", "Image", "Key pair", "Network", "Security groups",
                  "Availability zone", "Server group"):
        assert label in fields, f"no field named {label!r} in {sorted(fields, key=str)}"
    assert fields["Metadata"] == "One key=value a line."
    assert fields["User data"].startswith("Plain text (a cloud-config or a script)")

    browser.get("/dashboard/")
    assert current_links(browser) == ["Overview"]
    from selenium.webdriver.common.keys import Keys

    browser.find("body").send_keys(Keys.TAB)  # the keyboard's first stop: the skip link, and focus shows
    focused = [text(n, "name") for n in ax_nodes(browser) if props(n).get("focused") and text(n, "role") == "link"]
    assert focused == ["Skip to content"]
    outline = browser.driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
