"""Issue 20, item 5 (live lists), in headless Chromium at a desktop's and a phone's width: a volume
being created and an image being saved show their new status without the page being reloaded,
and the polling stops once nothing is changing. The status changes are written to the database
as the volume host and the snapshot upload would (no storage host here: their own tests run them)."""
import pytest

from cloudproj.testing.browser import WIDTHS
from images.models import Image
from volumes.models import Volume

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", WIDTHS)
def test_volumes_and_images_update_live(browser, make_account, settings, width):
    settings.DASHBOARD_POLL_SECONDS = 0.5
    browser.driver.set_window_size(*WIDTHS[width])
    user, project, _ = make_account("demo", "member", username="demo-user")
    volume = Volume.objects.create(name="db-data", size=1, availability_zone="nova", project_id=project.id,
                                   user_id=user.id, status="creating")
    image = Image.objects.create(name="web-snap", owner=project, visibility="private", status=Image.SAVING,
                                 disk_format="qcow2", container_format="bare")
    browser.login("demo-user")

    browser.get("/dashboard/volumes/")
    browser.driver.execute_script("window.notReloaded = true")
    assert browser.find(f"#volume-{volume.uuid} .status").text == "creating"
    Volume.objects.filter(pk=volume.pk).update(status="available")
    browser.wait(lambda d: d.find_element("css selector", f"#volume-{volume.uuid} .status").text == "available",
                 15, "the volume's new status")
    assert browser.driver.execute_script("return window.notReloaded === true")
    assert browser.find("#volume-tables").get_attribute("hx-trigger") is None  # nothing changing: no more polls
    browser.screenshot(f"{width}-volume-available")

    browser.get("/dashboard/images/")
    browser.driver.execute_script("window.notReloaded = true")
    assert browser.find(f"#image-{image.id} .status").text == "saving"
    Image.objects.filter(pk=image.pk).update(status=Image.ACTIVE, size=1024)
    browser.wait(lambda d: d.find_element("css selector", f"#image-{image.id} .status").text == "active",
                 15, "the image's new status")
    assert browser.driver.execute_script("return window.notReloaded === true")
    assert browser.find("#image-table").get_attribute("hx-trigger") is None
    browser.screenshot(f"{width}-image-active")
