"""Fixtures of the console tests: the API served as `make run` serves it (ASGI), and the real
`openstack` client pointed at it."""
import pytest

from cloudproj.testing.osc import osc_runner

from .asgi_server import asgi_api_server


@pytest.fixture
def asgi_api(tmp_path, transactional_db):
    """Base URL of a gunicorn + uvicorn-worker API process on this test's database."""
    with asgi_api_server(tmp_path) as base:
        yield base


@pytest.fixture
def osc(asgi_api):
    """The `openstack` client against the ASGI server (the root conftest's runs against WSGI)."""
    return osc_runner(asgi_api)



@pytest.fixture
def asgi_browser(asgi_api, request, tmp_path):
    """Headless Chromium on the ASGI server (cloudproj/testing/browser.py's session)."""
    from cloudproj.testing.browser import open_browser

    yield from open_browser(asgi_api, request, tmp_path)
