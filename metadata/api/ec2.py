"""The EC2 layout, as Nova's metadata service builds and prints it (nova/api/metadata/base.py).

    /                       1.0 2007-01-19 ... 2009-04-04 latest   (one per line)
    /<version>/             meta-data/  user-data (only when there is user data)
    /<version>/meta-data/   ami-id ami-launch-index ... (sorted; dicts end with '/')
    /<version>/user-data    the decoded user data

Keys appear from the version that introduced them (public-ipv4 from 2007-01-19,
instance-type from 2007-08-29 ...). public-keys/ lists `0=<key name>`; public-keys/0/ lists
`openssh-key`.
"""
from ..services.sources import InstanceData

VERSIONS = ["1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
            "2008-09-01", "2009-04-04"]
LATEST = "latest"
# EC2 answers this for images that were not bundled to S3 (ours never are)
AMI_MANIFEST_PATH = "(unknown)"


class NotFound(LookupError):
    pass


def _since(wanted: str, version: str) -> bool:
    return version >= wanted  # ISO dates ("1.0" sorts before every date)


def meta_data(data: InstanceData, version: str) -> dict:
    instance = data.instance
    fixed_ip = data.fixed_ips[0] if data.fixed_ips else ""
    tree = {
        "ami-id": data.ami_id,
        "ami-launch-index": instance.launch_index,
        "ami-manifest-path": AMI_MANIFEST_PATH,
        "instance-id": instance.ec2_id,
        "hostname": data.hostname,
        "local-ipv4": fixed_ip,
        "reservation-id": instance.reservation_id,
        "security-groups": list(data.security_groups),
    }
    if data.keys:
        first = data.keys[0]
        tree["public-keys"] = {"0": {"_name": f"0={first['name']}", "openssh-key": first["data"]}}
    if _since("2007-01-19", version):
        tree["local-hostname"] = data.hostname
        tree["public-hostname"] = data.hostname
        tree["public-ipv4"] = data.floating_ips[0] if data.floating_ips else ""
    if _since("2007-08-29", version):
        tree["instance-type"] = instance.flavor_name
    if _since("2007-12-15", version):
        tree["block-device-mapping"] = data.block_device_mapping
        if data.kernel_id:
            tree["kernel-id"] = data.kernel_id
        if data.ramdisk_id:
            tree["ramdisk-id"] = data.ramdisk_id
    if _since("2008-02-01", version):
        tree["placement"] = {"availability-zone": data.availability_zone}
    if _since("2008-09-01", version):
        tree["instance-action"] = "none"
    return tree


def version_tree(data: InstanceData, version: str) -> dict:
    if version == LATEST:
        version = VERSIONS[-1]
    if version not in VERSIONS:
        raise NotFound(version)
    tree = {"meta-data": meta_data(data, version)}
    if data.user_data is not None:
        tree["user-data"] = data.user_data
    return tree


def find(tree, tokens: list[str]):
    """The value at `tokens` inside nested dicts (Nova's find_path_in_tree)."""
    for token in tokens:
        if not isinstance(tree, dict) or token not in tree or token == "_name":
            raise NotFound("/".join(tokens))
        tree = tree[token]
    return tree


def render(value) -> str | bytes:
    """Nova's ec2_md_print: a dict lists its keys (sorted; sub-dicts as `key/`, or their
    `_name`), a list one item per line, anything else as text; bytes stay bytes."""
    if isinstance(value, dict):
        lines = []
        for key in sorted(value):
            if key == "_name":
                continue
            item = value[key]
            if isinstance(item, dict):
                lines.append(str(item["_name"]) if "_name" in item else f"{key}/")
            else:
                lines.append(key)
        return "\n".join(lines)
    if isinstance(value, (list, tuple)):
        return "\n".join(str(item) for item in value)
    if isinstance(value, bytes):
        return value
    return str(value)
