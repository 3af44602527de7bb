"""Issue 20: detail pages for images, volumes and security groups, linked from their lists,
with their actions coming back to the page, another project's rows hidden (404), a bad id a
404 page (never a 500), and a constant number of queries however much the page shows."""
from cloudproj.testing.volumes import VOLUME_HOST_A as HOST
from images.models import Image
from secgroups.services import groups, rules
from volumes.models import Snapshot, Volume, VolumeAttachment


def image_of(project, name, visibility=Image.PRIVATE, **fields):
    return Image.objects.create(name=name, owner=project, visibility=visibility, status=Image.ACTIVE,
                                disk_format="qcow2", container_format="bare", size=1024, **fields)


def volume_of(member, name, status="available", **fields):
    return Volume.objects.create(name=name, size=1, availability_zone="nova", project_id=member["project"].id,
                                 user_id=member["user"].id, host=HOST, status=status, **fields)


def test_image_page_shows_facts_properties_and_actions(member):
    image = image_of(member["project"], "golden", properties={"os_distro": "debian", "hw_<x>": "<b>"})
    listing = member["client"].get("/dashboard/images/").content.decode()
    assert f'href="/dashboard/images/{image.id}/">golden</a>' in listing
    page = member["client"].get(f"/dashboard/images/{image.id}/").content.decode()
    assert "<h1>Image golden" in page and "this project" in page and "1.0\xa0KB" in page
    assert "os_distro" in page and "debian" in page and "&lt;b&gt;" in page and "<b>" not in page
    assert f'href="/dashboard/instances/launch/?image={image.id}"' in page
    assert 'data-confirm="Delete image golden?"' in page


def test_image_page_of_another_project_is_404_and_public_one_has_no_delete(member, other):
    private = image_of(other["project"], "theirs")
    public = image_of(other["project"], "shared-os", visibility=Image.PUBLIC)
    assert member["client"].get(f"/dashboard/images/{private.id}/").status_code == 404
    assert member["client"].get("/dashboard/images/not-a-uuid/").status_code == 404
    page = member["client"].get(f"/dashboard/images/{public.id}/").content.decode()
    assert "another project" in page and "Delete image" not in page and "Launch an instance" in page


def test_volume_page_shows_attachment_and_snapshots(member, make_instance, volume_host_a):
    server = make_instance(member["project"], member["user"], name="db-1")
    volume = volume_of(member, "data", status="in-use")
    VolumeAttachment.objects.create(volume=volume, instance_uuid=server.uuid, instance_host="host-a", device="/dev/vdb")
    snap = Snapshot.objects.create(volume=volume, name="nightly", size=1, project_id=member["project"].id,
                                   user_id=member["user"].id, host=HOST, status="available")
    listing = member["client"].get("/dashboard/volumes/").content.decode()
    assert f'href="/dashboard/volumes/{volume.uuid}/">data</a>' in listing
    page = member["client"].get(f"/dashboard/volumes/{volume.uuid}/").content.decode()
    assert "<h1>Volume data" in page and "in-use" in page
    attached = page.split('id="attachment"')[1].split("</p>")[0]
    assert f'href="/dashboard/instances/{server.uuid}/">db-1</a> on /dev/vdb' in attached
    assert 'data-confirm="Detach volume data from db-1?"' in attached
    assert f'id="snapshot-{snap.uuid}"' in page and "nightly" in page
    assert 'data-confirm="Delete volume data?"' in page
    assert "Extend" not in page  # in use: only an available volume is extended here


def test_volume_page_action_comes_back_to_the_page(member, volume_host_a):
    volume = volume_of(member, "data")
    page = f"/dashboard/volumes/{volume.uuid}/"
    response = member["client"].post(f"/dashboard/volumes/{volume.uuid}/snapshot/", {"name": "s1", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    followed = member["client"].get(page).content.decode()
    assert "Creating snapshot s1 of data." in followed and 'hx-trigger="every' in followed  # creating: it polls
    response = member["client"].post(f"/dashboard/volumes/{volume.uuid}/snapshot/",
                                      {"name": "s2", "next": "https://evil.example/"})
    assert response["Location"] == "/dashboard/volumes/"  # another site's next is ignored


def test_volume_page_of_another_project_is_404(member, other, volume_host_a):
    theirs = volume_of(other, "theirs")
    assert member["client"].get(f"/dashboard/volumes/{theirs.uuid}/").status_code == 404
    assert member["client"].get("/dashboard/volumes/nope/").status_code == 404


def test_security_group_page_has_rules_and_a_named_delete(member):
    group = groups.create_group(member["project"].id, "web", "HTTP in")
    page = member["client"].get(f"/dashboard/security-groups/{group.pk}/").content.decode()
    assert "HTTP in" in page and 'data-confirm="Delete security group web?"' in page and 'id="add-rule"' in page


def test_detail_pages_queries_do_not_grow(member, make_instance, volume_host_a, django_assert_max_num_queries):
    volume = volume_of(member, "data")
    image = image_of(member["project"], "golden")

    group = groups.create_group(member["project"].id, "web", "")

    def add(n):
        for i in range(n):
            Snapshot.objects.create(volume=volume, name=f"s{i}", size=1, project_id=member["project"].id,
                                    user_id=member["user"].id, host=HOST, status="available")
            make_instance(member["project"], member["user"], image_ref=str(image.id))
            rules.create_rule(group, ip_protocol="tcp", from_port=1000 + add.count, to_port=1000 + add.count,
                              cidr="10.0.0.0/8", group_id=None)
            add.count += 1
    add.count = 0

    pages = (f"/dashboard/volumes/{volume.uuid}/", f"/dashboard/images/{image.id}/",
             f"/dashboard/security-groups/{group.pk}/")
    add(1)
    counts = {}
    for path in pages:
        with django_assert_max_num_queries(25) as few:
            assert member["client"].get(path).status_code == 200
        counts[path] = len(few.captured_queries)
    add(18)
    for path in pages:
        with django_assert_max_num_queries(counts[path]):
            assert member["client"].get(path).status_code == 200


def test_admin_deletes_a_project_by_typing_its_name(admin, make_account, make_instance):
    from identity.models import Project

    user, doomed, _ = make_account("doomed", "member", username="doomed-user")
    server = make_instance(doomed, user, name="left-behind")
    client = admin["client"]
    page = client.get(f"/dashboard/admin/projects/{doomed.id}/").content.decode()
    form = page.split('id="delete-project-form"')[1].split("</form>")[0]
    assert 'data-confirm="Delete project doomed?"' in form and "Type the project's name, doomed, to confirm" in form
    response = client.post(f"/dashboard/admin/projects/{doomed.id}/delete/", {"confirm_name": "doome"})
    assert response["Location"] == f"/dashboard/admin/projects/{doomed.id}/"
    assert "Type the project&#x27;s name, doomed, to delete it." in client.get(response["Location"]).content.decode()
    assert Project.objects.filter(pk=doomed.pk).exists()
    response = client.post(f"/dashboard/admin/projects/{doomed.id}/delete/", {"confirm_name": "doomed"})
    assert response["Location"] == "/dashboard/admin/projects/"
    listing = client.get("/dashboard/admin/projects/").content.decode()
    assert "Project doomed deleted." in listing and f"project scrub {doomed.id}" in listing
    tombstone = Project.all_objects.get(pk=doomed.pk)
    assert tombstone.deleted_at is not None and not tombstone.enabled
    # the tombstone keeps its servers: the admin's All instances still shows them
    assert "left-behind" in client.get("/dashboard/admin/instances/").content.decode()
    assert server.__class__.objects.filter(pk=server.pk).exists()


def test_admin_cannot_delete_the_project_they_work_in_and_members_may_not(admin, member):
    own = admin["project"]
    page = admin["client"].get(f"/dashboard/admin/projects/{own.id}/").content.decode()
    assert 'id="delete-project-form"' not in page and "switch to another one" in page
    admin["client"].post(f"/dashboard/admin/projects/{own.id}/delete/", {"confirm_name": own.name})
    assert own.__class__.objects.filter(pk=own.pk).exists()
    theirs = member["project"]
    assert member["client"].post(f"/dashboard/admin/projects/{theirs.id}/delete/",
                                 {"confirm_name": theirs.name}).status_code == 403
    assert theirs.__class__.objects.filter(pk=theirs.pk).exists()
