"""API latency by resolved route: the URL pattern's name (its pattern when unnamed), so ids
never become label values; and one access log line per request (Nova's API logs the same),
written while the request id is set, so the API's line of a request carries its id."""
import logging
import time

from .metrics import API_LATENCY


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = (match.view_name or match.route) if match else "<unmatched>"
        API_LATENCY.labels(route, request.method, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response


access_log = logging.getLogger("cloudproj.api.access")


class AccessLogMiddleware:
    """`POST /compute/v2.1/servers 202 12.3 ms` at INFO for every request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        access_log.info("%s %s %s %.1f ms", request.method, request.get_full_path(), response.status_code,
                        (time.perf_counter() - started) * 1000)
        return response
