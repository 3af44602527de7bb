"""A fuzz pass over every action this cloud answers: each parameter of the action's input shape
(read from botocore's own EC2 service model, so the names are those the real clients send),
filled with hostile and mistyped values, signed by botocore's SigV4 signer and sent to a live
server. Every answer is EC2 XML and none is a 5xx."""
import random
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session
import pytest
import requests

from ec2.services.actions import ACTIONS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VALUES = ["", "x" * 300, "-1", "0", "99999999999999999999", "true", "maybe", "i-00000001", "i-zzzz", "ami-00000001",
          "aki-ffffffff", "vol-00000001", "snap-00000001", "sg-00000001", "eipalloc-00000001", "eipassoc-00000001",
          "key-00000001", "i-ffffffffffffffff", "vol-8000000000000000",
          "default", "0.0.0.0/0", "10.0.0.0/33", "203.0.113.1", "tcp", "icmp", "/dev/vdb",
          "m1.tiny", "\u2603\u202e<x>&amp;'\"", "a b/c?d=e&f", "Zm9v", "!!notbase64!!", "*", "i-*"]


def flat_names(model, shape, prefix="", depth=0) -> list[str]:
    """The query keys of a shape's members, as botocore's EC2 serializer names them."""
    names = []
    for member_name, member in shape.members.items():
        name = member.serialization.get("queryName") or (
            member.serialization.get("name", member_name)[:1].upper() + member.serialization.get("name", member_name)[1:])
        key = f"{prefix}{name}"
        if member.type_name == "list":
            item = member.member
            if item.type_name == "structure" and depth < 2:
                names += flat_names(model, item, f"{key}.1.", depth + 1)
            else:
                names.append(f"{key}.1")
        elif member.type_name == "structure" and depth < 2:
            names += flat_names(model, member, f"{key}.", depth + 1)
        else:
            names.append(key)
    return names


def sign(url: str, credential, params: dict):
    creds = botocore.credentials.Credentials(credential.access, credential.secret)
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=params,
                                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(creds, "ec2", "RegionOne").add_auth(request)
    return request.prepare()


def test_no_action_answers_a_5xx(live_server, ec2_account, bootable, sent):
    _user, _project, credential = ec2_account("ec2fuzz")
    model = botocore.session.get_session().get_service_model("ec2")
    url = f"{live_server.url}/ec2/"
    session = requests.Session()
    rng = random.Random(19)
    failures = []
    sent_count = 0
    for action in sorted(ACTIONS):
        names = [n for n in flat_names(model, model.operation_model(action).input_shape) if n != "DryRun"]
        cases = [{}] + [{name: value} for name in names for value in rng.sample(VALUES, 2)]
        cases += [{name: rng.choice(VALUES) for name in names} for _ in range(6)]
        cases += [{"InstanceId.0": "i-00000001", "Filter.1.Name": "x", "Tag.99999.Key": "k"}]
        for params in cases:
            prepared = sign(url, credential, {"Action": action, "Version": "2016-11-15", **params})
            response = session.request("POST", prepared.url, data=prepared.body, headers=dict(prepared.headers),
                                       timeout=60)
            sent_count += 1
            root = ET.fromstring(response.content)  # always XML
            if response.status_code >= 500:
                failures.append((action, params, response.status_code, response.content[:300]))
            elif response.status_code >= 400:
                assert root.tag == "Response" and root.find("Errors/Error/Code").text, response.content
    assert sent_count > 600
    assert failures == []
