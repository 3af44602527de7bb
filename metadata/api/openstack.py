"""The OpenStack layout (what config-drive and cloud-init's OpenStack source read).

    /openstack                    2012-08-10 2013-04-04 2013-10-17 2015-10-15 latest
    /openstack/<version>/         meta_data.json  user_data (only with user data)  vendor_data.json (2013-10-17+)
    /openstack/<version>/meta_data.json
        uuid, name, hostname, launch_index, availability_zone, meta (when set), public_keys and
        keys (with a key pair), random_seed (2013-04-04+), project_id (2015-10-15+)
    /openstack/<version>/user_data        the decoded user data
    /openstack/<version>/password         (2013-04-04+) what the guest posted there, once
        (POST, at most 1020 bytes; 409 when set): the owner reads it with os-server-password
"""
import base64
import json
import os

from .ec2 import LATEST, NotFound
from ..services.sources import InstanceData

VERSIONS = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"]
GRIZZLY, HAVANA, LIBERTY = "2013-04-04", "2013-10-17", "2015-10-15"


def meta_data(data: InstanceData, version: str) -> dict:
    instance = data.instance
    body = {"uuid": str(instance.uuid)}
    if instance.metadata:
        body["meta"] = {str(k): str(v) for k, v in instance.metadata.items()}
    if data.keys:
        body["public_keys"] = {key["name"]: key["data"] for key in data.keys}
        body["keys"] = [dict(key) for key in data.keys]
    body["hostname"] = data.hostname
    body["name"] = instance.display_name
    body["launch_index"] = instance.launch_index
    body["availability_zone"] = data.availability_zone
    if version >= GRIZZLY:
        body["random_seed"] = base64.b64encode(os.urandom(512)).decode()
    if version >= LIBERTY:
        body["project_id"] = str(instance.project_id)
    return body


def version_tree(data: InstanceData, version: str) -> dict:
    if version == LATEST:
        version = VERSIONS[-1]
    if version not in VERSIONS:
        raise NotFound(version)
    tree = {"meta_data.json": json.dumps(meta_data(data, version))}
    if data.user_data is not None:
        tree["user_data"] = data.user_data
    if version >= HAVANA:
        tree["vendor_data.json"] = json.dumps({})
    if version >= GRIZZLY:
        tree["password"] = data.password
    return tree


def is_password_path(tokens: list[str]) -> bool:
    """openstack/<version>/password of a version that has it."""
    if len(tokens) != 3 or tokens[0] != "openstack" or tokens[2] != "password":
        return False
    return tokens[1] == LATEST or (tokens[1] in VERSIONS and tokens[1] >= GRIZZLY)
