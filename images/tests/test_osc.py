"""The real OpenStack client against a live server."""
import pytest

from images import services

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_openstack_image_list_and_show(osc, admin_account, raw_file):
    image = services.register_image(raw_file, "cirros-like", "raw", visibility="public",
                                     properties={"architecture": "x86_64"})
    listed = osc("image", "list")
    assert [(row["ID"], row["Name"], row["Status"]) for row in listed] == [(str(image.id), "cirros-like", "active")]
    shown = osc("image", "show", "cirros-like")
    assert shown["id"] == str(image.id)
    assert shown["checksum"] == image.checksum
    assert shown["size"] == raw_file.stat().st_size
    assert shown["disk_format"] == "raw" and shown["visibility"] == "public"
    shown_by_id = osc("image", "show", str(image.id))
    assert shown_by_id["name"] == "cirros-like"
