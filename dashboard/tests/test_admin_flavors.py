"""Admin panel: flavors (list, create with validation, delete) and private flavors' access
lists, through compute.services.flavors (what the API's /flavors calls use)."""
from compute.models import Flavor, FlavorExtraSpec

FLAVORS = "/dashboard/admin/flavors/"


def _html(response):
    return response.content.decode()


def test_flavor_list_shows_sizes_visibility_and_extra_specs(admin, flavor):
    private = Flavor.objects.create(flavorid="p.1", name="private.one", memory_mb=1024, vcpus=2, root_gb=10,
                                    ephemeral_gb=5, swap=256, is_public=False)
    FlavorExtraSpec.objects.create(flavor=private, key="hw:cpu_policy", value="dedicated")
    html = _html(admin["client"].get(FLAVORS))
    row = html[html.index(f'id="flavor-{private.pk}"'):]
    row = row[:row.index("</tr>")]
    for text in ("private.one", "p.1", ">2<", "1024 MB", "10 GB", "5 GB", "256 MB", "access (0)",
                 "hw:cpu_policy=dedicated"):
        assert text in row, text
    public_row = html[html.index(f'id="flavor-{flavor.pk}"'):]
    assert ">yes<" in public_row[:public_row.index("</tr>")]


def test_admin_creates_a_private_flavor_with_a_generated_id(admin):
    response = admin["client"].post(FLAVORS, {"name": "web.large", "flavorid": "", "vcpus": 4, "memory_mb": 8192,
                                              "root_gb": 40, "ephemeral_gb": 10, "swap": 512}, follow=True)
    flavor = Flavor.objects.get(name="web.large")
    assert (flavor.vcpus, flavor.memory_mb, flavor.root_gb, flavor.ephemeral_gb, flavor.swap) == (4, 8192, 40, 10, 512)
    assert flavor.is_public is False and len(flavor.flavorid) == 36  # unticked box: private; a UUID id
    assert f"Flavor web.large ({flavor.flavorid}) created." in _html(response)


def test_bad_flavor_input_is_a_readable_message_and_creates_nothing(admin, flavor):
    client = admin["client"]
    cases = [
        ({"name": "dup", "flavorid": "dash.tiny", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0,
          "swap": 0}, "Flavor with ID dash.tiny already exists."),
        ({"name": "dash.tiny", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0, "swap": 0},
         "Flavor with name dash.tiny already exists."),
        ({"name": "bad id", "flavorid": "a/b", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0,
          "swap": 0}, "only letters, digits"),
        ({"name": " spaced", "vcpus": 1, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0, "swap": 0},
         "without leading or trailing whitespace"),
        ({"name": "zero", "vcpus": 0, "memory_mb": 64, "root_gb": 0, "ephemeral_gb": 0, "swap": 0},
         "vCPUs: Ensure this value is greater than or equal to 1."),
        ({"name": "words", "vcpus": 1, "memory_mb": "lots", "root_gb": 0, "ephemeral_gb": 0, "swap": 0},
         "RAM (MB): Enter a whole number."),
    ]
    before = Flavor.objects.count()
    for data, message in cases:
        response = client.post(FLAVORS, data)
        assert response.status_code == 400, data
        assert message in _html(response), (data, _html(response)[-3000:])
    assert Flavor.objects.count() == before


def test_admin_deletes_a_flavor(admin, flavor):
    response = admin["client"].post(f"{FLAVORS}dash.tiny/delete/", follow=True)
    assert "Flavor dash.tiny deleted" in _html(response)
    flavor.refresh_from_db()
    assert flavor.is_deleted
    assert f'id="flavor-{flavor.pk}"' not in _html(admin["client"].get(FLAVORS))
    missing = admin["client"].post(f"{FLAVORS}nope/delete/")
    assert missing.status_code == 404 and "Flavor nope could not be found." in _html(missing)


def test_access_list_of_a_private_flavor(admin, member, other):
    private = Flavor.objects.create(flavorid="p.2", name="private.two", memory_mb=256, vcpus=1, is_public=False)
    client, url = admin["client"], f"{FLAVORS}p.2/access/"
    response = client.post(url, {"project": member["project"].id}, follow=True)
    assert f"Project {member['project'].name} may now use flavor private.two." in _html(response)
    assert list(private.access.values_list("project_id", flat=True)) == [member["project"].id]
    # the member now sees it in the launch form; the other project does not
    assert "private.two" in _html(member["client"].get("/dashboard/instances/launch/"))
    assert "private.two" not in _html(other["client"].get("/dashboard/instances/launch/"))
    unknown = client.post(url, {"project": "no-such-project"})
    assert unknown.status_code == 400 and "Select a valid choice" in _html(unknown)
    response = client.post(f"{url}remove/", {"project": member["project"].id}, follow=True)
    assert "removed from flavor private.two" in _html(response)
    assert not private.access.exists()
    again = client.post(f"{url}remove/", {"project": member["project"].id}, follow=True)
    assert "Flavor access not found" in _html(again)


def test_public_flavor_has_no_access_list(admin, flavor):
    response = admin["client"].get(f"{FLAVORS}dash.tiny/access/")
    assert response.status_code == 404 and "Access list not available for public flavors." in _html(response)


def test_flavor_list_queries_do_not_grow(admin, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    for i in range(40):
        f = Flavor.objects.create(flavorid=f"q{i}", name=f"q{i}", memory_mb=64 + i, vcpus=1, is_public=i % 2 == 0)
        FlavorExtraSpec.objects.create(flavor=f, key="k", value=str(i))
    with django_assert_max_num_queries(16):
        assert admin["client"].get(FLAVORS).status_code == 200
