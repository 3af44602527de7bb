"""GET /metrics: the Prometheus text format, for clients in METRICS_ALLOWED_CIDRS only.

It is unauthenticated (Prometheus scrapes without Keystone tokens) and tells a caller about
hosts, queues and instance counts, so by default only loopback may read it.
"""
import ipaddress

from django.conf import settings
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from .collectors import InstanceStateCollector, QueueDepthCollector


def client_allowed(remote_addr: str) -> bool:
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in settings.METRICS_ALLOWED_CIDRS)


def metrics(request):
    if not client_allowed(request.META.get("REMOTE_ADDR", "")):
        return HttpResponse("Forbidden: not in METRICS_ALLOWED_CIDRS\n", status=403, content_type="text/plain")
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(InstanceStateCollector())
    scrape.register(QueueDepthCollector())
    body = generate_latest(process_registry()) + generate_latest(scrape)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def process_registry():
    """This process's metrics, or under gunicorn's prefork workers (PROMETHEUS_MULTIPROC_DIR,
    cloudproj.gunicorn_conf) those of every worker, read from their files."""
    if not settings.PROMETHEUS_MULTIPROC_DIR:
        return REGISTRY
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry
