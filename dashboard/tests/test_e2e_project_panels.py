"""End to end in headless Chromium: upload an image from a file and launch from it; create a
security group with a rule; download the openrc file. Screenshots land in
test-artifacts/dashboard/ (one at a phone's width)."""
import subprocess

import pytest

from compute.models import Flavor
from images.models import Image
from secgroups.models import SecurityGroup

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_upload_an_image_then_launch_from_it(browser, make_account, settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    Flavor.objects.create(flavorid="e2e.tiny", name="e2e.tiny", memory_mb=128, vcpus=1, root_gb=0)
    make_account("demo", "member", username="demo-user")
    disk = tmp_path / "e2e.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "32M"], check=True)
    browser.login("demo-user")
    browser.find('nav[aria-label="Project"] a[href="/dashboard/images/"]').click()
    browser.wait_css("#images")
    browser.find('a[href="/dashboard/images/upload/"]').click()
    browser.find("#id_name").send_keys("e2e-image")
    browser.find("#id_file").send_keys(str(disk))
    browser.screenshot("upload-form")
    browser.find("#upload-image button[type=submit]").click()
    browser.wait(lambda d: "Image e2e-image uploaded." in d.page_source, 60, "the upload's message")
    image = Image.objects.get(name="e2e-image")
    assert image.status == "active" and image.virtual_size == 32 * 1024 * 1024
    row = browser.find(f"#image-{image.id}")
    assert "active" in row.text and "qcow2" in row.text and "this project" in row.text
    browser.screenshot("image-listed")
    browser.open_menu(f"#image-{image.id}")  # the row's action menu
    row.find_element("css selector", "a[aria-label='Launch from e2e-image']").click()
    browser.wait_css("#id_image")
    selected = browser.find("#id_image option:checked")
    assert selected.get_attribute("value") == str(image.id) and selected.text == "e2e-image"
    browser.screenshot("launch-with-image")


def test_security_group_rule_and_openrc_download(browser, make_account):
    make_account("demo", "member", username="demo-user")
    browser.login("demo-user")
    browser.get("/dashboard/security-groups/")
    browser.find("#id_name").send_keys("e2e-web")
    browser.find("#id_description").send_keys("web servers")
    browser.find("#create-secgroup button[type=submit]").click()
    browser.wait_css("#add-rule")
    from selenium.webdriver.support.ui import Select

    Select(browser.find("#id_rule-ip_protocol")).select_by_value("tcp")
    browser.find("#id_rule-from_port").send_keys("8000")
    browser.find("#id_rule-to_port").send_keys("8080")
    cidr = browser.find("#id_rule-cidr")
    cidr.clear()
    cidr.send_keys("10.248.0.0/24")
    browser.find("#add-rule button[type=submit]").click()
    browser.wait(lambda d: "Rule added." in d.page_source, 30, "the rule's message")
    rules = browser.find("#rules").text
    assert "tcp" in rules and "8000–8080" in rules and "10.248.0.0/24" in rules
    group = SecurityGroup.objects.get(name="e2e-web")
    # beside Neutron's default egress rule every new group has
    assert group.rules.get(direction="ingress").from_port == 8000
    browser.driver.set_window_size(390, 844)  # a phone: the table scrolls inside its wrapper, forms stack
    browser.screenshot("rules-narrow")
    width = browser.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width}px wide at a 390px window"
    browser.driver.set_window_size(1366, 900)

    browser.get("/dashboard/api-access/")
    browser.find("#download-openrc").click()
    openrc = browser.downloads / "demo-openrc.sh"
    browser.wait(lambda d: openrc.exists() and openrc.stat().st_size > 0, 20, "the openrc download")
    text = openrc.read_text()
    assert "export OS_USERNAME=demo-user" in text and "read -sr OS_PASSWORD_INPUT" in text
    assert "secret-pass" not in text
    browser.screenshot("api-access")
