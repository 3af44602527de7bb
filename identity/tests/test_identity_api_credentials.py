"""/v3/credentials: ec2 credentials (the same rows as OS-EC2) and opaque blobs of other types."""
import hashlib
import json

import pytest

from identity.models import Credential, Ec2Credential

pytestmark = pytest.mark.django_db


def assert_error(response, code, words):
    assert response.status_code == code, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"], error


def test_ec2_credential_create_update_show_list_delete(admin_client, member_account, make_account):
    user, project, _ = member_account
    seeded = set(Ec2Credential.objects.filter(user=user).values_list("access", flat=True))  # made with the user
    other_project = make_account("other", "member", username="other-user")[1]
    blob = json.dumps({"access": "AKIA-one", "secret": "s3cr3t"})
    response = admin_client.post(
        "/v3/credentials",
        {"credential": {"user_id": user.id, "project_id": project.id, "type": "ec2", "blob": blob}},
        format="json",
    )
    assert response.status_code == 201, response.content[:300]
    cred = response.json()["credential"]
    cid = cred["id"]
    assert cred["user_id"] == user.id and cred["project_id"] == project.id and cred["type"] == "ec2"
    assert json.loads(cred["blob"])["access"] == "AKIA-one" and json.loads(cred["blob"])["secret"] == "s3cr3t"
    assert cred["links"]["self"] == f"http://testserver/identity/v3/credentials/{cid}"
    # The very row OS-EC2 serves.
    os_ec2 = admin_client.get(f"/v3/users/{user.id}/credentials/OS-EC2/AKIA-one").json()["credential"]
    assert os_ec2["secret"] == "s3cr3t" and os_ec2["tenant_id"] == project.id

    new_blob = json.dumps({"access": "AKIA-two", "secret": "n3w"})
    patched = admin_client.patch(
        f"/v3/credentials/{cid}",
        {"credential": {"blob": new_blob, "project_id": other_project.id, "type": "ec2"}},
        format="json",
    )
    assert patched.status_code == 200, patched.content[:300]
    body = patched.json()["credential"]
    assert body["id"] == cid and body["project_id"] == other_project.id and body["user_id"] == user.id
    assert json.loads(body["blob"])["access"] == "AKIA-two"
    shown = admin_client.get(f"/v3/credentials/{cid}").json()["credential"]
    assert json.loads(shown["blob"]) == {"access": "AKIA-two", "secret": "n3w", "trust_id": None}
    assert set(Ec2Credential.objects.filter(user=user).values_list("access", flat=True)) == seeded | {"AKIA-two"}

    listed = admin_client.get(f"/v3/credentials?user_id={user.id}&type=ec2").json()["credentials"]
    assert len(listed) == len(seeded) + 1 and cid in [c["id"] for c in listed]
    assert admin_client.get("/v3/credentials?type=totp").json()["credentials"] == []
    assert admin_client.delete(f"/v3/credentials/{cid}").status_code == 204
    assert_error(admin_client.get(f"/v3/credentials/{cid}"), 404, cid)
    assert set(Ec2Credential.objects.filter(user=user).values_list("access", flat=True)) == seeded


def test_ec2_rows_made_elsewhere_are_listed_with_keystone_ids(member_client, member_account):
    user, project, _ = member_account
    Ec2Credential.objects.filter(user=user).delete()
    made = member_client.post(f"/v3/users/{user.id}/credentials/OS-EC2", {"tenant_id": project.id}, format="json")
    assert made.status_code == 201, made.content[:300]
    access = made.json()["credential"]["access"]
    listed = member_client.get("/v3/credentials").json()["credentials"]
    assert [c["id"] for c in listed] == [hashlib.sha256(access.encode()).hexdigest()]
    assert json.loads(listed[0]["blob"])["access"] == access


def test_other_types_are_opaque_and_owned(member_client, member_account, other_client, admin_client):
    user = member_account[0]
    blob = "otpauth-secret-ABC"
    response = member_client.post(
        "/v3/credentials", {"credential": {"user_id": user.id, "type": "totp", "blob": blob}}, format="json"
    )
    assert response.status_code == 201, response.content[:300]
    cred = response.json()["credential"]
    assert cred["blob"] == blob and cred["project_id"] is None and cred["type"] == "totp"
    cid = cred["id"]
    assert member_client.get(f"/v3/credentials/{cid}").json()["credential"]["blob"] == blob
    patched = member_client.patch(f"/v3/credentials/{cid}", {"credential": {"blob": "other"}}, format="json")
    assert patched.status_code == 200 and patched.json()["credential"]["blob"] == "other"
    # Another user neither sees nor changes it.
    assert all(c["user_id"] != user.id for c in other_client.get("/v3/credentials").json()["credentials"])
    assert other_client.get(f"/v3/credentials?user_id={user.id}").json()["credentials"] == []
    assert other_client.get(f"/v3/credentials/{cid}").status_code == 403
    assert other_client.delete(f"/v3/credentials/{cid}").status_code == 403
    assert other_client.post(
        "/v3/credentials", {"credential": {"user_id": user.id, "type": "totp", "blob": "x"}}, format="json"
    ).status_code == 403
    assert Credential.objects.filter(pk=cid, blob="other").exists()
    assert [c["id"] for c in admin_client.get(f"/v3/credentials?user_id={user.id}&type=totp").json()["credentials"]] == [cid]
    assert member_client.delete(f"/v3/credentials/{cid}").status_code == 204


def test_credential_errors(admin_client, member_account):
    user, project, _ = member_account

    def post(ref):
        return admin_client.post("/v3/credentials", {"credential": ref}, format="json")

    assert_error(post({"user_id": user.id, "type": "ec2", "blob": '{"access": "a"}'}), 400, "project")
    assert_error(post({"user_id": user.id, "project_id": project.id, "type": "ec2", "blob": "not json"}), 400, "blob")
    assert_error(post({"user_id": user.id, "project_id": project.id, "type": "ec2", "blob": "{}"}), 400, "access")
    assert_error(post({"user_id": user.id, "type": "totp"}), 400, "blob")
    assert_error(post({"user_id": "nobody", "type": "totp", "blob": "x"}), 400, "user_id")
    assert_error(post({"user_id": user.id, "type": "totp", "blob": "x", "project_id": "nope"}), 400, "project_id")
    assert_error(admin_client.post("/v3/credentials", {"credential": "x"}, format="json"), 400, "credential")
    ok = post({"user_id": user.id, "project_id": project.id, "type": "ec2", "blob": '{"access": "dup"}'})
    assert ok.status_code == 201
    assert_error(post({"user_id": user.id, "project_id": project.id, "type": "ec2", "blob": '{"access": "dup"}'}),
                 409, "Duplicate")
    cid = ok.json()["credential"]["id"]
    assert_error(admin_client.patch(f"/v3/credentials/{cid}", {"credential": {"type": "totp"}}, format="json"),
                 400, "type")
    assert_error(admin_client.patch("/v3/credentials/nope", {"credential": {}}, format="json"), 404, "nope")
    assert_error(admin_client.delete("/v3/credentials/nope"), 404, "nope")
    assert Ec2Credential.objects.filter(user=user, access="dup").count() == 1 and not Credential.objects.exists()
