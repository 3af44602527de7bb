"""Images panel: list (own, public, shared with the project), upload through the image
service (size cap, qemu-img format checks), edit, delete, launch from an image."""
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from images.models import Image, ImageMember


@pytest.fixture(autouse=True)
def image_store(settings, tmp_path):
    settings.IMAGE_STORE_PATH = tmp_path / "store"
    return settings


@pytest.fixture
def qcow2_bytes(tmp_path):
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "64M"], check=True)
    return path.read_bytes()


def image_of(project, name, visibility=Image.PRIVATE, **fields):
    return Image.objects.create(name=name, owner=project, visibility=visibility, status=Image.ACTIVE,
                                disk_format="qcow2", container_format="bare", size=1024, **fields)


def upload(client, name, data: bytes, disk_format="qcow2", visibility="private", filename="disk.img"):
    return client.post("/dashboard/images/upload/", {
        "name": name, "disk_format": disk_format, "container_format": "bare", "visibility": visibility,
        "file": SimpleUploadedFile(filename, data)})


def test_list_shows_own_public_and_shared_but_not_other_private(member, other):
    mine = image_of(member["project"], "mine")
    public = image_of(other["project"], "their-public", Image.PUBLIC)
    shared = image_of(other["project"], "shared-with-me", Image.SHARED)
    ImageMember.objects.create(image=shared, member_id=member["project"].id)
    image_of(other["project"], "their-private")
    image_of(other["project"], "shared-elsewhere", Image.SHARED)
    page = member["client"].get("/dashboard/images/").content.decode()
    for image in (mine, public, shared):
        assert f'id="image-{image.id}"' in page
    assert "their-private" not in page and "shared-elsewhere" not in page
    row = page.split(f'id="image-{mine.id}"')[1].split("</tr>")[0]
    assert "this project" in row and "private" in row and "qcow2" in row and "1.0\xa0KB" in row
    assert f"/dashboard/images/{mine.id}/edit/" in row
    their_row = page.split(f'id="image-{public.id}"')[1].split("</tr>")[0]
    assert "another project" in their_row and "/edit/" not in their_row  # not theirs to edit
    assert f"/dashboard/instances/launch/?image={public.id}" in their_row


def test_upload_stores_checked_data_and_the_image_becomes_active(member, qcow2_bytes):
    response = upload(member["client"], "uploaded", qcow2_bytes)
    assert response.status_code == 302, response.content[:2000]
    image = Image.objects.get(name="uploaded")
    assert image.status == "active" and image.owner == member["project"] and image.size == len(qcow2_bytes)
    assert image.virtual_size == 64 * 1024 * 1024
    page = member["client"].get("/dashboard/images/").content.decode()
    assert "Image uploaded uploaded." in page and f'id="image-{image.id}"' in page


def test_upload_refusals_are_messages_and_leave_nothing(member, qcow2_bytes, settings):
    client = member["client"]
    response = upload(client, "liar", qcow2_bytes, disk_format="raw")  # data is qcow2, claimed raw
    assert response.status_code == 400
    assert "Image data is in format &#x27;qcow2&#x27;, not &#x27;raw&#x27;." in response.content.decode()
    settings.IMAGE_SIZE_CAP = 4096
    response = upload(client, "huge", b"x" * 100_000, disk_format="raw")
    assert response.status_code == 400 and b"larger than the maximum image size of 4096 bytes" in response.content
    response = upload(client, "", b"", disk_format="nope")
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    response = upload(client, "public-try", qcow2_bytes, visibility="public")  # members may not publicize
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    assert not Image.objects.filter(deleted_at__isnull=True).exists()
    assert not any(p for p in (settings.IMAGE_STORE_PATH).glob("*") if p.is_file() and p.stat().st_size)


def test_admin_may_upload_public(admin, qcow2_bytes):
    assert upload(admin["client"], "pub", qcow2_bytes, visibility="public").status_code == 302
    assert Image.objects.get(name="pub").visibility == "public"


def test_edit_name_visibility_properties(member):
    image = image_of(member["project"], "old", properties={"os_distro": "cirros", "gone": "x"})
    client = member["client"]
    page = client.get(f"/dashboard/images/{image.id}/edit/").content.decode()
    assert "os_distro=cirros" in page and '<label for="id_name">Name</label>' in page
    assert 'value="public"' not in page  # a member may not make it public
    response = client.post(f"/dashboard/images/{image.id}/edit/", {
        "name": "new", "visibility": "shared", "properties": "os_distro=debian\narch=x86_64"})
    assert response.status_code == 302
    image.refresh_from_db()
    assert (image.name, image.visibility, image.properties) == ("new", "shared", {"os_distro": "debian", "arch": "x86_64"})
    response = client.post(f"/dashboard/images/{image.id}/edit/", {"name": "n", "visibility": "public", "properties": ""})
    assert response.status_code == 400 and b"Select a valid choice" in response.content
    response = client.post(f"/dashboard/images/{image.id}/edit/", {"name": "n", "visibility": "shared",
                                                                   "properties": "no equals sign"})
    assert response.status_code == 400 and b"Line 1: write key=value." in response.content
    response = client.post(f"/dashboard/images/{image.id}/edit/", {"name": "n", "visibility": "shared",
                                                                   "properties": "kernel_id=not-an-image"})
    assert response.status_code == 400
    image.refresh_from_db()
    assert image.name == "new" and "kernel_id" not in image.properties  # all or nothing


def test_delete_and_protected(member):
    image = image_of(member["project"], "doomed")
    protected = image_of(member["project"], "keep", protected=True)
    client = member["client"]
    assert client.post(f"/dashboard/images/{image.id}/delete/").status_code == 302
    assert Image.all_objects.get(pk=image.pk).status == "deleted"
    response = client.post(f"/dashboard/images/{protected.id}/delete/", follow=True)
    assert b"is protected and cannot be deleted" in response.content
    assert Image.objects.get(pk=protected.pk).status == "active"
    assert f'id="image-{image.id}"' not in client.get("/dashboard/images/").content.decode()


def test_another_projects_images_are_404_or_403(member, other):
    private = image_of(other["project"], "theirs")
    public = image_of(other["project"], "their-public", Image.PUBLIC)
    client = member["client"]
    assert client.get(f"/dashboard/images/{private.id}/edit/").status_code == 404
    assert client.post(f"/dashboard/images/{private.id}/delete/").status_code == 404
    assert client.get("/dashboard/images/not-a-uuid/edit/").status_code == 404
    assert client.post(f"/dashboard/images/{public.id}/delete/").status_code == 403  # visible, not theirs
    assert client.post(f"/dashboard/images/{public.id}/edit/", {"name": "x", "visibility": "public"}).status_code == 403
    assert Image.objects.filter(status="active").count() == 2
    assert Image.objects.get(pk=public.pk).name == "their-public"


def test_launch_from_image_preselects_it(member, flavor):
    image = image_of(member["project"], "launchable")
    page = member["client"].get(f"/dashboard/instances/launch/?image={image.id}").content.decode()
    assert f'<option value="{image.id}" selected>launchable</option>' in page


def test_image_list_queries_do_not_grow(member, other, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    for n in range(3):
        image_of(member["project"], f"few-{n}")
    with django_assert_max_num_queries(16) as few:
        member["client"].get("/dashboard/images/")
    for n in range(40):
        image_of(member["project"], f"many-{n}")
        shared = image_of(other["project"], f"shared-{n}", Image.SHARED)
        ImageMember.objects.create(image=shared, member_id=member["project"].id)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = member["client"].get("/dashboard/images/").content.decode()
    assert page.count('<tr id="image-') == 50 and "1–50 of 83" in page  # one page of the default size


def test_upload_page_has_labels(member):
    page = member["client"].get("/dashboard/images/upload/").content.decode()
    for field in ("name", "file", "disk_format", "container_format", "visibility"):
        assert f'<label for="id_{field}">' in page
    assert 'enctype="multipart/form-data"' in page


def test_upload_still_checks_csrf(member, qcow2_bytes):
    """The upload view sets its upload handler before the body is read, so it takes CSRF off the
    URL and checks it itself: a post without the token is refused and stores nothing."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies = member["client"].cookies
    response = upload(client, "forged", qcow2_bytes)
    assert response.status_code == 403
    assert not Image.objects.filter(name="forged").exists()
    page = client.get("/dashboard/images/upload/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    response = client.post("/dashboard/images/upload/", {
        "csrfmiddlewaretoken": token, "name": "genuine", "disk_format": "qcow2", "container_format": "bare",
        "visibility": "private", "file": SimpleUploadedFile("disk.img", qcow2_bytes)})
    assert response.status_code == 302 and Image.objects.get(name="genuine").status == "active"
