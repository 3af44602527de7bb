"""End to end in headless Chromium: an admin creates a private flavor and shares it with a
project, creates a project and a user, is refused a quota below usage with a readable message,
and the admin pages stay usable on a phone-sized window. Screenshots: test-artifacts/dashboard/."""
import pytest

from compute.models import Flavor
from identity.services import quotas
from identity.models import QuotaUsage, User

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _fill(browser, values: dict):
    for field_id, value in values.items():
        element = browser.find(f"#{field_id}")
        element.clear()
        element.send_keys(str(value))


def test_admin_manages_flavors_projects_users_and_quotas(browser, make_account):
    from selenium.webdriver.support.ui import Select

    make_account("admin", "admin", username="admin")
    _user, demo, _token = make_account("demo", "member", username="demo-user")
    QuotaUsage.objects.create(project=demo, resource="instances", in_use=3, reserved=0)
    browser.login("admin")

    browser.get("/dashboard/admin/flavors/")
    _fill(browser, {"id_name": "e2e.private", "id_flavorid": "e2e.1", "id_vcpus": 2, "id_memory_mb": 1024,
                    "id_root_gb": 5})
    browser.find("#id_is_public").click()  # ticked by default: untick for a private flavor
    browser.find("#create-flavor button[type=submit]").click()
    browser.wait(lambda d: "Flavor e2e.private (e2e.1) created." in browser.find("#messages").text, 30, "the flavor")
    flavor = Flavor.objects.get(flavorid="e2e.1")
    assert not flavor.is_public and flavor.memory_mb == 1024
    browser.find(f"#flavor-{flavor.pk} a").click()
    browser.wait_css("#add-access")
    Select(browser.find("#id_project")).select_by_visible_text("demo")
    browser.find("#add-access button[type=submit]").click()
    browser.wait(lambda d: "may now use flavor e2e.private" in browser.find("#messages").text, 30, "the access")
    assert "demo" in browser.find("#flavor-access").text
    browser.screenshot("flavor-access")

    browser.get("/dashboard/admin/projects/")
    _fill(browser, {"id_name": "e2e-project"})
    browser.find("#create-project button[type=submit]").click()
    browser.wait(lambda d: "Project e2e-project created." in browser.find("#messages").text, 30, "the project")
    browser.get("/dashboard/admin/users/")
    _fill(browser, {"id_name": "e2e-user", "id_password": "e2e-pass-1"})
    Select(browser.find("#id_default_project")).select_by_visible_text("e2e-project")
    Select(browser.find("#id_role")).select_by_visible_text("member")
    browser.find("#create-user button[type=submit]").click()
    browser.wait(lambda d: "User e2e-user created." in browser.find("#messages").text, 30, "the user")
    assert User.objects.get(username="e2e-user").check_password("e2e-pass-1")
    browser.screenshot("user-created")

    browser.get(f"/dashboard/admin/projects/{demo.id}/")
    assert "3 of 10 used" in browser.find("#quota-usage").text
    _fill(browser, {"id_instances": 2})
    browser.find("#edit-quotas button[type=submit]").click()
    error = browser.wait_css("#edit-quotas .msg.error")
    assert "instances (2 < 3 used and reserved)" in error.text
    assert quotas.get_quotas(demo)["instances"] == 10
    browser.driver.execute_script("arguments[0].scrollIntoView()", error)
    browser.screenshot("quota-below-usage-refused")

    browser.driver.set_window_size(400, 850)
    for page in ("flavors", "networks", "hypervisors"):
        browser.get(f"/dashboard/admin/{page}/")
        width = browser.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 400, (page, width)  # nothing runs off a phone-sized screen
    browser.get("/dashboard/admin/flavors/")
    assert browser.find(f"#flavor-{flavor.pk}").is_displayed()
    browser.screenshot("flavors-narrow")
