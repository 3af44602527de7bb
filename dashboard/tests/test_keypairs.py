"""Key pairs: create with a one-time private key download, import, delete, per user."""
from compute.models import KeyPair
from compute.services.keypairs import generate_ssh_keypair


def test_create_offers_the_private_key_exactly_once(member):
    client = member["client"]
    response = client.post("/dashboard/keypairs/", {"kind": "create", "create-name": "mykey"})
    assert response.status_code == 302
    page = client.get("/dashboard/keypairs/").content.decode()
    assert "download mykey.pem" in page and "offered only once" in page
    keypair = KeyPair.objects.get(user=member["user"], name="mykey")
    first = client.get("/dashboard/keypairs/mykey/download/")
    assert first.status_code == 200
    assert first["Content-Disposition"] == 'attachment; filename="mykey.pem"'
    assert first.content.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert keypair.public_key.startswith("ssh-rsa ")
    second = client.get("/dashboard/keypairs/mykey/download/")
    assert second.status_code == 410
    assert b"was offered for download once and is not kept" in second.content
    assert "download mykey.pem" not in client.get("/dashboard/keypairs/").content.decode()


def test_import_and_delete(member):
    client = member["client"]
    _private, public = generate_ssh_keypair()
    assert client.post("/dashboard/keypairs/", {"kind": "import", "import-name": "imported",
                                                "import-public_key": public}).status_code == 302
    page = client.get("/dashboard/keypairs/").content.decode()
    assert "imported" in page and KeyPair.objects.get(name="imported").fingerprint in page
    assert client.get("/dashboard/keypairs/imported/download/").status_code == 410
    assert client.post("/dashboard/keypairs/imported/delete/").status_code == 302
    assert not KeyPair.objects.filter(name="imported").exists()


def test_bad_input_and_duplicates_are_readable_errors(member):
    client = member["client"]
    response = client.post("/dashboard/keypairs/", {"kind": "import", "import-name": "bad",
                                                    "import-public_key": "ssh-rsa notbase64!"})
    assert response.status_code == 400 and b"failed to generate fingerprint" in response.content
    client.post("/dashboard/keypairs/", {"kind": "create", "create-name": "dup"})
    response = client.post("/dashboard/keypairs/", {"kind": "create", "create-name": "dup"})
    assert response.status_code == 400 and b"Key pair &#x27;dup&#x27; already exists." in response.content
    response = client.post("/dashboard/keypairs/", {"kind": "create", "create-name": "bad/name"})
    assert response.status_code == 400 and b"unsafe characters" in response.content


def test_another_users_key_pairs_are_invisible(member, other):
    other["client"].post("/dashboard/keypairs/", {"kind": "create", "create-name": "theirs"})
    assert "theirs" not in member["client"].get("/dashboard/keypairs/").content.decode()
    assert member["client"].get("/dashboard/keypairs/theirs/download/").status_code == 404
    member["client"].post("/dashboard/keypairs/theirs/delete/")
    assert KeyPair.objects.filter(name="theirs", user=other["user"]).exists()
    # and the owner can still download theirs once
    assert other["client"].get("/dashboard/keypairs/theirs/download/").status_code == 200


def test_key_pair_list_queries_do_not_grow(member, django_assert_max_num_queries):
    # +4 over main: the user's settings (page size, time zone) and each table's COUNT (issue 20)
    from compute.models import KeyPair

    KeyPair.objects.bulk_create([KeyPair(user=member["user"], name=f"k{i}", public_key="ssh-rsa AAAA",
                                         fingerprint="00") for i in range(80)])
    with django_assert_max_num_queries(14):
        page = member["client"].get("/dashboard/keypairs/").content.decode()
    # a page of the user's page size (DASHBOARD_PAGE_SIZE, 50, by default), and where it is in the 80
    assert page.count('<tr id="keypair-') == 50
    assert "1–50 of 80" in page


def test_a_name_longer_than_255_is_refused_with_its_length(member):
    response = member["client"].post("/dashboard/keypairs/", {"create-name": "k" * 256})
    assert response.status_code == 400
    assert "This name is 256 characters long; at most 255 are allowed." in response.content.decode()
    assert 'maxlength="255"' not in response.content.decode()
