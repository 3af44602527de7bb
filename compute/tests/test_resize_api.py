"""The resize actions through POST /servers/{id}/action as a client sees them: status codes,
the error envelope for bad input, the status and task state they leave. No worker runs, so a
resize stays in RESIZE (its message to the scheduler is captured)."""
import pytest

from cloudproj.celery import app
from cloudproj.testing.servers import act, error, instance, make_active, show
from compute import states
from compute.models import InstanceAction, InstanceResize
from identity.services import quotas

pytestmark = pytest.mark.django_db

T = states.task


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path."""


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(app, "send_task", lambda name, args=None, queue=None, **kw: calls.append((name, args, queue)))
    return calls


def test_resize_of_an_active_server(member_client, server, sent, django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        response = act(member_client, server, {"resize": {"flavorRef": "2"}})
    assert response.status_code == 202 and response.content == b""
    shown = show(member_client, server)
    assert shown["status"] == "RESIZE" and shown["OS-EXT-STS:task_state"] == T.RESIZE_PREP
    record = InstanceResize.objects.get(instance__uuid=server)
    assert (record.old_flavor["flavorid"], record.new_flavor["flavorid"], record.source_host) == ("1", "2", "host-a")
    assert [(name, queue) for name, _args, queue in sent] == [("compute.prep_resize", "scheduler")]
    assert InstanceAction.objects.filter(instance__uuid=server, action="resize").exists()
    # busy: another resize, a confirm or a revert is refused
    assert "task_state resize_prep" in error(act(member_client, server, {"resize": {"flavorRef": "3"}}), 409)
    error(act(member_client, server, {"confirmResize": None}), 409)
    error(act(member_client, server, {"revertResize": None}), 409)


@pytest.mark.parametrize("asked, shown", [("MANUAL", "MANUAL"), ("AUTO", "AUTO"), (None, "AUTO")])
def test_resize_takes_the_disk_config_it_asks_for(member_client, server, sent, asked, shown):
    """OS-DCF:diskConfig in the resize is the server's from then on (tempest's
    test_resize_server_from_auto_to_manual); without one the server keeps its own."""
    make_active(server)
    assert member_client.put(f"/compute/v2.1/servers/{server}", {"server": {"OS-DCF:diskConfig": "AUTO"}},
                             format="json").status_code == 200
    body = {"flavorRef": "2", **({"OS-DCF:diskConfig": asked} if asked else {})}
    assert act(member_client, server, {"resize": body}).status_code == 202
    assert show(member_client, server)["OS-DCF:diskConfig"] == shown


@pytest.mark.parametrize("body, message", [
    ({"resize": {"flavorRef": "2", "OS-DCF:diskConfig": "auto"}}, "must be AUTO or MANUAL"),
    ({"resize": {"flavorRef": "1"}}, "must change flavor"),
    ({"resize": {"flavorRef": "no-such"}}, "Unable to locate requested flavor."),
    ({"resize": {}}, "flavorRef"),
    ({"resize": {"flavorRef": True}}, "flavorRef"),
    ({"resize": {"flavorRef": "2", "size": 3}}, "additional properties"),
    ({"resize": None}, "must be an object"),
    ({"confirmResize": {"now": True}}, "must be null"),
])
def test_bad_resize_requests_are_400(member_client, server, sent, body, message):
    make_active(server)
    assert message in error(act(member_client, server, body), 400)
    assert instance(server).task_state is None and not InstanceResize.objects.exists() and not sent


def test_resize_of_a_building_server_is_409(member_client, server, sent):
    message = error(act(member_client, server, {"resize": {"flavorRef": "2"}}), 409)
    assert message == f"Cannot 'resize' instance {server} while it is in vm_state building"


def test_confirm_or_revert_without_a_resize_is_409(member_client, server, sent):
    make_active(server)
    assert "vm_state active" in error(act(member_client, server, {"confirmResize": None}), 409)
    assert "vm_state active" in error(act(member_client, server, {"revertResize": None}), 409)


def test_resize_over_the_ram_quota_is_403(member_client, server, sent):
    row = make_active(server)
    quotas.set_quota(row.project_id, "ram", row.memory_mb + 100)
    message = error(act(member_client, server, {"resize": {"flavorRef": "3"}}), 403)
    assert "Quota exceeded" in message and "ram" in message
    assert show(member_client, server)["status"] == "ACTIVE" and not InstanceResize.objects.exists()


def test_verify_resize_then_confirm_and_revert_are_accepted(member_client, server, sent,
                                                           django_capture_on_commit_callbacks):
    make_active(server)
    with django_capture_on_commit_callbacks(execute=True):
        act(member_client, server, {"resize": {"flavorRef": "2"}})
    # as the hosts leave it once the new flavor runs
    record = InstanceResize.objects.get(instance__uuid=server)
    record.status, record.dest_host = InstanceResize.FINISHED, "host-a"
    record.save()
    from compute.services.instances import update_state

    update_state(instance(server), vm_state=states.RESIZED, task_state=None)
    assert show(member_client, server)["status"] == "VERIFY_RESIZE"
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(member_client, server, {"revertResize": None})
    assert response.status_code == 202
    assert show(member_client, server)["status"] == "REVERT_RESIZE"
    assert [(name, queue) for name, _a, queue in sent] == [("compute.revert_resize", "compute.host-a")]
    error(act(member_client, server, {"confirmResize": None}), 409)  # reverting now

    update_state(instance(server), task_state=None)
    record.refresh_from_db()
    record.status = InstanceResize.FINISHED
    record.save()
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = act(member_client, server, {"confirmResize": None})
    assert response.status_code == 204
    assert [(name, queue) for name, _a, queue in sent] == [("compute.confirm_resize", "compute.host-a")]
    actions = set(InstanceAction.objects.filter(instance__uuid=server).values_list("action", flat=True))
    assert {"resize", "revertResize", "confirmResize"} <= actions
