"""Bad input on every write endpoint: a clear 4xx in the OpenStack envelope, never a 500,
and nothing half-written."""
import json

import pytest

from compute.models import Flavor
from identity.models import Project, Role, User

pytestmark = pytest.mark.django_db

WRITE_ENDPOINTS = [
    ("post", "/identity/v3/auth/tokens"),
    ("post", "/v2.0/tokens"),
    ("post", "/identity/v3/projects"),
    ("patch", "/identity/v3/projects/{a}"),
    ("post", "/identity/v3/users"),
    ("post", "/identity/v3/roles"),
    ("post", "/compute/v2.1/flavors"),
    ("post", "/compute/v2.1/flavors/1/os-extra_specs"),
    ("post", "/compute/v2.1/flavors/1/action"),
    ("put", "/compute/v2.1/os-services/disable"),
    ("put", "/compute/v2.1/os-quota-sets/{a}"),
    ("put", "/volume/v3/{a}/os-quota-sets/{a}"),
]

GARBAGE_BODIES = [
    "{not json",
    "[]",
    '"a string"',
    "null",
    "12",
    json.dumps({"unexpected": {"deeply": ["nested", {"x": 1}]}}),
    json.dumps({"project": "x", "user": [], "role": 3, "flavor": None, "quota_set": "all", "extra_specs": [1]}),
    json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": ["x"]}}}}}),
    json.dumps({"auth": {"passwordCredentials": None}}),
    json.dumps({"project": {"name": "x" * 300}, "user": {"name": "\x00"}, "role": {"name": ""}}),
    json.dumps({"flavor": {"name": "f", "ram": "1e9", "vcpus": -1, "disk": True}}),
    json.dumps({"quota_set": {"instances": "many", "cores": 10**30}}),
    json.dumps({"addTenantAccess": {"tenant": ["x"]}}),
    json.dumps({"host": {"a": 1}, "binary": None}),
]


def counts():
    return (Project.objects.count(), User.objects.count(), Role.objects.count(), Flavor.objects.count())


@pytest.mark.parametrize("method,path", WRITE_ENDPOINTS, ids=[f"{m} {p}" for m, p in WRITE_ENDPOINTS])
def test_garbage_gets_a_4xx_envelope_and_writes_nothing(admin_client, admin_account, method, path):
    path = path.format(a=admin_account[1].id)
    before = counts()
    for body in GARBAGE_BODIES:
        response = getattr(admin_client, method)(path, body, content_type="application/json")
        assert 400 <= response.status_code < 500, (body, response.status_code, response.content[:300])
        envelope = response.json()
        (name, fault), = envelope.items()
        assert fault["code"] == response.status_code and fault["message"], envelope
    assert counts() == before


def test_wrong_content_type_is_a_4xx(admin_client):
    response = admin_client.post("/compute/v2.1/flavors", "name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 415)
    assert "code" in next(iter(response.json().values()))


@pytest.mark.parametrize(
    "path",
    ["/compute/v2.1/flavors/%00", "/compute/v2.1/flavors/" + "9" * 5000, "/identity/v3/projects/'%3B--",
     "/compute/v2.1/os-hypervisors/abc"],
)
def test_odd_ids_are_404s(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code in (400, 404), response.content[:300]


def test_nul_in_a_query_string_is_a_400(admin_client):
    response = admin_client.get("/identity/v3/projects?name=a%00b")
    assert response.status_code == 400 and response.json()["badRequest"]["code"] == 400
