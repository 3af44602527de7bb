"""The pure parts of `make conformance` (scripts/conformance.py): the skip list's parser and the
tempest.conf writer. No I/O here: the script probes the running cloud into a `CloudFacts`,
this module turns it into the configuration text, so both are unit-tested without a cloud
(tests/test_conformance_config.py).
"""
import configparser
import io
import re
from dataclasses import dataclass, field

#: What tempest needs switched off because the cloud does not have it (compute server actions
#: and APIs not implemented by compute/api/server_actions.py today). Each entry is the tempest
#: option and why; flip one to True in the same commit that implements the feature.
COMPUTE_FEATURES: dict[str, tuple[bool, str]] = {
    "console_output": (True, "os-getConsoleOutput"),
    "pause": (True, "pause/unpause"),
    "suspend": (True, "suspend/resume"),
    "snapshot": (True, "createImage"),
    "vnc_console": (True, "os-getVNCConsole / remote-consoles"),
    "metadata_service": (True, "metadata service at 169.254.169.254"),
    "personality": (False, "rebuild/create refuse personality files"),
    "change_password": (False, "no changePassword action"),
    "resize": (True, "resize/confirmResize/revertResize (to the same host: ALLOW_RESIZE_TO_SAME_HOST)"),
    "cold_migration": (True, "migrate (multi-host tests skip: min_compute_nodes 1)"),
    "live_migration": (False, "tempest's live migration tests need two compute nodes; its run here has one"),
    "shelve": (True, "shelve/shelveOffload/unshelve"),
    "shelve_migrate": (True, "unshelve of an offloaded server schedules it anew"),
    "rescue": (True, "rescue/unrescue"),
    "serial_console": (False, "no serial console"),
    "spice_console": (False, "no SPICE console"),
    "rdp_console": (False, "no RDP console"),
    "interface_attach": (False, "no os-interface (needs the Networking API)"),
    "attach_encrypted_volume": (False, "no volume encryption"),
    "config_drive": (False, "no config drive"),
    "swap_volume": (False, "no volume swap (os-volume_attachments PUT)"),
    "volume_multiattach": (False, "no multiattach volumes"),
    "block_migration_for_live_migration": (False, "needs two compute nodes (see live_migration)"),
    "console_auth_tokens": (False, "no os-console-auth-tokens"),
    "hostname_fqdn_sanitization": (False, "microversion 2.94 not offered"),
    "unified_limits": (False, "no unified limits"),
    "stable_rescue": (False, "no stable rescue (2.87: volume-backed servers, hw_rescue_device/bus)"),
    "disk_config": (True, "OS-DCF:diskConfig accepted"),
}


@dataclass
class SkipEntry:
    regex: str
    reason: str
    line: int


class SkipListError(ValueError):
    pass


def parse_skip_list(text: str) -> list[SkipEntry]:
    """`regex  # reason` per line; blank lines and lines that are only a comment are allowed.
    An entry without a reason, or whose regex does not compile, is an error: nothing may be
    skipped without saying which feature the cloud lacks."""
    entries = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        regex, sep, reason = line.partition("#")
        regex, reason = regex.strip(), reason.strip()
        if not sep or not reason:
            raise SkipListError(f"line {number}: {regex!r} has no reason (write `regex  # the missing feature`)")
        try:
            re.compile(regex)
        except re.error as exc:
            raise SkipListError(f"line {number}: {regex!r} is not a regular expression ({exc})") from None
        entries.append(SkipEntry(regex, reason, number))
    return entries


def exclude_list_text(entries: list[SkipEntry]) -> str:
    """The file handed to `tempest run --exclude-list` (tempest also accepts `#` comments, but
    a bare list of regexes keeps it independent of its parser)."""
    return "".join(f"{entry.regex}\n" for entry in entries)


@dataclass
class CloudFacts:
    """What the script learnt from the running cloud (or decided for it)."""

    identity_uri_v3: str
    admin_username: str
    admin_password: str
    admin_project: str
    region: str
    catalog_types: set[str]
    compute_min_version: str
    compute_max_version: str
    image_versions: list[str]
    volume_min_version: str | None
    volume_max_version: str | None
    image_ref: str
    image_ref_alt: str
    flavor_ref: str
    flavor_ref_alt: str
    fixed_network_name: str
    log_file: str
    lock_path: str
    floating_network_name: str | None = None  # the floating pool (os-floating-ips' `pool`)
    extra: dict[str, dict[str, str]] = field(default_factory=dict)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def render_tempest_conf(facts: CloudFacts) -> str:
    """etc/tempest.conf describing the cloud as it is: services from the catalog, microversion
    ranges from the version documents, features from COMPUTE_FEATURES."""
    has = facts.catalog_types.__contains__
    volume_type = "block-storage" if has("block-storage") else "volumev3"
    conf = configparser.ConfigParser(interpolation=None)
    conf["DEFAULT"] = {"log_file": facts.log_file, "use_stderr": "false"}
    conf["oslo_concurrency"] = {"lock_path": facts.lock_path}
    conf["auth"] = {
        "use_dynamic_credentials": "true",
        "create_isolated_networks": "false",
        "admin_username": facts.admin_username,
        "admin_password": facts.admin_password,
        "admin_project_name": facts.admin_project,
        "admin_domain_name": "Default",
        "default_credentials_domain_name": "Default",
        # the users tempest creates get the seeds' `netadmin` role (not `member`, which would
        # widen its project_reader credentials): allocating and (dis)associating floating IPs
        # takes it here (floating/policies.py), as Nova's tests expect any user may
        "tempest_roles": "netadmin",
    }
    conf["identity"] = {
        "auth_version": "v3",
        "uri_v3": facts.identity_uri_v3,
        "region": facts.region,
        "v3_endpoint_type": "public",
    }
    conf["identity-feature-enabled"] = {
        "api_v2": "false",
        "api_v3": "true",
        "domain_specific_drivers": "false",
        "security_compliance": "false",
        "project_tags": "false",
        "application_credentials": "false",
        "access_rules": "false",
        "trust": "false",
    }
    conf["compute"] = {
        "image_ref": facts.image_ref,
        "image_ref_alt": facts.image_ref_alt,
        "flavor_ref": facts.flavor_ref,
        "flavor_ref_alt": facts.flavor_ref_alt,
        "min_microversion": facts.compute_min_version,
        "max_microversion": facts.compute_max_version,
        "fixed_network_name": facts.fixed_network_name,
        "region": facts.region,
        "build_timeout": "300",
        "min_compute_nodes": "1",
    }
    conf["compute-feature-enabled"] = {name: _bool(on) for name, (on, _why) in COMPUTE_FEATURES.items()}
    conf["image"] = {"region": facts.region, "build_timeout": "120"}
    conf["image-feature-enabled"] = {
        "api_v2": _bool(any(v.startswith("v2") for v in facts.image_versions)),
        "api_v1": _bool(any(v.startswith("v1") for v in facts.image_versions)),
        "import_image": "false",
        "os_glance_reserved": "false",
    }
    # what the pools' capabilities say (volumes/api/admin.py): vendor cloudproj; the conformance
    # cloud keeps volumes as files (VOLUME_EXPORT none, the file driver)
    conf["volume"] = {"catalog_type": volume_type, "region": facts.region, "build_timeout": "120",
                      "vendor_name": "cloudproj", "storage_protocol": "file"}
    if facts.volume_min_version and facts.volume_max_version:
        conf["volume"]["min_microversion"] = facts.volume_min_version
        conf["volume"]["max_microversion"] = facts.volume_max_version
    conf["volume-feature-enabled"] = {
        "backup": "false",
        "snapshot": "true",
        "clone": "false",
        "manage_volume": "false",
        "manage_snapshot": "false",
        "extend_attached_volume": "false",
        "multi_backend": "false",
        "cluster_active_active": "false",
    }
    conf["validation"] = {"run_validation": "false"}
    if facts.floating_network_name:
        conf["network"] = {"floating_network_name": facts.floating_network_name}
    conf["service_available"] = {
        "nova": _bool(has("compute")),
        "glance": _bool(has("image")),
        "cinder": _bool(has("block-storage") or has("volumev3")),
        "neutron": _bool(has("network")),
        "swift": _bool(has("object-store")),
        "heat": "false",
        "horizon": "false",
        "placement": _bool(has("placement")),
    }
    for section, values in facts.extra.items():
        if not conf.has_section(section):
            conf[section] = {}
        conf[section].update(values)
    out = io.StringIO()
    conf.write(out)
    return out.getvalue()


def version_range(document: dict) -> tuple[str | None, str | None]:
    """(min_version, version) of a compute/volume version document: `{"version": {...}}` or
    `{"versions": [...]}` (the CURRENT entry). Empty strings (no microversions) are None."""
    entry = document.get("version")
    if entry is None:
        versions = document.get("versions") or []
        current = [v for v in versions if v.get("status") == "CURRENT"] or versions
        entry = current[0] if current else {}
    return entry.get("min_version") or None, entry.get("version") or None
