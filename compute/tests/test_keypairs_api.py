"""`/compute/v2.1/os-keypairs` through the API clients and through the real `openstack` CLI."""
import re
import shutil
import subprocess

import pytest

from cloudproj.testing.clients import TokenClient
from compute.models import KeyPair
from identity.services import quotas

URL = "/compute/v2.1/os-keypairs"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")
FINGERPRINT = re.compile(r"^([0-9a-f]{2}:){15}[0-9a-f]{2}$")

needs_ssh_keygen = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen not installed")


def ssh_keygen(tmp_path, name="id_ed25519", key_type="ed25519"):
    """(public key line, MD5 fingerprint as ssh-keygen computes it) of a fresh key pair."""
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", "me@host", "-f", str(path)], check=True)
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", f"{path}.pub"], check=True,
                         capture_output=True, text=True).stdout
    fingerprint = re.search(r"MD5:(\S+)", out).group(1)
    return (tmp_path / f"{name}.pub").read_text().strip(), fingerprint


V2_2 = {"HTTP_OPENSTACK_API_VERSION": "compute 2.2"}
V2_10 = {"HTTP_OPENSTACK_API_VERSION": "compute 2.10"}


def create(client, name, public_key=None, headers=None, **extra):
    keypair = {"name": name, **extra}
    if public_key is not None:
        keypair["public_key"] = public_key
    if ("user_id" in extra or "type" in extra) and headers is None:
        headers = V2_10
    return client.post(URL, {"keypair": keypair}, format="json", **(headers or {}))


@pytest.fixture
def public_key(tmp_path):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen not installed")
    return ssh_keygen(tmp_path)


@pytest.mark.django_db
def test_generate_returns_private_key_once(member_client, member_account):
    user = member_account[0]
    resp = create(member_client, "gen")
    assert resp.status_code == 200, resp.content
    body = resp.json()["keypair"]
    assert set(body) == {"name", "public_key", "fingerprint", "user_id", "private_key"}  # no type at 2.1
    assert body["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert body["public_key"].startswith("ssh-rsa ")
    assert FINGERPRINT.match(body["fingerprint"]) and body["user_id"] == user.id
    assert "PRIVATE" not in KeyPair.objects.get(user=user, name="gen").public_key

    shown = member_client.get(f"{URL}/gen")
    assert shown.status_code == 200
    detail = shown.json()["keypair"]
    assert "private_key" not in detail
    assert set(detail) == {
        "name", "public_key", "fingerprint", "user_id", "created_at", "updated_at",
        "deleted", "deleted_at", "id",
    }
    assert detail["public_key"] == body["public_key"] and detail["fingerprint"] == body["fingerprint"]
    assert detail["deleted"] is False and detail["updated_at"] is None and detail["deleted_at"] is None
    assert ISO.match(detail["created_at"]) and isinstance(detail["id"], int)
    assert detail["user_id"] == user.id

    listed = member_client.get(URL).json()
    assert listed == {"keypairs": [{"keypair": {
        "name": "gen", "public_key": body["public_key"], "fingerprint": body["fingerprint"],
    }}]}
    assert "PRIVATE" not in shown.content.decode() + str(listed)
    assert shown["OpenStack-API-Version"] == "compute 2.1"


@pytest.mark.django_db
def test_type_is_refused_at_2_1(member_client):
    resp = member_client.post(URL, {"keypair": {"name": "k", "type": "ssh"}}, format="json")
    assert resp.status_code == 400 and "additional properties" in resp.json()["badRequest"]["message"]
    assert not KeyPair.objects.exists()


@pytest.mark.django_db
def test_microversion_2_2_type_201_and_204(member_client):
    resp = create(member_client, "gen", headers=V2_2)
    assert resp.status_code == 201, resp.content
    assert resp["OpenStack-API-Version"] == "compute 2.2"
    body = resp.json()["keypair"]
    assert set(body) == {"name", "public_key", "fingerprint", "type", "user_id", "private_key"}
    assert body["type"] == "ssh"
    listed = member_client.get(URL, **V2_2).json()["keypairs"]
    assert listed == [{"keypair": {"name": "gen", "public_key": body["public_key"],
                                   "fingerprint": body["fingerprint"], "type": "ssh"}}]
    detail = member_client.get(f"{URL}/gen", **V2_2).json()["keypair"]
    assert set(detail) == {"name", "public_key", "fingerprint", "type", "user_id", "created_at", "updated_at",
                           "deleted", "deleted_at", "id"}
    assert detail["type"] == "ssh"
    # 2.2 still refuses user_id (2.10)
    refused = create(member_client, "k", headers=V2_2, user_id="someone")
    assert refused.status_code == 400
    resp = member_client.delete(f"{URL}/gen", **V2_2)
    assert resp.status_code == 204 and resp.content == b""


@pytest.mark.django_db
def test_microversion_2_2_generates_an_x509_key_pair(member_client, member_account):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    resp = create(member_client, "cert", headers=V2_2, type="x509")
    assert resp.status_code == 201, resp.content
    body = resp.json()["keypair"]
    assert body["type"] == "x509"
    cert = x509.load_pem_x509_certificate(body["public_key"].encode())
    key = serialization.load_pem_private_key(body["private_key"].encode(), password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()  # they belong together
    sha1 = hashes.SHA1()  # noqa: S303 - Nova's fingerprint format
    assert body["fingerprint"] == ":".join(re.findall("..", cert.fingerprint(sha1).hex()))
    assert "PRIVATE" not in KeyPair.objects.get(user=member_account[0], name="cert").public_key


@pytest.mark.django_db
def test_import_uses_the_given_key(member_client, public_key):
    key, fingerprint = public_key
    resp = create(member_client, "imported key_1", key)
    assert resp.status_code == 200, resp.content
    body = resp.json()["keypair"]
    assert "private_key" not in body
    assert body["public_key"] == key and body["fingerprint"] == fingerprint  # as ssh-keygen -E md5 says
    shown = member_client.get(f"{URL}/imported%20key_1").json()["keypair"]
    assert shown["name"] == "imported key_1" and shown["fingerprint"] == fingerprint


@pytest.mark.django_db
def test_x509_import(member_client):
    from datetime import datetime, timedelta, timezone

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "me")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    resp = create(member_client, "cert", pem, headers=V2_2, type="x509")
    assert resp.status_code == 201, resp.content
    body = resp.json()["keypair"]
    assert body["type"] == "x509" and "private_key" not in body
    sha1 = hashes.SHA1()  # noqa: S303 - Nova's fingerprint format
    assert body["fingerprint"] == ":".join(re.findall("..", cert.fingerprint(sha1).hex()))


@pytest.mark.django_db
def test_duplicate_name_is_409(member_client, public_key):
    assert create(member_client, "k", public_key[0]).status_code == 200
    for again in (create(member_client, "k", public_key[0]), create(member_client, "k")):
        assert again.status_code == 409
        assert again.json() == {"conflictingRequest": {"code": 409, "message": "Key pair 'k' already exists."}}
    assert KeyPair.objects.filter(name="k").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "keypair,message",
    [
        ({"name": "bad/name"}, "unsafe characters"),
        ({"name": "trailing-newline\n"}, "unsafe characters"),
        ({"name": ""}, "between 1 and 255"),
        ({"name": "x" * 256}, "between 1 and 255"),
        ({"name": 42}, "between 1 and 255"),
        ({"name": "k", "public_key": "garbage"}, "failed to generate fingerprint"),
        ({"name": "k", "public_key": ""}, "failed to generate fingerprint"),
        ({"name": "k", "public_key": "ssh-rsa not-base64!"}, "failed to generate fingerprint"),
        ({"name": "k", "public_key": 123}, "public_key"),
        ({"name": "k", "public_key": None}, "public_key"),
        ({"name": "k", "public_key": "not a cert", "type": "x509"}, "X509"),
        ({"name": "k", "type": "rsa"}, "type"),
        ({"public_key": "ssh-rsa AAAA"}, "'name' is a required property"),
        ({"name": "k", "color": "red"}, "additional properties"),
    ],
)
def test_invalid_requests_are_400(member_client, keypair, message):
    resp = member_client.post(URL, {"keypair": keypair}, format="json", **V2_10)
    assert resp.status_code == 400, resp.content
    error = resp.json()["badRequest"]
    assert error["code"] == 400 and message in error["message"]
    assert not KeyPair.objects.exists()


@pytest.mark.django_db
def test_key_types_must_agree_and_keys_be_one_line(member_client, public_key):
    key, _ = public_key
    blob = key.split()[1]
    for bad in (f"ssh-rsa {blob}", f"{key}\n{key}", f"{key}\rssh-ed25519 {blob}"):
        resp = create(member_client, "k", bad)
        assert resp.status_code == 400, bad
        assert "failed to generate fingerprint" in resp.json()["badRequest"]["message"]
    assert create(member_client, "k", f"  {key}\n").status_code == 200  # surrounding blanks are fine
    assert member_client.get(f"{URL}/k").json()["keypair"]["public_key"] == key


@pytest.mark.django_db
def test_body_must_be_a_keypair(member_client):
    for body in ({}, {"keypair": "k"}, {"keypair": {"name": "k"}, "extra": 1}):
        resp = member_client.post(URL, body, format="json")
        assert resp.status_code == 400 and "badRequest" in resp.json()


@pytest.mark.django_db
def test_other_users_keypairs_are_invisible(make_account, member_client, member_account, public_key):
    assert create(member_client, "mine", public_key[0]).status_code == 200
    # a colleague in the same project and a user of another project see nothing of it
    for project in ("demo", "other"):
        _user, _project, token = make_account(project, "member", username=f"{project}-colleague")
        client = TokenClient(token)
        assert client.get(URL).json() == {"keypairs": []}
        for resp in (client.get(f"{URL}/mine"), client.delete(f"{URL}/mine")):
            assert resp.status_code == 404
            assert "Keypair mine not found for user" in resp.json()["itemNotFound"]["message"]
        # names are unique per user only
        assert create(client, "mine").status_code == 200
        # and a member may not ask for another user's key pairs
        for resp in (
            client.get(f"{URL}?user_id={member_account[0].id}", **V2_10),
            client.get(f"{URL}/mine?user_id={member_account[0].id}", **V2_10),
            client.delete(f"{URL}/mine?user_id={member_account[0].id}", **V2_10),
            create(client, "theirs", user_id=member_account[0].id),
        ):
            assert resp.status_code == 403, resp.content
            assert resp.json()["forbidden"]["code"] == 403
    assert KeyPair.objects.filter(user=member_account[0], name="mine").exists()
    assert member_client.get(f"{URL}/mine").status_code == 200


@pytest.mark.django_db
def test_admin_acts_on_another_users_keypairs(admin_client, member_client, member_account, public_key):
    member = member_account[0]
    assert create(member_client, "mine", public_key[0]).status_code == 200
    assert admin_client.get(URL).json() == {"keypairs": []}  # the admin's own
    # below 2.10 the parameter is ignored (the admin's own key pairs)
    assert admin_client.get(f"{URL}?user_id={member.id}").json() == {"keypairs": []}
    listed = admin_client.get(f"{URL}?user_id={member.id}", **V2_10).json()["keypairs"]
    assert [k["keypair"]["name"] for k in listed] == ["mine"]
    shown = admin_client.get(f"{URL}/mine?user_id={member.id}", **V2_10)
    assert shown.status_code == 200 and shown.json()["keypair"]["user_id"] == member.id
    assert admin_client.get(f"{URL}/mine").status_code == 404

    made = create(admin_client, "for-you", user_id=member.id)
    assert made.status_code == 201 and made.json()["keypair"]["user_id"] == member.id
    assert {k["keypair"]["name"] for k in member_client.get(URL).json()["keypairs"]} == {"mine", "for-you"}

    assert admin_client.delete(f"{URL}/mine?user_id={member.id}", **V2_10).status_code == 204
    assert member_client.get(f"{URL}/mine").status_code == 404
    assert admin_client.get(f"{URL}?user_id=no-such-user", **V2_10).json() == {"keypairs": []}
    assert admin_client.get(f"{URL}/mine?user_id=no-such-user", **V2_10).status_code == 404
    assert create(admin_client, "k", user_id="no-such-user").status_code == 404


@pytest.mark.django_db
def test_delete_is_202_then_404(member_client):
    assert create(member_client, "gone").status_code == 200
    resp = member_client.delete(f"{URL}/gone")
    assert resp.status_code == 202 and resp.content == b""
    assert not KeyPair.objects.filter(name="gone").exists()
    resp = member_client.delete(f"{URL}/gone/")
    assert resp.status_code == 404 and resp.json()["itemNotFound"]["code"] == 404
    assert member_client.get(f"{URL}/gone").status_code == 404


@pytest.mark.django_db
def test_quota_is_403(member_client, member_account, public_key):
    quotas.set_quota(member_account[1], "key_pairs", 1)
    assert create(member_client, "one", public_key[0]).status_code == 200
    resp = create(member_client, "two")
    assert resp.status_code == 403
    assert resp.json() == {"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}}
    assert member_client.delete(f"{URL}/one").status_code == 202
    assert create(member_client, "two").status_code == 200


@pytest.mark.django_db
def test_policy_and_authentication(anon_client, member_client, settings):
    assert anon_client.get(URL).status_code == 401
    settings.POLICY_OVERRIDES = {"compute:keypairs:create": "admin_api"}
    resp = create(member_client, "k")
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == "Policy doesn't allow compute:keypairs:create to be performed."


# --- the real client ---------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@needs_ssh_keygen
def test_openstack_keypair_commands(osc, admin_account, member_account, tmp_path):
    user = dict(user="demo-user", project="demo")
    generated = osc("keypair", "create", "k", raw=True, **user)
    assert generated.returncode == 0, generated.stderr
    assert "PRIVATE KEY-----" in generated.stdout  # the client generates it and shows it once
    stored = KeyPair.objects.get(user=member_account[0], name="k")

    key, fingerprint = ssh_keygen(tmp_path)
    (tmp_path / "pub").write_text(key + "\n")
    imported = osc("keypair", "create", "--public-key", str(tmp_path / "pub"), "imported", **user)
    assert imported["name"] == "imported" and imported["fingerprint"] == fingerprint

    listed = {k["Name"]: k for k in osc("keypair", "list", **user)}
    assert set(listed) == {"k", "imported"}
    assert listed["k"]["Fingerprint"] == stored.fingerprint

    shown = osc("keypair", "show", "k", **user)
    assert shown["name"] == "k" and shown["fingerprint"] == stored.fingerprint
    assert shown["user_id"] == member_account[0].id and not shown.get("private_key")
    public = osc("keypair", "show", "--public-key", "imported", raw=True, **user)
    assert public.stdout.strip() == key

    assert osc("keypair", "list") == []  # the admin's own: none
    duplicate = osc("keypair", "create", "--public-key", str(tmp_path / "pub"), "k", check=False, **user)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr

    osc("keypair", "delete", "k", "imported", raw=True, **user)
    assert osc("keypair", "list", **user) == []
    missing = osc("keypair", "show", "k", check=False, **user)
    assert missing.returncode != 0
