"""/compute/v2.1/images/ with a trailing slash is an empty image id for DELETE (404 as Nova,
not 405), and still the image list for GET."""
import pytest

from cloudproj.testing.servers import error

API = "/compute/v2.1"


def test_delete_images_with_an_empty_id_is_404(member_account, image):
    from cloudproj.testing.clients import TokenClient

    member_client = TokenClient(member_account[2], enforce_csrf_checks=True)  # as a real client: no cookie
    resp = member_client.delete(f"{API}/images/")
    assert error(resp, 404) == "Image not found."
    assert resp.json() == {"itemNotFound": {"code": 404, "message": "Image not found."}}
    # nothing was deleted, and the list with and without the slash is the same
    with_slash = member_client.get(f"{API}/images/")
    assert with_slash.status_code == 200
    assert [i["id"] for i in with_slash.json()["images"]] == [str(image.id)]
    assert with_slash.json() == member_client.get(f"{API}/images").json()


def test_delete_images_with_an_empty_id_needs_a_token(anon_client):
    assert anon_client.delete(f"{API}/images/").status_code == 401


def test_delete_security_groups_with_an_empty_id_is_404(member_account):
    from cloudproj.testing.clients import TokenClient

    member_client = TokenClient(member_account[2], enforce_csrf_checks=True)
    created = member_client.post(f"{API}/os-security-groups", {"security_group": {"name": "g", "description": "g"}},
                                 format="json")
    assert created.status_code == 200, created.content
    resp = member_client.delete(f"{API}/os-security-groups/")
    assert resp.status_code == 404 and "itemNotFound" in resp.json()
    listed = member_client.get(f"{API}/os-security-groups/").json()["security_groups"]
    assert "g" in [g["name"] for g in listed]  # nothing deleted; the list with the slash is the list
    again = member_client.post(f"{API}/os-security-groups/", {"security_group": {"name": "h", "description": "h"}},
                               format="json")
    assert again.status_code == 200


def test_os_volumes_with_an_empty_id_is_404(member_account, no_volume_tasks):
    from cloudproj.testing.clients import TokenClient

    member_client = TokenClient(member_account[2], enforce_csrf_checks=True)
    for method in ("get", "delete"):
        response = getattr(member_client, method)(f"{API}/os-volumes/")
        assert response.status_code == 404 and "itemNotFound" in response.json(), method
    created = member_client.post(f"{API}/os-volumes/", {"volume": {"size": 1}}, format="json")  # still the list's
    assert created.status_code == 200, created.content
    assert len(member_client.get(f"{API}/os-volumes").json()["volumes"]) == 1


@pytest.fixture
def no_volume_tasks(monkeypatch):
    from cloudproj.celery import app

    monkeypatch.setattr(app, "send_task", lambda *a, **kw: None)
