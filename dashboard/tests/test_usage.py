"""Overview: quota charts of every resource, and the usage summary for a date range with CSV."""
import csv
import io
from datetime import datetime, timedelta, timezone

UTC = timezone.utc


def at(day, hour=0):
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_quota_charts_cover_every_resource(member):
    page = member["client"].get("/dashboard/").content.decode()
    for resource in ("instances", "cores", "ram", "volumes", "gigabytes", "floating_ips", "security_groups"):
        assert f'data-resource="{resource}"' in page


def test_usage_summary_and_csv(member, other, make_instance):
    project, user = member["project"], member["user"]
    # ran 10:00 on the 2nd to 10:00 on the 4th: 48 h, 34 h of them inside the 3rd and the 4th
    make_instance(project, user, name="half", vcpus=2, memory_mb=512, root_gb=10, ephemeral_gb=5,
                  launched_at=at(2, 10), terminated_at=at(4, 10), vm_state="deleted", deleted_at=at(4, 10))
    make_instance(project, user, name="never-launched", launched_at=None)
    make_instance(project, user, name="before", launched_at=at(1), terminated_at=at(2))
    make_instance(other["project"], other["user"], name="foreign", launched_at=at(3))
    client = member["client"]
    page = client.get("/dashboard/?start=2026-03-03&end=2026-03-04").content.decode()
    assert "Active instances: <strong>1</strong>" in page
    row = page.split("<td>half</td>")[1].split("</tr>")[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[2:]] == ["34.00", "68.00", "17408.00", "510.00"]
    assert "Total: 34.00 instance-hours," in page and "68.00 vCPU-hours, 17408.00 RAM MB-hours" in page
    assert "foreign" not in page and "never-launched" not in page and "<td>before</td>" not in page

    response = client.get("/dashboard/usage.csv?start=2026-03-03&end=2026-03-04")
    assert response["Content-Disposition"] == 'attachment; filename="usage-demo-2026-03-03-2026-03-04.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][-4:] == ["hours", "vcpu_hours", "ram_mb_hours", "disk_gb_hours"]
    assert len(rows) == 2 and rows[1][1] == "half" and rows[1][-4:] == ["34.00", "68.00", "17408.00", "510.00"]


def test_running_instance_counts_until_now(member, make_instance):
    launched = datetime.now(UTC) - timedelta(hours=5)
    make_instance(member["project"], member["user"], name="running", launched_at=launched)
    rows = list(csv.reader(io.StringIO(member["client"].get("/dashboard/usage.csv").content.decode())))
    assert rows[1][1] == "running" and 4.9 < float(rows[1][8]) < 5.2


def test_bad_ranges_are_messages(member):
    client = member["client"]
    response = client.get("/dashboard/?start=2026-03-05&end=2026-03-01")
    assert response.status_code == 200 and "The end date is before the start date." in response.content.decode()
    response = client.get("/dashboard/?start=yesterday&end=2026-03-01")
    assert "Enter a valid date." in response.content.decode()
    response = client.get("/dashboard/usage.csv?start=2026-03-05&end=2026-03-01")
    assert response.status_code == 400 and b"The end date is before the start date." in response.content


def test_overview_queries_do_not_grow(member, make_instance, django_assert_max_num_queries):
    launched = datetime.now(UTC) - timedelta(hours=1)
    make_instance(member["project"], member["user"], launched_at=launched)
    with django_assert_max_num_queries(30) as few:
        member["client"].get("/dashboard/")
    for _ in range(30):
        make_instance(member["project"], member["user"], launched_at=launched)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = member["client"].get("/dashboard/").content.decode()
    assert "Active instances: <strong>31</strong>" in page
    assert page.count("<tr><td>vm-") == 31
