"""The service catalog: where clients find each API, built from the public base URL.

Every service lives under one base URL, devstack-style (`<base>/identity`, `<base>/compute/v2.1`,
`<base>/image`, `<base>/volume/v3/<project_id>`, `<base>/network`, `<base>/ec2/`). The catalog is data
(identity.models Region, Service, Endpoint): SERVICES below seeds it after every migrate
(ensure_catalog), and operators add regions, services and endpoints through /v3/regions,
/v3/services and /v3/endpoints. Seeded endpoint urls are stored as paths ("/compute/v2.1") and
put under the base URL when a catalog is built, so PUBLIC_ENDPOINT (or the request's host) still
decides the host. The `network` entry has no version in its URL: clients append `v2.0`
themselves (a catalog URL ending in /v2.0 makes them call /v2.0/v2.0/...). With it, today's
clients manage networks, ports, security groups and floating IPs through the Networking API
(network/api/neutron/).
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
    ("ec2", "ec2", "/ec2/"),  # the EC2 Query API (signed with EC2 credentials, not tokens)
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


PROJECT_ID_TEMPLATES = ("{project_id}", "$(project_id)s", "$(tenant_id)s", "%(tenant_id)s", "%(project_id)s")


def ensure_catalog() -> None:
    """Seed the default domain, the cloud's region and one service (with a public, internal and
    admin endpoint) per SERVICES line whose type is not registered yet. Runs after every
    migrate and at bootstrap, so a line added to SERVICES appears without a new migration.
    Seeded endpoint urls are paths relative to the base URL; an operator's may be absolute."""
    from identity.models import Domain, Endpoint, Region, Service

    Domain.objects.get_or_create(
        id=settings.DEFAULT_DOMAIN_ID,
        defaults={"name": settings.DEFAULT_DOMAIN_NAME, "description": "The default domain"},
    )
    region, _ = Region.objects.get_or_create(id=settings.CLOUD_REGION)
    for service_type, name, path in SERVICES:
        if Service.objects.filter(type=service_type).exists():
            continue
        service = Service.objects.create(id=_stable_id(service_type), type=service_type, name=name)
        for interface in INTERFACES:
            Endpoint.objects.create(
                id=_stable_id(service_type, interface, region.id),
                service=service,
                region=region,
                interface=interface,
                url=path,
            )


def endpoint_url(base: str, url: str) -> str:
    """An endpoint's url as clients see it: relative paths are put under the base URL."""
    return base + url if url.startswith("/") else url


def _service_url(base: str, url: str, project_id: str | None) -> str | None:
    if any(t in url for t in PROJECT_ID_TEMPLATES):
        if not project_id:
            return None
        for template in PROJECT_ID_TEMPLATES:
            url = url.replace(template, project_id)
    return endpoint_url(base, url)


def _catalog_services():
    from identity.models import Service

    return Service.objects.filter(enabled=True).prefetch_related("endpoints").order_by("type", "name")


def service_catalog(base: str, project_id: str | None) -> list[dict]:
    """Keystone v3 catalog (token body `catalog`, GET /v3/auth/catalog), from the enabled
    services and endpoints."""
    catalog = []
    for service in _catalog_services():
        endpoints = []
        for endpoint in sorted(service.endpoints.all(), key=lambda e: (e.region_id or "", e.interface)):
            url = _service_url(base, endpoint.url, project_id)
            if not endpoint.enabled or url is None:
                continue
            endpoints.append(
                {
                    "id": endpoint.id,
                    "interface": endpoint.interface,
                    "region": endpoint.region_id,
                    "region_id": endpoint.region_id,
                    "url": url,
                }
            )
        if endpoints:
            catalog.append({"id": service.id, "type": service.type, "name": service.name, "endpoints": endpoints})
    return catalog


def v2_service_catalog(base: str, project_id: str | None) -> list[dict]:
    """Keystone v2.0 `serviceCatalog` (publicURL/internalURL/adminURL per region)."""
    catalog = []
    for entry in service_catalog(base, project_id):
        by_region: dict = {}
        for endpoint in entry["endpoints"]:
            url = endpoint["url"]
            if entry["type"] == "identity":
                url = base + "/v2.0"
            region = endpoint["region"]
            ref = by_region.setdefault(region, {"id": _stable_id(entry["type"], region or ""), "region": region})
            ref[f"{endpoint['interface']}URL"] = url
        endpoints = [ref for ref in by_region.values() if "publicURL" in ref]
        for ref in endpoints:
            ref.setdefault("internalURL", ref["publicURL"])
            ref.setdefault("adminURL", ref["publicURL"])
        if endpoints:
            catalog.append(
                {"type": entry["type"], "name": entry["name"], "endpoints": endpoints, "endpoints_links": []}
            )
    return catalog
