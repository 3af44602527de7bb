"""End to end in headless Chromium at a desktop's and a phone's width (issue 20 item 1): the admin's "All instances" shows the
servers of a deleted project, marked, finds them through the project filter, and deletes one
from the page. The servers were created through the Compute API (quota reserved) and placed
on a host whose agent is not running, so the delete is finished by the dashboard's request
(as for a host that is down); the pipeline with agents is
compute/tests/test_project_deletion_pipeline.py. Screenshots: test-artifacts/dashboard/."""
import pytest

from cloudproj.testing.browser import WIDTHS, answer_confirmation
from cloudproj.testing.servers import boot, make_active
from compute.models import Instance
from identity.models import QuotaUsage
from identity.services import accounts

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_sees_and_deletes_the_servers_of_a_deleted_project(browser, admin_account, member_account,
                                                                   member_client, image, width):
    from selenium.webdriver.support.ui import Select

    browser.driver.set_window_size(*WIDTHS[width])

    project = member_account[1]
    servers = [boot(member_client, image, f"stray-{i}")["server"]["id"] for i in range(2)]
    for server_id in servers:
        make_active(server_id, host="lost-host")
    accounts.delete_project(project)

    browser.login("admin")
    browser.get("/dashboard/admin/instances/")
    for server_id in servers:
        row = f"#instance-{server_id}"
        assert "project deleted" in browser.find(f"{row} .project-deleted").text
        assert browser.find(f"{row} .project-deleted").is_displayed()
        browser.open_menu(row)
        assert browser.find(f'{row} button.danger').is_displayed()
    assert "2 in all" in browser.find("caption").get_attribute("textContent")
    browser.screenshot(f"{width}-deleted-project-rows")

    Select(browser.find("#f-project")).select_by_visible_text("demo (project deleted)")
    browser.find("form.filters button[type=submit]").click()
    browser.wait(lambda d: f"project={project.id}" in d.current_url, 20, "the filtered page")
    assert len(browser.driver.find_elements("css selector", "#instance-rows tr")) == 2

    row = f"#instance-{servers[0]}"
    browser.open_menu(row)
    assert answer_confirmation(browser, browser.find(f"{row} button.danger"), accept=True).startswith("Delete ")
    browser.wait(lambda d: not d.find_elements("css selector", row), 30, "the deleted row to disappear")
    browser.screenshot(f"{width}-deleted-project-row-gone")
    assert Instance.all_objects.get(uuid=servers[0]).deleted_at is not None
    assert QuotaUsage.objects.get(project_id=project.id, resource="instances").in_use == 1
    assert browser.find(f"#instance-{servers[1]}").is_displayed()
