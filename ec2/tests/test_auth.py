"""Who may call the EC2 API: requests signed by botocore itself (SigV4 in the header and as a
presigned URL, SigV2 with HmacSHA256), checked against the stored EC2 credentials; a wrong
secret, an unknown key, a tampered body, an expired time, a replay past the skew, another
project's credential and an unknown action each get EC2's error document with a 4xx."""
import datetime
import xml.etree.ElementTree as ET

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
import requests
from botocore.exceptions import ClientError

pytestmark = [pytest.mark.django_db(transaction=True)]


def error_of(excinfo) -> tuple[int, str]:
    response = excinfo.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def signed(live_server, credential, body: dict, signer="v4", when=None, region="RegionOne", secret=None):
    """A request botocore signs (its own SigV4Auth / SigV2Auth), ready to send with requests."""
    creds = botocore.credentials.Credentials(credential.access, secret or credential.secret)
    request = botocore.awsrequest.AWSRequest(method="POST", url=f"{live_server.url}/ec2/", data=dict(body),
                                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    if signer == "v4":
        auth = botocore.auth.SigV4Auth(creds, "ec2", region)
        if when is not None:
            class Frozen(datetime.datetime):
                @classmethod
                def now(cls, tz=None):
                    return when.replace(tzinfo=None) if tz is None else when
                @classmethod
                def utcnow(cls):
                    return when.replace(tzinfo=None)
            original = botocore.auth.datetime.datetime
            botocore.auth.datetime.datetime = Frozen
            try:
                auth.add_auth(request)
            finally:
                botocore.auth.datetime.datetime = original
        else:
            auth.add_auth(request)
    else:
        botocore.auth.SigV2Auth(creds).add_auth(request)
    return request.prepare()


def send(prepared):
    response = requests.request(prepared.method, prepared.url, data=prepared.body, headers=dict(prepared.headers),
                                timeout=30)
    root = ET.fromstring(response.content)
    return response.status_code, root


def error_code(root) -> str:
    return root.find("Errors/Error/Code").text


def test_sigv4_header_answers_in_the_requested_version(live_server, ec2_account, ec2):
    _user, _project, credential = ec2_account("ec2demo")
    zones = ec2(credential).describe_availability_zones()  # boto3 signs with SigV4 by default
    assert zones["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert isinstance(zones["AvailabilityZones"], list)
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2016-11-15"}))
    assert status == 200
    assert root.tag == "{http://ec2.amazonaws.com/doc/2016-11-15/}DescribeRegionsResponse"
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2010-08-31"}))
    assert root.tag == "{http://ec2.amazonaws.com/doc/2010-08-31/}DescribeRegionsResponse"
    names = [e.text for e in root.iter("{http://ec2.amazonaws.com/doc/2010-08-31/}regionName")]
    assert names == ["RegionOne"]


def test_sigv2_hmac_sha256_as_botocore_signs_it(ec2_account, ec2):
    _user, _project, credential = ec2_account("ec2demo")
    regions = ec2(credential, signature_version="v2").describe_regions()
    assert [r["RegionName"] for r in regions["Regions"]] == ["RegionOne"]
    with pytest.raises(ClientError) as excinfo:
        ec2(credential, secret="wrong", signature_version="v2").describe_regions()
    assert error_of(excinfo) == (403, "SignatureDoesNotMatch")


def test_presigned_get_url_from_botocore(live_server, ec2_account):
    _user, _project, credential = ec2_account("ec2demo")
    creds = botocore.credentials.Credentials(credential.access, credential.secret)
    request = botocore.awsrequest.AWSRequest(
        method="GET", url=f"{live_server.url}/ec2/", params={"Action": "DescribeRegions", "Version": "2016-11-15"})
    botocore.auth.SigV4QueryAuth(creds, "ec2", "RegionOne", expires=60).add_auth(request)
    url = request.prepare().url
    assert "X-Amz-Signature=" in url
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert b"<regionName>RegionOne</regionName>" in response.content
    tampered = url.replace("DescribeRegions", "DescribeImages")
    response = requests.get(tampered, timeout=30)
    assert response.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in response.content


def test_bad_signatures_and_unknown_keys_are_refused(live_server, ec2_account, ec2):
    _user, _project, credential = ec2_account("ec2demo")
    with pytest.raises(ClientError) as excinfo:
        ec2(credential, secret="not-the-secret").describe_instances()
    assert error_of(excinfo) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as excinfo:
        ec2(credential, access="no-such-access-key").describe_instances()
    assert error_of(excinfo) == (401, "AuthFailure")
    # a body changed after signing (an extra instance id slipped in)
    prepared = signed(live_server, credential, {"Action": "DescribeInstances", "Version": "2016-11-15"})
    prepared.body = prepared.body + "&InstanceId.1=i-00000001"
    prepared.headers["Content-Length"] = str(len(prepared.body))
    status, root = send(prepared)
    assert (status, error_code(root)) == (403, "SignatureDoesNotMatch")  # the body is part of what is signed
    # no signature at all
    response = requests.post(f"{live_server.url}/ec2/", data={"Action": "DescribeRegions", "Version": "2016-11-15"},
                             timeout=30)
    assert response.status_code == 401
    assert ET.fromstring(response.content).find("Errors/Error/Code").text == "MissingAuthenticationToken"
    # a region this cloud does not have
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2016-11-15"},
                               region="us-east-1"))
    assert (status, error_code(root)) == (401, "AuthFailure")


def test_expired_and_replayed_requests(live_server, ec2_account):
    _user, _project, credential = ec2_account("ec2demo")
    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2016-11-15"},
                               when=old))
    assert (status, error_code(root)) == (400, "RequestExpired")
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=20)
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2016-11-15"},
                               when=future))
    assert (status, error_code(root)) == (400, "RequestExpired")


def test_replay_past_the_skew(live_server, ec2_account, settings):
    _user, _project, credential = ec2_account("ec2demo")
    prepared = signed(live_server, credential, {"Action": "DescribeRegions", "Version": "2016-11-15"})
    status, _root = send(prepared)
    assert status == 200
    settings.EC2_CLOCK_SKEW = 0  # the same signed request, sent again once the window has passed
    import time

    time.sleep(1.1)
    status, root = send(prepared)
    assert (status, error_code(root)) == (400, "RequestExpired")


def test_unknown_action_missing_version_and_disabled_user(live_server, ec2_account, ec2):
    user, _project, credential = ec2_account("ec2demo")
    status, root = send(signed(live_server, credential, {"Action": "LaunchRockets", "Version": "2016-11-15"}))
    assert (status, error_code(root)) == (400, "InvalidAction")
    assert root.find("RequestID").text
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions"}))
    assert (status, error_code(root)) == (400, "MissingParameter")
    status, root = send(signed(live_server, credential, {"Action": "DescribeRegions", "Version": "1999-01-01"}))
    assert (status, error_code(root)) == (400, "NoSuchVersion")
    user.is_active = False
    user.save()
    with pytest.raises(ClientError) as excinfo:
        ec2(credential).describe_regions()
    assert error_of(excinfo) == (401, "AuthFailure")


def test_another_projects_credential_sees_nothing_of_this_project(ec2_account, ec2, bootable, sent):
    _user, _project, mine = ec2_account("ec2demo")
    _other_user, _other, theirs = ec2_account("ec2other")
    images = ec2(mine).describe_images(Filters=[{"Name": "name", "Values": ["tiny-img"]}])["Images"]
    reservation = ec2(mine).run_instances(ImageId=images[0]["ImageId"], InstanceType="m1.tiny", MinCount=1,
                                          MaxCount=1)
    instance_id = reservation["Instances"][0]["InstanceId"]
    ec2(mine).create_key_pair(KeyName="mine")
    assert ec2(theirs).describe_instances()["Reservations"] == []
    with pytest.raises(ClientError) as excinfo:
        ec2(theirs).describe_instances(InstanceIds=[instance_id])
    assert error_of(excinfo) == (400, "InvalidInstanceID.NotFound")
    with pytest.raises(ClientError) as excinfo:
        ec2(theirs).terminate_instances(InstanceIds=[instance_id])
    assert error_of(excinfo) == (400, "InvalidInstanceID.NotFound")
    assert ec2(theirs).describe_key_pairs()["KeyPairs"] == []
    assert [r["Instances"][0]["InstanceId"] for r in ec2(mine).describe_instances()["Reservations"]] == [instance_id]


def test_seed_era_get_with_sigv2_as_euca2ools_sent_it(live_server, ec2_account, bootable):
    """A GET with the parameters in the query string, SigV2 (botocore's signer), version 2009-04-04."""
    _user, _project, credential = ec2_account("ec2demo")
    creds = botocore.credentials.Credentials(credential.access, credential.secret)
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"{live_server.url}/ec2/", params={
        "Action": "DescribeImages", "Version": "2009-04-04"})
    botocore.auth.SigV2Auth(creds).add_auth(request)
    url = request.prepare().url
    assert "SignatureVersion=2" in url and "SignatureMethod=HmacSHA256" in url
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    ns = "{http://ec2.amazonaws.com/doc/2009-04-04/}"
    assert root.tag == f"{ns}DescribeImagesResponse"
    assert [e.text for e in root.iter(f"{ns}name")] == ["tiny-img"]
    assert next(e.text for e in root.iter(f"{ns}imageId")).startswith("ami-")
    # the same URL with one parameter changed no longer matches its signature
    response = requests.get(url.replace("DescribeImages", "DescribeRegions"), timeout=30)
    assert response.status_code == 403 and b"SignatureDoesNotMatch" in response.content
