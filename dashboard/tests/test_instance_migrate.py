"""Cold migration and evacuation from the dashboard, for admins (dashboard/views/instance_migrate.py
and its partial _migrate.html): the form lists the other hosts, a post sends the move to the
scheduler, evacuate is offered only while the server's host is down, a member is refused,
another project's server is 404 (messages captured: no worker)."""
from unittest import mock

import pytest
from django.template.loader import render_to_string

from cloudproj.testing.factories import make_host
from compute import states
from compute.models import Instance, InstanceResize, Migration, Service
from dashboard.views.instance_migrate import live_migration_service, migrate_context
from identity.services.context import RequestContext


OFFERED = live_migration_service() is not None  # compute/services/live_migration.py (another branch)


@pytest.fixture
def hosts(db):
    return make_host("host-a"), make_host("host-b")


def _ctx(account):
    role = "admin" if account["user"].username == "admin" else "member"
    return RequestContext(user=account["user"], project=account["project"], roles=frozenset({role}))


def test_admin_migrates_from_the_page(admin, make_instance, hosts, django_capture_on_commit_callbacks):
    instance = make_instance(admin["project"], admin["user"], name="mv", vm_state=states.ACTIVE, task_state=None,
                             host="host-a")
    context = migrate_context(_ctx(admin), instance)
    assert context == {"can_migrate": True, "can_live_migrate": OFFERED, "can_evacuate": False, "migrate_hosts": ["host-b"]}
    html = render_to_string("dashboard/instances/_migrate.html", {"instance": instance, **context})
    assert 'id="migrate-form"' in html and '<option value="host-b">host-b</option>' in html
    assert 'value="host-a"' not in html
    page = admin["client"].get(f"/dashboard/instances/{instance.uuid}/").content.decode()
    assert 'id="migrate-form"' in page  # on the instance page's overview tab

    page = f"/dashboard/instances/{instance.uuid}/"
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = admin["client"].post(page + "migrate/", {"host": "host-b"})
    assert "Migrating mv to host-b." in admin["client"].get(response["Location"]).content.decode()
    assert send.call_args.args[0] == "compute.prep_resize"
    row = Instance.objects.get(pk=instance.pk)
    assert (row.status, row.task_state) == ("RESIZE", states.task.RESIZE_PREP)
    record = InstanceResize.objects.get(instance=row)
    assert (record.kind, record.requested_host) == ("migration", "host-b")
    # busy now: a second one is refused with the API's reason
    response = admin["client"].post(page + "migrate/", {"host": ""})
    assert "Cannot &#x27;migrate&#x27;" in admin["client"].get(response["Location"]).content.decode()


def test_members_are_refused_and_other_projects_get_404(member, other, make_instance, hosts):
    mine = make_instance(member["project"], member["user"], name="mine", vm_state=states.ACTIVE, task_state=None,
                         host="host-a")
    assert migrate_context(_ctx(member), mine) == {"can_migrate": False, "can_live_migrate": False,
                                                   "can_evacuate": False, "migrate_hosts": []}
    assert 'id="migrate-form"' not in render_to_string("dashboard/instances/_migrate.html",
                                                       {"instance": mine, **migrate_context(_ctx(member), mine)})
    response = member["client"].post(f"/dashboard/instances/{mine.uuid}/migrate/", {"host": ""})
    assert response.status_code in (302, 403)
    assert not InstanceResize.objects.exists()
    theirs = make_instance(other["project"], other["user"], name="theirs", host="host-a")
    assert member["client"].post(f"/dashboard/instances/{theirs.uuid}/migrate/", {"host": ""}).status_code == 404
    Service.objects.filter(host="host-a").update(forced_down=True)
    assert 'id="evacuate-form"' not in member["client"].get(f"/dashboard/instances/{mine.uuid}/").content.decode()
    response = member["client"].post(f"/dashboard/instances/{mine.uuid}/evacuate/", {"host": ""})
    assert response.status_code in (302, 403)
    assert not Migration.objects.exists() and Instance.objects.get(pk=mine.pk).task_state is None
    assert member["client"].post(f"/dashboard/instances/{theirs.uuid}/evacuate/", {"host": ""}).status_code == 404


def test_live_migrate_is_on_the_page_only_where_the_service_offers_it(admin, make_instance, hosts,
                                                                     django_capture_on_commit_callbacks):
    instance = make_instance(admin["project"], admin["user"], name="lm", vm_state=states.ACTIVE, task_state=None,
                             host="host-a")
    client, page = admin["client"], f"/dashboard/instances/{instance.uuid}/"
    assert ('id="live-migrate-form"' in client.get(page).content.decode()) == OFFERED
    with mock.patch("cloudproj.rpc.app.send_task"), django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "live-migrate/", {"host": "host-b"})
    text = client.get(response["Location"]).content.decode()
    if OFFERED:
        assert "Live migrating lm to host-b." in text
        assert Instance.objects.get(pk=instance.pk).task_state == states.task.MIGRATING
    else:
        assert "Live migration is not offered by this cloud" in text
        assert Instance.objects.get(pk=instance.pk).task_state is None


def test_admin_evacuates_a_server_of_a_down_host_from_the_page(admin, make_instance, hosts,
                                                               django_capture_on_commit_callbacks):
    instance = make_instance(admin["project"], admin["user"], name="ev", vm_state=states.ACTIVE, task_state=None,
                             host="host-a")
    client, page = admin["client"], f"/dashboard/instances/{instance.uuid}/"
    html = client.get(page).content.decode()
    assert 'id="migrate-form"' in html and 'id="evacuate-form"' not in html  # host-a is up
    response = client.post(page + "evacuate/", {"host": ""})  # posted anyway: the service's refusal
    assert "Compute service of host-a is still in use." in client.get(response["Location"]).content.decode()
    assert not Migration.objects.exists()

    Service.objects.filter(host="host-a").update(forced_down=True)  # host-a died
    html = client.get(page).content.decode()
    assert 'id="evacuate-form"' in html and "Host host-a is down." in html
    assert '<option value="host-b">host-b</option>' in html.split('id="evacuate-form"')[1]
    with mock.patch("cloudproj.rpc.app.send_task") as send, django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "evacuate/", {"host": "host-b"})
    assert ("Evacuating ev to host-b: it is rebuilt from its image."
            in client.get(response["Location"]).content.decode())
    assert send.call_args.args[0] == "compute.evacuate_schedule"
    row = Instance.objects.get(pk=instance.pk)
    assert (row.status, row.task_state) == ("REBUILD", states.task.REBUILDING)
    migration = Migration.objects.get(instance_uuid=instance.uuid)
    assert (migration.migration_type, migration.status, migration.dest_compute) == ("evacuation", "accepted", "host-b")
    assert 'id="evacuate-form"' not in client.get(page).content.decode()  # busy now
