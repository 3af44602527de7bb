"""POST /servers/{id}/action and /servers/{id}/metadata as a client sees them. States are
moved in the DB as a host would move them; no worker runs, so a request stays in its task
state (rebooting, powering-off...) and nothing reaches a hypervisor."""
import pytest

from cloudproj.testing.clients import TokenClient
from cloudproj.testing.servers import API, act, error, instance, make_active, show
from compute import states
from compute.services import host_resources
from compute.services import instances as instance_service
from compute.services.operations import ACTION_TASK_STATES
from identity.services import quotas

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _paths(paths):
    """Image store, instances and image cache under this test's tmp_path (every test here)."""


T = states.task


# --- state machine -----------------------------------------------------------------------------


def test_start_of_a_building_server_is_409(member_client, server):
    message = error(act(member_client, server, {"os-start": None}), 409)
    assert message == f"Cannot 'start' instance {server} while it is in vm_state building"
    error(act(member_client, server, {"reboot": {"type": "SOFT"}}), 409)
    assert instance(server).task_state == T.SCHEDULING


def test_reboot_of_an_active_server(member_client, server):
    make_active(server)
    response = act(member_client, server, {"reboot": {"type": "SOFT"}})
    assert response.status_code == 202 and response.content == b""
    assert instance(server).task_state == T.REBOOTING
    assert show(member_client, server)["status"] == "REBOOT"
    # a second soft reboot while one runs is refused; a hard one may interrupt it
    error(act(member_client, server, {"reboot": {"type": "SOFT"}}), 409)
    assert act(member_client, server, {"reboot": {"type": "hard"}}).status_code == 202
    assert show(member_client, server)["status"] == "HARD_REBOOT"


@pytest.mark.parametrize(
    "action, vm_state, api_action",
    [
        ("os-stop", states.ACTIVE, "stop"),
        ("os-start", states.STOPPED, "start"),
        ("pause", states.ACTIVE, "pause"),
        ("unpause", states.PAUSED, "unpause"),
        ("suspend", states.ACTIVE, "suspend"),
        ("resume", states.SUSPENDED, "resume"),
    ],
)
def test_power_actions_set_their_task_state(member_client, server, action, vm_state, api_action):
    row = make_active(server)
    instance_service.update_state(row, vm_state=vm_state)
    assert act(member_client, server, {action: None}).status_code == 202
    assert instance(server).task_state == ACTION_TASK_STATES[(api_action, None)]
    error(act(member_client, server, {action: None}), 409)  # busy now


def test_pause_of_a_stopped_server_is_409(member_client, server):
    row = make_active(server)
    instance_service.update_state(row, vm_state=states.STOPPED, power_state=4)
    assert "vm_state stopped" in error(act(member_client, server, {"pause": None}), 409)
    assert show(member_client, server)["status"] == "SHUTOFF"


@pytest.mark.parametrize(
    "body",
    [
        {"reboot": {}},
        {"reboot": {"type": "GENTLE"}},
        {"reboot": None},
        {"reboot": {"type": "SOFT", "force": True}},
        {"fly": None},
        {"os-stop": None, "os-start": None},
        {},
        ["os-stop"],
        {"rebuild": {}},
        {"rebuild": {"imageRef": "IMG", "colour": "red"}},
        {"os-getConsoleOutput": {"length": "ten"}},
        {"os-getConsoleOutput": {"length": -2}},
        {"os-getConsoleOutput": {"lines": 3}},
    ],
)
def test_bad_action_bodies_are_400(member_client, server, image, body):
    make_active(server)
    if isinstance(body, dict) and isinstance(body.get("rebuild"), dict) and "imageRef" in body["rebuild"]:
        body["rebuild"]["imageRef"] = str(image.id)
    error(act(member_client, server, body), 400)
    assert instance(server).task_state is None


def test_an_empty_accept_header_is_any_type(member_client, server):
    make_active(server)  # openstacksdk sends Accept: "" with actions
    response = member_client.post(f"{API}/servers/{server}/action", {"os-stop": None}, format="json", HTTP_ACCEPT="")
    assert response.status_code == 202


def test_unknown_action_message(member_client, server):
    assert error(act(member_client, server, {"fly": None}), 400) == "There is no such action: fly"


def test_rebuild_answers_the_server(member_client, server, image):
    make_active(server)
    response = act(member_client, server, {"rebuild": {"imageRef": str(image.id), "name": "fresh",
                                                       "metadata": {"v": "2"}}})
    assert response.status_code == 202
    body = response.json()["server"]
    assert (body["id"], body["name"], body["status"]) == (server, "fresh", "REBUILD")
    assert body["metadata"] == {"v": "2"} and body["image"]["id"] == str(image.id)
    # Nova's rebuild answer: no extension attributes, and an admin password
    assert not any(key.startswith(("OS-EXT", "OS-SRV-USG", "os-extended")) for key in body)
    assert "security_groups" not in body and "key_name" not in body and "config_drive" not in body
    assert isinstance(body["adminPass"], str) and len(body["adminPass"]) == 12
    assert instance(server).task_state == T.REBUILDING
    missing = "c0ffee00-0000-0000-0000-000000000000"
    row = instance(server)
    instance_service.update_state(row, task_state=None)
    assert error(act(member_client, server, {"rebuild": {"imageRef": missing}}), 400) == "Cannot find image for rebuild"


@pytest.fixture
def host_answers(monkeypatch):
    """The host's agent answering rpc.call: the registered task runs here, in-process (the
    same code the agent runs; only the broker round trip is skipped)."""
    import compute.tasks  # noqa: F401 - registers the tasks
    from cloudproj.celery import app
    from cloudproj import rpc

    monkeypatch.setattr(rpc, "call", lambda host, name, *args, timeout=None: app.tasks[name].run(*args))


def test_console_output(member_client, server, host_answers):
    error(act(member_client, server, {"os-getConsoleOutput": {}}), 409)  # not on a host yet
    row = make_active(server)
    path = host_resources.console_path(row)
    path.parent.mkdir(parents=True)
    path.write_text("boot\x07ing\nline 2\nline 3\n")
    # Nova's count: the log split at newlines, the last `length` pieces (tempest asks for 3 and
    # splits what it gets at newlines: 3 pieces; the last one, after the final newline, is empty)
    response = act(member_client, server, {"os-getConsoleOutput": {"length": 3}})
    assert response.status_code == 200
    assert response.json() == {"output": "line 2\nline 3\n"}
    assert len(response.json()["output"].split("\n")) == 3
    assert act(member_client, server, {"os-getConsoleOutput": {"length": None}}).json()["output"] == (
        "booting\nline 2\nline 3\n")
    assert act(member_client, server, {"os-getConsoleOutput": {"length": -1}}).json()["output"].startswith("boot")
    assert act(member_client, server, {"os-getConsoleOutput": {"length": "2"}}).json()["output"] == "line 3\n"
    assert act(member_client, server, {"os-getConsoleOutput": None}).status_code == 200


def test_console_output_of_a_silent_host_is_503(member_client, server, settings, monkeypatch):
    from celery.result import AsyncResult

    from cloudproj.celery import app

    settings.HOST_CALL_TIMEOUT = 0.3
    monkeypatch.setattr(app, "send_task", lambda *args, **kwargs: AsyncResult("no-such-task", app=app))
    make_active(server)
    assert "did not answer" in error(act(member_client, server, {"os-getConsoleOutput": {}}), 503)


def test_policy_per_action(make_account, member_client, server):
    make_active(server)
    reader = TokenClient(make_account("demo", "reader", username="demo-reader")[2])
    assert "compute:servers:reboot" in error(act(reader, server, {"reboot": {"type": "HARD"}}), 403)
    assert "compute:servers:stop" in error(act(reader, server, {"os-stop": None}), 403)
    assert instance(server).task_state is None


def test_locked_server_refuses_owner_actions(member_client, admin_client, server):
    row = make_active(server)
    instance_service.update_state(row, locked=True, locked_by="admin")
    assert "locked" in error(act(member_client, server, {"os-stop": None}), 409)
    error(member_client.post(f"{API}/servers/{server}/metadata", {"metadata": {"a": "b"}}, format="json"), 409)
    assert act(admin_client, server, {"os-stop": None}).status_code == 202


# --- metadata ----------------------------------------------------------------------------------


def meta_url(server_id, key=None):
    return f"{API}/servers/{server_id}/metadata" + (f"/{key}" if key else "")


def test_metadata_semantics(member_client, server):
    make_active(server)  # metadata changes need a settled server (Nova: active/paused/suspended/stopped)
    assert member_client.get(meta_url(server)).json() == {"metadata": {}}
    merged = member_client.post(meta_url(server), {"metadata": {"a": "1", "b": "2"}}, format="json")
    assert merged.status_code == 200 and merged.json() == {"metadata": {"a": "1", "b": "2"}}
    merged = member_client.post(meta_url(server), {"metadata": {"b": "3", "c": "4"}}, format="json")
    assert merged.json() == {"metadata": {"a": "1", "b": "3", "c": "4"}}  # POST merges
    replaced = member_client.put(meta_url(server), {"metadata": {"z": "9"}}, format="json")
    assert replaced.json() == {"metadata": {"z": "9"}}  # PUT replaces
    assert member_client.get(meta_url(server, "z")).json() == {"meta": {"z": "9"}}
    item = member_client.put(meta_url(server, "y"), {"meta": {"y": "8"}}, format="json")
    assert item.status_code == 200 and item.json() == {"meta": {"y": "8"}}
    assert member_client.get(meta_url(server)).json() == {"metadata": {"z": "9", "y": "8"}}
    assert member_client.delete(meta_url(server, "z")).status_code == 204
    assert show(member_client, server)["metadata"] == {"y": "8"}
    assert instance(server).metadata == {"y": "8"}
    assert error(member_client.get(meta_url(server, "z")), 404) == "Metadata item was not found"
    assert error(member_client.delete(meta_url(server, "z")), 404) == "Metadata item was not found"


@pytest.mark.parametrize(
    "method, key, body, message",
    [
        ("put", "k", {"meta": {"other": "v"}}, "Request body and URI mismatch"),
        ("put", "k", {"meta": {"k": "v", "j": "w"}}, "Request body contains too many items"),
        ("put", "k", {"meta": {"k": 1}}, "string"),
        ("put", "k", {"metadata": {"k": "v"}}, "Malformed"),
        ("post", None, {"metadata": {"k": "x" * 256}}, "255"),
        ("post", None, {"metadata": {"": "v"}}, "key"),
        ("post", None, {"metadata": ["k"]}, "Malformed"),
        ("put", None, {"meta": {"k": "v"}}, "Malformed"),
        ("put", None, {"metadata": {"k": None}}, "string"),
    ],
)
def test_metadata_bad_input_is_400(member_client, server, method, key, body, message):
    make_active(server)  # metadata changes need a settled server (Nova: active/paused/suspended/stopped)
    response = getattr(member_client, method)(meta_url(server, key), body, format="json")
    assert message in error(response, 400)
    assert instance(server).metadata == {}


def test_metadata_quota_is_403(member_client, member_account, server):
    make_active(server)  # metadata changes need a settled server (Nova: active/paused/suspended/stopped)
    quotas.set_quota(member_account[1], "metadata_items", 2)
    member_client.post(meta_url(server), {"metadata": {"a": "1", "b": "2"}}, format="json")
    message = error(member_client.post(meta_url(server), {"metadata": {"c": "3"}}, format="json"), 403)
    assert "Maximum number of metadata items exceeds 2" in message
    assert member_client.put(meta_url(server, "a"), {"meta": {"a": "x"}}, format="json").status_code == 200
    assert instance(server).metadata == {"a": "x", "b": "2"}


def test_metadata_of_another_project_is_404(other_client, server):
    error(other_client.get(meta_url(server)), 404)
    error(other_client.put(meta_url(server, "k"), {"meta": {"k": "v"}}, format="json"), 404)
    error(other_client.delete(meta_url(server, "k")), 404)
