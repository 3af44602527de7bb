"""The service catalog: where clients find each API, built from the public base URL.

Every service lives under one base URL, devstack-style (`<base>/identity`, `<base>/compute/v2.1`,
`<base>/image`, `<base>/volume/v3/<project_id>`, `<base>/network`). The `network` entry has no
version in its URL: clients append `v2.0` themselves (a catalog URL ending in /v2.0 makes them
call /v2.0/v2.0/...). With it, today's clients manage networks, ports, security groups and
floating IPs through the Networking API (network/api/neutron/).
"""
import uuid

from django.conf import settings

INTERFACES = ("public", "internal", "admin")

# (type, name, path under the base URL; "{project_id}" is filled in per token)
SERVICES = (
    ("identity", "keystone", "/identity"),
    ("compute", "nova", "/compute/v2.1"),
    ("image", "glance", "/image"),
    ("network", "neutron", "/network"),
    ("block-storage", "cinder", "/volume/v3/{project_id}"),
    ("volumev3", "cinderv3", "/volume/v3/{project_id}"),
)


def base_url(request=None) -> str:
    """The URL clients reach the cloud at: settings.PUBLIC_ENDPOINT, else the request's host."""
    if settings.PUBLIC_ENDPOINT:
        return settings.PUBLIC_ENDPOINT.rstrip("/")
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return "http://localhost"


def _stable_id(*parts: str) -> str:
    """Catalog ids do not change between tokens (clients may cache them)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)).hex


def _service_url(base: str, path: str, project_id: str | None) -> str | None:
    if "{project_id}" in path:
        if not project_id:
            return None
        path = path.format(project_id=project_id)
    return base + path


def service_catalog(base: str, project_id: str | None) -> list[dict]:
    """Keystone v3 catalog (token body `catalog`, GET /v3/auth/catalog)."""
    region = settings.CLOUD_REGION
    catalog = []
    for service_type, name, path in SERVICES:
        url = _service_url(base, path, project_id)
        if url is None:
            continue
        endpoints = [
            {
                "id": _stable_id(service_type, interface, region),
                "interface": interface,
                "region": region,
                "region_id": region,
                "url": url,
            }
            for interface in INTERFACES
        ]
        catalog.append(
            {"id": _stable_id(service_type), "type": service_type, "name": name, "endpoints": endpoints}
        )
    return catalog


def v2_service_catalog(base: str, project_id: str | None) -> list[dict]:
    """Keystone v2.0 `serviceCatalog` (publicURL/internalURL/adminURL per endpoint)."""
    region = settings.CLOUD_REGION
    catalog = []
    for service_type, name, path in SERVICES:
        url = _service_url(base, path, project_id)
        if url is None:
            continue
        if service_type == "identity":
            url = base + "/v2.0"
        endpoint = {
            "id": _stable_id(service_type, region),
            "region": region,
            "publicURL": url,
            "internalURL": url,
            "adminURL": url,
        }
        catalog.append({"type": service_type, "name": name, "endpoints": [endpoint], "endpoints_links": []})
    return catalog
