"""Issue 20: the usage page of a project (vCPU, RAM and disk hours per day as server-drawn SVG
charts, each with a text alternative, and its quota use) and the admins' overview across
projects (table, chart, CSV); bad dates are a 400 page, never a 500; queries stay constant."""
import csv
import io
import re
from datetime import datetime, timezone

from compute.services import usage
from identity.services import accounts

UTC = timezone.utc


def at(day, hour=0):
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def test_series_cuts_each_run_into_its_days():
    rows = [usage.InstanceUsage(uuid="u", name="a", flavor="f", vcpus=2, memory_mb=1024, disk_gb=10,
                                started_at=at(2, 12), ended_at=at(4, 6), hours=0)]
    summary = usage.UsageSummary(start=at(1), end=at(5), instances=rows)
    step = usage.bucket_seconds(summary.start, summary.end)
    assert step == 86400
    buckets = usage.series(summary, step)
    assert [b.vcpu_hours for b in buckets] == [0, 24, 48, 12]
    assert [b.disk_gb_hours for b in buckets] == [0, 120, 240, 60]
    assert [b.instances for b in buckets] == [0, 1, 1, 1]
    # a year is cut into at most 60 slices of whole days
    assert usage.bucket_seconds(at(1), datetime(2027, 3, 1, tzinfo=UTC)) == 7 * 86400


def test_project_usage_page_draws_charts_with_text_alternatives(member, other, make_instance):
    project, user = member["project"], member["user"]
    make_instance(project, user, name="web", vcpus=2, memory_mb=2048, root_gb=10,
                  launched_at=at(2, 12), terminated_at=at(4, 0), vm_state="deleted", deleted_at=at(4, 0))
    make_instance(other["project"], other["user"], name="foreign", vcpus=64, launched_at=at(2))
    page = member["client"].get("/dashboard/usage/?start=2026-03-01&end=2026-03-04").content.decode()
    assert "<h1>Usage of demo</h1>" in page and "foreign" not in page
    assert "72.00 vCPU-hours" in page and 'href="/dashboard/usage.csv?start=2026-03-01&amp;end=2026-03-04"' in page
    vcpu = page.split('id="chart-vcpu"')[1].split("</figure>")[0]
    assert '<svg role="img" aria-labelledby="chart-vcpu-title chart-vcpu-desc"' in vcpu
    assert '<title id="chart-vcpu-title">vCPU-hours per day</title>' in vcpu
    assert "vCPU-hours per day: 72 vCPU-hours in all; the highest is 03-03 with 48 vCPU-hours." in vcpu
    assert vcpu.count('<rect class="bar"') == 4 and "<td>03-02</td><td>24 vCPU-hours</td>" in vcpu
    quota = page.split('id="chart-quota"')[1].split("</figure>")[0]
    assert re.search(r"Quota use: Instances \d+ of \d+; vCPUs \d+ of \d+; RAM \d+ of \d+ MB;", quota)
    assert quota.count('<rect class="bar"') == 8  # the compute quotas and the others
    assert 'aria-labelledby="chart-quota-title chart-quota-desc"' in quota


def test_bad_dates_are_a_400_page(member, admin):
    response = member["client"].get("/dashboard/usage/?start=2026-03-05&end=2026-03-01")
    assert response.status_code == 400 and "The end date is before the start date." in response.content.decode()
    response = admin["client"].get("/dashboard/admin/usage/?start=yesterday&end=2026-03-01")
    assert response.status_code == 400 and "Enter a valid date." in response.content.decode()
    assert admin["client"].get("/dashboard/admin/usage.csv?start=x").status_code == 400


def test_admin_overview_across_projects_with_csv(admin, member, other, make_instance, make_account):
    make_instance(member["project"], member["user"], name="a", vcpus=1, launched_at=at(2), terminated_at=at(3),
                  vm_state="deleted", deleted_at=at(3))
    make_instance(other["project"], other["user"], name="b", vcpus=4, launched_at=at(2), terminated_at=at(3),
                  vm_state="deleted", deleted_at=at(3))
    user, gone, _ = make_account("=gone", "member", username="gone-user")
    make_instance(gone, user, name="c", vcpus=2, launched_at=at(2), terminated_at=at(3), vm_state="deleted",
                  deleted_at=at(3))
    accounts.delete_project(gone)
    page = admin["client"].get("/dashboard/admin/usage/?start=2026-03-01&end=2026-03-05").content.decode()
    table = page.split('id="usage-projects"')[1]
    assert table.index(">other<") < table.index("=gone") < table.index(">demo<")  # most vCPU-hours first
    assert 'project-deleted">deleted' in table and "168.00" in page  # 24 h times (1 + 4 + 2) vCPUs
    chart = page.split('id="chart-projects"')[1].split("</figure>")[0]
    assert "the highest is other with 96 vCPU-hours" in chart and chart.count('<rect class="bar"') == 3

    response = admin["client"].get("/dashboard/admin/usage.csv?start=2026-03-01&end=2026-03-05")
    assert response["Content-Disposition"] == 'attachment; filename="usage-all-projects-2026-03-01-2026-03-05.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == list(usage_pages_header())
    assert [r[1] for r in rows[1:]] == ["other", "'=gone", "demo"]  # a formula-looking name is quoted
    assert rows[2][2] == "yes" and rows[1][5] == "96.00"


def usage_pages_header():
    return ("project_id", "project_name", "deleted", "instances", "hours", "vcpu_hours", "ram_mb_hours",
            "disk_gb_hours")


def test_members_may_not_see_the_overview(member):
    assert member["client"].get("/dashboard/admin/usage/").status_code == 403
    assert member["client"].get("/dashboard/admin/usage.csv").status_code == 403


def test_usage_pages_queries_do_not_grow(admin, member, make_instance, make_account, django_assert_max_num_queries):
    def add(n):
        for _ in range(n):
            user, project, _token = make_account(f"p{add.count}", "member", username=f"u{add.count}")
            add.count += 1
            make_instance(project, user, launched_at=at(2))
            make_instance(member["project"], member["user"], launched_at=at(2))
    add.count = 0

    pages = ((admin, "/dashboard/admin/usage/?start=2026-03-01&end=2026-03-10"),
             (member, "/dashboard/usage/?start=2026-03-01&end=2026-03-10"))
    add(1)
    counts = []
    for who, path in pages:
        with django_assert_max_num_queries(30) as few:
            assert who["client"].get(path).status_code == 200
        counts.append(len(few.captured_queries))
    add(15)
    for (who, path), count in zip(pages, counts):
        with django_assert_max_num_queries(count):
            assert who["client"].get(path).status_code == 200
