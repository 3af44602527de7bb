"""Issue 20, item 2, in headless Chromium at a desktop's and a phone's width: every destructive
action asks first, naming the object, and nothing happens when the user says no. Each dialog is
read from the browser (the real `window.confirm`), then dismissed or accepted."""
import re
from pathlib import Path

import pytest

from cloudproj.testing.browser import WIDTHS, answer_confirmation
from compute.models import KeyPair
from compute.services import keypairs
from images.models import Image
from secgroups.models import SecurityGroup, SecurityGroupRule
from secgroups.services import groups
from volumes.models import Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
@pytest.mark.parametrize("width", WIDTHS)
def test_destructive_actions_confirm_with_the_objects_name(browser, make_account, make_instance, flavor, width):
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    keypairs.create_keypair(user, "old-laptop", project=project)
    group = groups.create_group(project.id, "web-tier", "web servers")
    rule = SecurityGroupRule.objects.create(parent_group=group, protocol="tcp", from_port=22, to_port=22,
                                            cidr="10.0.0.0/8")
    volume = Volume.objects.create(name="db-data", size=1, availability_zone="nova", project_id=project.id,
                                   user_id=user.id, status="available")
    image = Image.objects.create(name="golden-debian", owner=project, visibility="private", status=Image.ACTIVE,
                                 disk_format="qcow2", container_format="bare", size=1024)
    server = make_instance(project, user, name="payroll-db")
    browser.login("demo-user")

    browser.get("/dashboard/keypairs/")
    delete = browser.find('button[aria-label="Delete key pair old-laptop"]')
    assert answer_confirmation(browser, delete, accept=False) == "Delete key pair old-laptop?"
    browser.screenshot(f"{width}-keypair-kept")
    assert browser.find("#keypair-old-laptop").is_displayed() and KeyPair.objects.filter(name="old-laptop").exists()
    answer_confirmation(browser, browser.find('button[aria-label="Delete key pair old-laptop"]'), accept=True)
    browser.wait(lambda d: not d.find_elements("css selector", "#keypair-old-laptop"), 20, "the key pair's row to go")
    assert not KeyPair.objects.filter(name="old-laptop").exists()

    browser.get(f"/dashboard/security-groups/{group.pk}/")
    question = answer_confirmation(browser, browser.find(f"#rule-{rule.pk} button.danger"), accept=False)
    assert question == "Delete the ingress rule tcp 22 from 10.0.0.0/8 of web-tier?"
    assert SecurityGroupRule.objects.filter(pk=rule.pk).exists()
    browser.get("/dashboard/security-groups/")
    assert answer_confirmation(browser, browser.find('button[aria-label="Delete security group web-tier"]'),
                  accept=False) == "Delete security group web-tier?"
    assert SecurityGroup.objects.filter(pk=group.pk).exists()

    browser.get("/dashboard/volumes/")
    assert answer_confirmation(browser, browser.find('button[aria-label="Delete volume db-data"]'),
                  accept=False) == "Delete volume db-data?"
    assert Volume.objects.get(pk=volume.pk).status == "available"
    browser.get("/dashboard/images/")
    assert answer_confirmation(browser, browser.find('button[aria-label="Delete image golden-debian"]'),
                  accept=False) == "Delete image golden-debian?"
    assert Image.objects.get(pk=image.pk).status == Image.ACTIVE

    browser.get("/dashboard/instances/")
    for label in ("Hard reboot", "Stop", "Delete"):
        button = browser.find(f'button[aria-label="{label} payroll-db"]')
        assert answer_confirmation(browser, button, accept=False) == f"{label} payroll-db?"
    browser.screenshot(f"{width}-instance-actions-asked")
    server.refresh_from_db()
    assert (server.vm_state, server.task_state) == ("active", None)
    browser.get(f"/dashboard/instances/{server.uuid}/")
    for label in ("Hard reboot", "Stop", "Delete instance"):
        button = browser.driver.find_element("xpath", f'//section[@aria-labelledby="actions-h"]//button[.="{label}"]')
        name = "Delete" if label == "Delete instance" else label
        assert answer_confirmation(browser, button, accept=False) == f"{name} payroll-db?"
    server.refresh_from_db()
    assert (server.vm_state, server.task_state) == ("active", None)


def test_every_danger_button_in_the_templates_asks_first():
    """A new destructive button without data-confirm fails here before it reaches a user."""
    root = Path(__file__).resolve().parents[2] / "templates"
    missing = []
    for path in root.rglob("*.html"):
        for tag in re.findall(r"<button[^>]*\bdanger\b[^>]*>", path.read_text()):
            if "data-confirm=" not in tag:
                missing.append(f"{path.relative_to(root)}: {tag}")
    assert not missing, missing
