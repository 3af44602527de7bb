import base64
import hashlib

import pytest

from cloudproj.testing.factories import make_project_user
from compute.models import KeyPair
from compute.services import keypairs
from cloudproj.exceptions import Conflict, Invalid, NotFound, OverQuota
from identity.services import quotas

pytestmark = pytest.mark.django_db

# an ed25519 public key (ssh-keygen -t ed25519)
BLOB = base64.b64decode("AAAAC3NzaC1lZDI1NTE5AAAAIBxJ2zK1lM4qB0mUq2yQkU9nA0Vx1n5lC6a4xvXHq7Ol")
PUBLIC = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBxJ2zK1lM4qB0mUq2yQkU9nA0Vx1n5lC6a4xvXHq7Ol me@host"


def test_import_and_fingerprint():
    project, user = make_project_user()
    keypair, private = keypairs.create_keypair(user, "k1", PUBLIC, project=project)
    assert private is None
    digest = hashlib.md5(BLOB).hexdigest()
    assert keypair.fingerprint == ":".join(digest[i : i + 2] for i in range(0, 32, 2))
    assert keypair.type == "ssh" and keypair.public_key == PUBLIC
    assert [k.name for k in keypairs.list_keypairs(user)] == ["k1"]
    assert keypairs.get_keypair(user, "k1") == keypair


def test_generate_returns_private_key_once():
    _project, user = make_project_user()
    keypair, private = keypairs.create_keypair(user, "gen")
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert keypair.public_key.startswith("ssh-rsa ") and keypair.public_key.endswith("Generated-by-Nova")
    assert keypair.fingerprint == keypairs.ssh_fingerprint(keypair.public_key)
    assert "PRIVATE" not in KeyPair.objects.get(pk=keypair.pk).public_key


def test_duplicate_names_per_user():
    _p, alice = make_project_user("alice")
    _p, bob = make_project_user("bob")
    keypairs.create_keypair(alice, "k", PUBLIC)
    keypairs.create_keypair(bob, "k", PUBLIC)  # unique per user only
    with pytest.raises(Conflict, match=r"Key pair 'k' already exists."):
        keypairs.create_keypair(alice, "k", PUBLIC)


@pytest.mark.parametrize(
    "name,public_key,message",
    [
        ("", PUBLIC, "between 1 and 255"),
        ("x" * 256, PUBLIC, "between 1 and 255"),
        ("bad/name", PUBLIC, "unsafe characters"),
        ("k", "ssh-rsa not-base64!", "failed to generate fingerprint"),
        ("k", "garbage", "failed to generate fingerprint"),
        ("k", "ssh-rsa " + PUBLIC.split()[1], "failed to generate fingerprint"),  # type mismatch
    ],
)
def test_invalid(name, public_key, message):
    _p, user = make_project_user()
    with pytest.raises(Invalid, match=message):
        keypairs.create_keypair(user, name, public_key)


def test_x509_and_quota_and_delete():
    project, user = make_project_user()
    with pytest.raises(Invalid, match="X509"):
        keypairs.create_keypair(user, "cert", "not a cert", key_type="x509")
    generated, private_key = keypairs.create_keypair(user, "cert", None, key_type="x509")
    assert generated.public_key.startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE KEY" in private_key
    keypairs.delete_keypair(user, "cert")
    quotas.set_quota(project, "key_pairs", 1)
    keypairs.create_keypair(user, "one", PUBLIC, project=project)
    with pytest.raises(OverQuota):
        keypairs.create_keypair(user, "two", PUBLIC, project=project)
    keypairs.delete_keypair(user, "one")
    with pytest.raises(NotFound, match=f"Keypair one not found for user {user.id}"):
        keypairs.delete_keypair(user, "one")
