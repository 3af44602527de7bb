"""Issue 20 (Horizon-style tables, user settings) in headless Chromium at a desktop's and a phone's
width: sorting changes the order, the next page shows the next rows, a bulk delete asks naming the
selected rows and removes them, the user's page size and time zone change what the tables show.
Checkbox names and the sorted header's state are read from Chromium's accessibility tree."""
import re
from datetime import datetime, timezone as dt_timezone

import pytest
from selenium.webdriver.support.select import Select

from cloudproj.testing.browser import WIDTHS, answer_confirmation
from compute.models import Instance, KeyPair

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def ax_nodes(browser) -> list[dict]:
    return browser.driver.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]


def value(node, key) -> str | None:
    return (node.get(key) or {}).get("value")


def dom_attributes(browser, node) -> dict:
    dom = browser.driver.execute_cdp_cmd("DOM.describeNode", {"backendNodeId": node["backendDOMNodeId"]})["node"]
    return dict(zip(dom["attributes"][::2], dom["attributes"][1::2]))


def shown_names(browser) -> list[str]:
    return [a.get_attribute("title") for a in browser.driver.find_elements("css selector", "#instance-rows td.name a")]


def sort_by(browser, width: str, label: str, key: str, direction: str):
    """As a user would: the column header on a desktop (clicked until it is sorted `direction`), the
    'Sort by' form on a phone, where the header row is hidden."""
    if width == "phone":
        Select(browser.find("#instances-sort")).select_by_visible_text(label)
        Select(browser.find('form.sort-narrow select[name="dir"]')).select_by_value(direction)
        browser.find("form.sort-narrow button").click()
    else:
        for _ in range(2):
            header = browser.driver.find_element("xpath", f'//th[.//a[starts-with(normalize-space(.), "{label}")]]')
            wanted = "ascending" if direction == "asc" else "descending"
            if header.get_attribute("aria-sort") == wanted:
                break
            header.find_element("css selector", "a").click()
            browser.wait(lambda d: f"sort={key}" in d.current_url, 20, "the sorted page")
    browser.wait(lambda d: f"sort={key}" in d.current_url and f"dir={direction}" in d.current_url, 20,
                 "the sorted page")


@pytest.mark.parametrize("width", WIDTHS)
def test_sort_pages_settings_and_bulk_delete_as_a_user_sees_them(browser, make_account, make_instance, flavor,
                                                                 width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    names = [f"vm-{n:02d}" for n in range(12)]
    for n, name in enumerate(names):
        made = make_instance(project, user, name=name, host=None)
        Instance.objects.filter(pk=made.pk).update(
            created_at=datetime(2026, 1, 15, 12, n, tzinfo=dt_timezone.utc))  # vm-11 newest
    browser.login("demo-user")

    # settings: 5 rows a page, times in Tokyo (UTC+9), through the settings page's form
    browser.get("/dashboard/settings/")
    browser.find("#id_page_size").clear()
    browser.find("#id_page_size").send_keys("5")
    Select(browser.find("#id_timezone")).select_by_value("Asia/Tokyo")
    browser.screenshot(f"{width}-settings")
    browser.find("#user-settings button[type=submit]").click()
    browser.wait(lambda d: "Settings saved: 5 rows per page, times in Asia/Tokyo." in d.find_element(
        "id", "messages").text, 20, "the saved settings")

    browser.get("/dashboard/instances/")
    browser.wait_css("#instance-rows tr")
    assert shown_names(browser) == names[::-1][:5]  # newest first, 5 a page
    assert "1–5 of 12" in browser.find("nav.pages .count").text
    created = browser.find("#instance-rows tr td[data-label=Created] time")
    assert created.text == "2026-01-15 21:11 JST"  # vm-11, 12:11 UTC, in the user's zone
    browser.screenshot(f"{width}-newest-first")

    sort_by(browser, width, "Name", "name", "asc")
    assert shown_names(browser) == names[:5]
    browser.screenshot(f"{width}-by-name")
    browser.find('nav.pages a[rel="next"]').click()
    browser.wait(lambda d: "page=2" in d.current_url, 20, "page 2")
    assert shown_names(browser) == names[5:10]
    assert "6–10 of 12" in browser.find("nav.pages .count").text and "sort=name" in browser.driver.current_url
    browser.screenshot(f"{width}-page-2")
    sort_by(browser, width, "Name", "name", "desc")
    assert shown_names(browser) == names[::-1][:5]

    # the accessibility tree: every row's checkbox is named after its row, one select-all box (in the header
    # row on a desktop, in the bulk bar on a phone); the sorted header says so
    nodes = ax_nodes(browser)
    boxes = sorted(value(n, "name") for n in nodes if value(n, "role") == "checkbox")
    assert boxes == sorted(["Select all instances on this page"] + [f"Select {n}" for n in names[::-1][:5]])
    if width == "desktop":  # the phone hides the header row (its rows are cards)
        headers = {value(n, "name"): dom_attributes(browser, n).get("aria-sort")
                   for n in nodes if value(n, "role") == "columnheader" and "backendDOMNodeId" in n}
        assert headers["Name"] == "descending" and headers["Created"] == "none", headers
        assert "Addresses" in headers and headers["Addresses"] is None  # not sortable: no aria-sort

    # bulk delete: tick two rows, the question names both, they go; the others stay
    for name in ("vm-11", "vm-09"):
        box = browser.find(f'input[name="ids"][data-name="{name}"]')
        browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        box.click()
    delete = browser.find('#bulk-instances button[value="delete"]')
    assert answer_confirmation(browser, delete, accept=False) == "Delete vm-11, vm-09?"
    assert Instance.objects.filter(display_name="vm-11").exists()
    assert answer_confirmation(browser, browser.find('#bulk-instances button[value="delete"]'),
                               accept=True) == "Delete vm-11, vm-09?"
    browser.wait(lambda d: "Deleting vm-11, vm-09." in d.find_element("id", "messages").text, 20, "the message")
    assert shown_names(browser) == ["vm-10", "vm-08", "vm-07", "vm-06", "vm-05"]  # the sort and page kept
    assert "1–5 of 10" in browser.find("nav.pages .count").text
    browser.screenshot(f"{width}-bulk-deleted")
    assert not Instance.objects.filter(display_name__in=["vm-11", "vm-09"]).exists()


@pytest.mark.parametrize("width", WIDTHS)
def test_bulk_delete_of_key_pairs_asks_first_naming_them(browser, make_account, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, _project, _ = make_account("demo", "member", username="demo-user")
    for name in ("laptop", "desktop", "ci-runner"):
        KeyPair.objects.create(user=user, name=name, public_key="ssh-rsa AAAA", fingerprint="00")
    browser.login("demo-user")
    browser.get("/dashboard/keypairs/")
    delete = browser.find('#bulk-keypairs button[value="delete"]')
    assert answer_confirmation(browser, delete, accept=False) == "Select at least one row first."
    # every row of the page: the header's box on a desktop, the bulk bar's on a phone (no header row there)
    (select_all,) = [box for box in browser.driver.find_elements("css selector", ".select-all") if box.is_displayed()]
    select_all.click()
    browser.find('input[name="ids"][data-name="desktop"]').click()  # but this one
    question = answer_confirmation(browser, browser.find('#bulk-keypairs button[value="delete"]'), accept=True)
    assert question == "Delete key pairs ci-runner, laptop?"
    browser.wait(lambda d: "Deleted key pairs ci-runner, laptop." in d.find_element("id", "messages").text, 20,
                 "the message")
    rows = [tr.get_attribute("id") for tr in browser.driver.find_elements("css selector", "#keypairs tbody tr")]
    assert rows == ["keypair-desktop"]
    browser.screenshot(f"{width}-keypairs-bulk-deleted")
    assert list(KeyPair.objects.values_list("name", flat=True)) == ["desktop"]
    page_width, view_width = browser.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert page_width <= view_width, f"the page is {page_width} px wide in a {view_width} px window"
    assert re.fullmatch(r"1–1 of 1", browser.find("nav.pages .count").text)
