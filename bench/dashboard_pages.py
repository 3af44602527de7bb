"""How fast dashboard pages answer with many instances (issue 6, again issue 20: under 300 ms
with 1,000, including the sorted, paged tables and the settings page).

    DATABASE_URL=postgres://... .venv/bin/python bench/dashboard_pages.py [--instances 1000] [--runs 20]

Creates a throw-away test database (test_<name>), fills one project with N instances (each
with a fixed IP, every 4th with a floating IP, action records), a second project with as many
(which must not slow the first one down), logs in with Django's test client and times each
page in-process (no network, so this is the server's time). Prints median / p95 / max and
the query count per page. Not a pass/fail test. "member" and "admin" have the default page size
(DASHBOARD_PAGE_SIZE); "wide" is a second member of the project whose setting is 200 rows a page
(the most a user may choose).
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")

import django

django.setup()

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_test_environment


def populate(count: int):
    import uuid

    from django.utils import timezone

    from compute.models import ComputeNode, Instance, InstanceAction, KeyPair, Service
    from floating.models import FloatingIP
    from identity.services import accounts
    from identity.models import Role
    from network.models import FixedIP
    from network.services.networks import create_network

    accounts.ensure_default_roles()
    projects = {}
    for name, role in (("bench", "member"), ("noise", "member"), ("admin", "admin")):
        project = accounts.create_project(name)
        user = accounts.create_user(f"{name}-user", "bench-pass", default_project=project)
        accounts.assign_role(user, Role.objects.get(name=role), project)
        projects[name] = (project, user)
    wide = accounts.create_user("wide-user", "bench-pass", default_project=projects["bench"][0])
    accounts.assign_role(wide, Role.objects.get(name="member"), projects["bench"][0])
    from dashboard.models import PAGE_SIZE_MAX, UserSettings

    UserSettings.objects.create(user=wide, page_size=PAGE_SIZE_MAX, timezone="Europe/Paris")
    for i in range(20):
        service = Service.objects.create(host=f"bench-{i}", binary="nova-compute", topic="compute",
                                         availability_zone="nova", last_seen_up=timezone.now())
        node = ComputeNode(service=service, host=service.host, hypervisor_hostname=service.host,
                           vcpus=32, memory_mb=65536, local_gb=1000, vcpus_used=i, memory_mb_used=512 * i)
        node.recompute_free()
        node.save()
    network = create_network("benchnet", "10.250.0.0/20", bridge="cptbench0")
    free = list(FixedIP.objects.filter(network=network, reserved=False).order_by("id")[: 2 * count])
    rows, now = [], timezone.now()
    for index in range(2 * count):
        project, user = projects["bench" if index < count else "noise"]
        rows.append(Instance(
            uuid=uuid.uuid4(), display_name=f"vm-{index}", hostname=f"vm-{index}", project=project, user=user,
            flavorid="m1.tiny", flavor_name="m1.tiny", memory_mb=512, vcpus=1, reservation_id="r-bench",
            vm_state="active", power_state=1, host=f"bench-{index % 20}", key_name="bench-key",
            image_ref=str(uuid.uuid4()), created_at=now - timezone.timedelta(minutes=index),
            launched_at=now - timezone.timedelta(minutes=index)))
    Instance.objects.bulk_create(rows, batch_size=500)
    for instance, fixed in zip(rows, free):
        fixed.instance_uuid, fixed.allocated = instance.uuid, True
    FixedIP.objects.bulk_update(free, ["instance_uuid", "allocated"], batch_size=500)
    FloatingIP.objects.bulk_create([
        FloatingIP(address=f"172.30.{i // 250}.{i % 250 + 1}", pool="nova", project=projects["bench"][0],
                   fixed_ip=fixed, instance_uuid=fixed.instance_uuid)
        for i, fixed in enumerate(free[:count:4])])
    InstanceAction.objects.bulk_create([
        InstanceAction(instance=instance, action="create", request_id=f"req-{instance.uuid}",
                       project_id=instance.project_id) for instance in rows])
    # nothing changed lately: a poll then carries only the few rows that do change
    Instance.objects.update(updated_at=now - timezone.timedelta(hours=1))
    Instance.objects.filter(pk__in=[r.pk for r in rows[:count:100]]).update(updated_at=timezone.now())
    KeyPair.objects.bulk_create([
        KeyPair(user=projects["bench"][1], name=f"key-{i}", public_key="ssh-rsa AAAA", fingerprint="00")
        for i in range(50)])
    populate_admin_panels(projects)
    project_panels(projects, count)
    return rows[0]


def populate_admin_panels(projects):
    """What the admin panels list: 100 more projects with a user each, 50 flavors with extra
    specs (half private, each shared with a project), a second network, a floating range."""
    from compute.models import Flavor, FlavorAccess, FlavorExtraSpec
    from floating.services.ranges import create_range
    from identity.services import accounts
    from identity.models import Role
    from network.services.networks import create_network

    member = Role.objects.get(name="member")
    extra = []
    for i in range(100):
        project = accounts.create_project(f"extra-{i}")
        accounts.assign_role(accounts.create_user(f"extra-{i}-user", "bench-pass", default_project=project),
                             member, project)
        extra.append(project)
    for i in range(50):
        flavor = Flavor.objects.create(flavorid=f"bench.{i}", name=f"bench.{i}", memory_mb=256 * (i + 1),
                                       vcpus=1 + i % 8, root_gb=i, is_public=i % 2 == 0)
        FlavorExtraSpec.objects.create(flavor=flavor, key="hw:cpu_policy", value="shared")
        if not flavor.is_public:
            FlavorAccess.objects.create(flavor=flavor, project_id=extra[i].id)
    create_network("benchnet2", "10.250.16.0/24", bridge="cptbench1", project=projects["noise"][0])
    create_range("172.31.0.0/22", pool="bench-public")


def project_panels(projects, count: int) -> None:
    """What the project panels list: images (own, public, shared), volumes (a quarter of them
    attached) with snapshots, security groups with rules, EC2 credentials; scaled to `count`."""
    import uuid

    from identity.models import Ec2Credential
    from images.models import Image, ImageMember
    from secgroups.models import SecurityGroup, SecurityGroupRule
    from volumes.models import Snapshot, Volume, VolumeAttachment

    (bench, bench_user), (noise, _noise_user) = projects["bench"], projects["noise"]
    n = max(1, count // 10)
    images = [Image(name=f"img-{i}", owner=bench if i % 3 else noise, status="active", disk_format="qcow2",
                    container_format="bare", size=2**30, visibility=("private", "public", "shared")[i % 3])
              for i in range(n)]
    Image.objects.bulk_create(images)
    ImageMember.objects.bulk_create([ImageMember(image=i, member_id=bench.id) for i in images
                                     if i.owner_id == noise.id and i.visibility == "shared"])
    volumes = Volume.objects.bulk_create([
        Volume(name=f"vol-{i}", size=1 + i % 10, availability_zone="nova", project=bench, user=bench_user,
               host="bench-0", status="in-use" if i % 4 == 0 else "available") for i in range(n)])
    VolumeAttachment.objects.bulk_create([
        VolumeAttachment(volume=v, instance_uuid=uuid.uuid4(), instance_host="bench-0", device="/dev/vdb")
        for v in volumes if v.status == "in-use"])
    Snapshot.objects.bulk_create([Snapshot(volume=v, size=v.size, project=bench, user=bench_user, host="bench-0",
                                           status="available") for v in volumes[::2]])
    groups = SecurityGroup.objects.bulk_create([SecurityGroup(project=bench, name=f"sg-{i}") for i in range(n // 2)])
    SecurityGroupRule.objects.bulk_create([
        SecurityGroupRule(parent_group=groups[0], protocol="tcp", from_port=p, to_port=p, cidr="0.0.0.0/0")
        for p in range(1, n + 1)])
    Ec2Credential.objects.bulk_create([Ec2Credential(user=bench_user, project=bench) for _ in range(20)])


def first_group_id() -> int:
    from secgroups.models import SecurityGroup

    return SecurityGroup.objects.filter(name="sg-0").values_list("pk", flat=True).get()


def first_of(model: str, field: str = "pk", **filters) -> str:
    """The key of the first row of `model` (app_label.Model) matching `filters`."""
    from django.apps import apps

    return str(apps.get_model(model).objects.filter(**filters).values_list(field, flat=True).first())


def measure(client, path: str, runs: int) -> tuple[list[float], list[float], int, int]:
    """Wall-clock times and this process's CPU times (ms) of `runs` requests: on a shared, loaded
    machine the CPU time is what the page itself costs in Python, the wall time adds the wait for
    a core and PostgreSQL's work."""
    times, cpu, status = [], [], None
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    status, count = response.status_code, len(queries)  # before the next request resets the log
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return times, cpu, count, status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    setup_test_environment()
    # one connection for the whole run, as the test client uses in TestCase (and so the
    # query counts see every query of a request)
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.test import Client
        from django.utils import timezone

        first = populate(args.instances)
        from django.utils.http import urlencode

        five_ago = (timezone.now() - timezone.timedelta(seconds=5)).isoformat()
        cursor = urlencode({"since": five_ago, "created_after": five_ago})
        pages = [
            ("member", "/dashboard/"),
            ("member", "/dashboard/instances/"),
            ("member", "/dashboard/instances/?q=vm-99&status=ACTIVE"),
            ("member", f"/dashboard/instances/changes/?{cursor}"),
            ("member", f"/dashboard/instances/{first.uuid}/"),
            ("member", "/dashboard/instances/launch/"),
            ("member", "/dashboard/keypairs/"),
            ("member", "/dashboard/floating-ips/"),
            ("member", "/dashboard/images/"),
            ("member", "/dashboard/images/upload/"),
            ("member", "/dashboard/volumes/"),
            ("member", "/dashboard/security-groups/"),
            ("member", f"/dashboard/security-groups/{first_group_id()}/"),
            ("member", "/dashboard/api-access/"),
            ("member", "/dashboard/password/"),
            ("member", "/dashboard/usage.csv"),
            # issue 20's detail pages, instance tabs and usage pages
            ("member", f"/dashboard/instances/{first.uuid}/?tab=actions"),
            ("member", f"/dashboard/instances/{first.uuid}/?tab=console"),
            ("member", f"/dashboard/images/{first_of('images.Image', name='img-1')}/"),
            ("member", f"/dashboard/volumes/{first_of('volumes.Volume', name='vol-1', field='uuid')}/"),
            ("member", "/dashboard/usage/"),
            ("admin", "/dashboard/admin/usage/"),
            ("admin", "/dashboard/admin/usage.csv"),
            ("admin", "/dashboard/admin/instances/"),
            ("admin", "/dashboard/admin/instances/?host=bench-3"),
            ("admin", "/dashboard/admin/services/"),
            ("admin", "/dashboard/admin/hypervisors/"),
            ("admin", f"/dashboard/admin/instances/?project={first.project_id}"),
            ("admin", "/dashboard/admin/flavors/"),
            ("admin", "/dashboard/admin/projects/"),
            ("admin", f"/dashboard/admin/projects/{first.project_id}/"),
            ("admin", "/dashboard/admin/users/"),
            ("admin", f"/dashboard/admin/users/{first.user_id}/"),
            ("admin", "/dashboard/admin/quotas/"),
            ("admin", "/dashboard/admin/networks/"),
            ("admin", "/dashboard/admin/floating-ranges/"),
            # issue 20: sorted and paged tables, the settings page, bulk-action tables, 200-row pages
            ("member", "/dashboard/instances/?sort=name&dir=desc"),
            ("member", "/dashboard/instances/?sort=status&page=10"),
            ("member", "/dashboard/instances/?sort=nope&page=zz"),
            ("member", "/dashboard/settings/"),
            ("member", "/dashboard/server-groups/"),
            ("member", "/dashboard/images/?sort=size&dir=desc"),
            ("member", "/dashboard/volumes/?sort=size&dir=desc&s_sort=volume"),
            ("member", "/dashboard/keypairs/?sort=created&dir=desc"),
            ("member", "/dashboard/floating-ips/?sort=instance&page=2"),
            ("wide", "/dashboard/instances/"),
            ("wide", "/dashboard/instances/?sort=flavor&page=5"),
            ("wide", "/dashboard/floating-ips/"),
            ("wide", "/dashboard/volumes/"),
            ("admin", "/dashboard/admin/instances/?sort=project&dir=desc"),
            ("admin", "/dashboard/admin/instances/?sort=host&page=20"),
            ("admin", "/dashboard/admin/projects/?sort=users&dir=desc"),
            ("admin", "/dashboard/admin/users/?sort=project&page=2"),
            ("admin", "/dashboard/admin/hypervisors/?sort=instances&dir=desc"),
            ("admin", "/dashboard/admin/aggregates/"),
        ]
        clients = {}
        for who, username in (("member", "bench-user"), ("admin", "admin-user"), ("wide", "wide-user")):
            clients[who] = Client()
            assert clients[who].post("/dashboard/login/", {"username": username, "password": "bench-pass"}).status_code == 302
        print(f"{args.instances} instances in the project (+{args.instances} in another), {args.runs} runs per page, "
              f"{connection.vendor}")
        print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'page':62} {'status':>6} {'queries':>7} {'median':>8} {'p95':>8} {'max':>8} {'cpu med':>8}")
        for who, path in pages:
            times, cpu, queries, status = measure(clients[who], path, args.runs)
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            label = path if len(path) < 56 else path[:53] + "..."
            print(f"{who[0]} {label:60} {status:>6} {queries:>7} {statistics.median(times):7.1f}ms "
                  f"{p95:7.1f}ms {times[-1]:7.1f}ms {statistics.median(cpu):7.1f}ms")
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
