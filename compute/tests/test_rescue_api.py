"""rescue / unrescue through POST /servers/{id}/action as a client sees them (no worker: the
message to the host is captured)."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.servers import act, error, instance, make_active, show
from compute import states
from compute.services.instances import update_state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path."""


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


def test_rescue_answers_a_password_and_goes_to_the_host(member_client, server, sent, image,
                                                       django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(member_client, server, {"rescue": {"adminPass": "s3cret", "rescue_image_ref": str(image.id)}})
    assert response.status_code == 200 and response.json() == {"adminPass": "s3cret"}
    assert show(member_client, server)["OS-EXT-STS:task_state"] == states.task.RESCUING
    ((name, args, queue),) = sent
    assert (name, queue, args[2], args[3]["image_id"]) == ("compute.instance_action", "compute.host-a", "rescue",
                                                          str(image.id))
    error(act(member_client, server, {"rescue": None}), 409)  # busy

    update_state(instance(server), vm_state=states.RESCUED, task_state=None)
    assert show(member_client, server)["status"] == "RESCUE"
    assert "vm_state rescued" in error(act(member_client, server, {"os-stop": None}), 409)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert act(member_client, server, {"unrescue": None}).status_code == 202
    assert sent[0][1][2] == "unrescue" and instance(server).task_state == states.task.UNRESCUING


@pytest.mark.parametrize("body, code, message", [
    ({"rescue": {"rescue_image_ref": "no-such-image"}}, 400, "Cannot find the rescue image"),
    ({"rescue": {"adminPass": 5}}, 400, "adminPass"),
    ({"rescue": {"flavor": "1"}}, 400, "additional properties"),
    ({"unrescue": {"x": 1}}, 400, "must be null"),
    ({"unrescue": None}, 409, "vm_state active"),
])
def test_bad_rescue_requests(member_client, server, sent, body, code, message):
    make_active(server)
    assert message in error(act(member_client, server, body), code)
    assert instance(server).task_state is None and not sent


def test_rescue_without_a_body_makes_up_a_password(member_client, server, sent):
    make_active(server)
    response = act(member_client, server, {"rescue": None})
    assert response.status_code == 200 and len(response.json()["adminPass"]) >= 8


# --- shelve ----------------------------------------------------------------------------------------


def test_shelve_then_unshelve_requests(member_client, admin_client, server, sent, django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        assert act(member_client, server, {"shelve": None}).status_code == 202
    assert instance(server).task_state == states.task.SHELVING
    ((name, args, queue),) = sent
    assert (name, queue, args[2]) == ("compute.instance_action", "compute.host-a", "shelve")
    from images.models import Image

    image = Image.objects.get(id=args[3]["image_id"])
    assert image.properties["shelved_instance"] == server and image.visibility == "private"

    update_state(instance(server), vm_state=states.SHELVED, task_state=None)
    assert show(member_client, server)["status"] == "SHELVED"
    # offload is an admin's (as Nova's policy)
    assert error(act(member_client, server, {"shelveOffload": None}), 403)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert act(admin_client, server, {"shelveOffload": None}).status_code == 202
    assert sent[0][1][2] == "shelveOffload"

    update_state(instance(server), vm_state=states.SHELVED_OFFLOADED, task_state=None, host=None)
    assert show(member_client, server)["status"] == "SHELVED_OFFLOADED"
    # no active shelved image yet (the host never uploaded it): nothing to unshelve from
    assert "no shelved image" in error(act(member_client, server, {"unshelve": None}), 409)
    Image.objects.filter(pk=image.pk).update(status="active")
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert act(member_client, server, {"unshelve": None}).status_code == 202
    assert [(n, q) for n, _a, q in sent] == [("compute.unshelve_schedule", "scheduler")]


@pytest.mark.parametrize("body, code", [
    ({"shelve": {"x": 1}}, 400), ({"unshelve": None}, 409), ({"unshelve": {"az": "x"}}, 400),
])
def test_bad_shelve_requests(member_client, server, sent, body, code):
    make_active(server)
    error(act(member_client, server, body), code)
    assert instance(server).task_state is None and not sent
