"""The API process imports no host driver.

A fresh Python process loads the API exactly as `make run` and docker/entrypoint.sh start it
(`gunicorn -c python:cloudproj.gunicorn_conf cloudproj.asgi:application`): the gunicorn
config, the ASGI application (which sets Django up: every AppConfig.ready runs) and the whole
URLconf with every view it names (Django imports it on the first request). Then no module
that touches the host may be loaded: anything under a `linux` or `drivers` package of an app,
`compute.virt`, the agent, libvirt, the host boundary's iptables writer and subprocess runner.

Allowed on purpose (ALLOWED, exact names): modules that are pure data or interfaces, and the
Image API's own store. Known offenders being removed by other branches sit in KNOWN_OFFENDERS with how
they get in; that list may only shrink. Any other host module fails the test, with the chain
of imports that brought it in.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("cloudproj", "compute", "network", "secgroups", "floating", "metadata", "volumes", "images",
        "identity", "dashboard", "consoles")

PROBE = r"""
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")
parents = {}
import builtins
_import = builtins.__import__
stack = []
def tracing_import(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "?")
    before = set(sys.modules)
    module = _import(name, globals, locals, fromlist, level)
    for new in set(sys.modules) - before:
        parents.setdefault(new, importer)
    return module
builtins.__import__ = tracing_import

import cloudproj.gunicorn_conf  # gunicorn -c python:cloudproj.gunicorn_conf
import cloudproj.asgi  # cloudproj.asgi:application (django.setup(): every AppConfig.ready)
from django.urls import get_resolver

def load(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            load(pattern.url_patterns)

load(get_resolver().url_patterns)  # the URLconf and every view it names, as the first request does
print(json.dumps({"modules": sorted(sys.modules), "parents": parents}))
"""

# Pure data or interfaces, or needed by the API itself; none runs anything on the host.
ALLOWED = {
    # compute.states (the instance states the models store) takes the power-state numbers
    # from here: integers and names, no libvirt.
    "compute.virt.power_state": "power-state constants",
    # The package re-exports driver and spec; get_driver() imports libvirt only when called.
    "compute.virt": "package of re-exports",
    "compute.virt.driver": "the abstract driver interface, its dataclasses and exceptions",
    "compute.virt.spec": "the instance spec dataclass and the domain-name rules",
    # The Image API writes uploads into the image store and checks their format with
    # `qemu-img info` in the API process, as Glance's API does with its store.
    "images.drivers": "package docstring only",
    "images.drivers.store": "the Image API's own store (uploads, downloads)",
    "images.drivers.qemu_img": "upload format checks (qemu-img info, bounded in time)",
}

# Imported today through code other branches are reworking; this list may only shrink.
KNOWN_OFFENDERS = {
    # compute.api.server_actions -> compute.services.snapshots, whose agent half (run_snapshot)
    # copies the disk: that half belongs in a module only the agent's tasks import.
    "compute.virt.snapshot": "arch-host: agent half of compute.services.snapshots",
    "images.drivers.cache": "arch-host: compute.services.snapshots -> compute.services.host_resources",
    # compute.services.operations -> network.services.host, network.services.fixed_ips -> dnsmasq
    "network.linux": "arch-host: network host services imported by compute services the API uses",
    # the same two ways in: network.linux (isolation, bridge) and volumes.drivers (base)
    "cloudproj.host.iptables": "arch-host: network.linux.isolation, through compute.services.operations",
    "cloudproj.host.run": "arch-host: network.linux and volumes.drivers, through the two paths above",
    # volumes.services.attachments (API attach/detach) imports the driver package at module level
    "volumes.drivers": "volumes.services.attachments: driver calls belong to the volume host's tasks",
}


def _is_host_module(name: str) -> bool:
    parts = name.split(".")
    if parts[0] == "libvirt" or name == "compute.agent":
        return True
    if parts[0] not in APPS:
        return False
    if name == "compute.virt" or name.startswith("compute.virt."):
        return True
    if name in ("cloudproj.host.iptables", "cloudproj.host.run"):
        return True
    return "linux" in parts[1:] or "drivers" in parts[1:]


def _covered(name: str, table: dict) -> bool:
    return any(name == key or name.startswith(key + ".") for key in table)


def _chain(name: str, parents: dict) -> str:
    chain, seen = [name], {name}
    while (parent := parents.get(chain[-1])) and parent not in seen and parent != "?":
        chain.append(parent)
        seen.add(parent)
    return " <- ".join(chain)


def _api_process_imports() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_api_process_imports_no_host_driver():
    loaded = _api_process_imports()
    host_modules = [name for name in loaded["modules"] if _is_host_module(name)]
    unexpected = [name for name in host_modules if name not in ALLOWED and not _covered(name, KNOWN_OFFENDERS)]
    assert not unexpected, "the API process imports host code:\n" + "\n".join(
        _chain(name, loaded["parents"]) for name in unexpected)


def test_the_probe_sees_what_the_api_serves():
    """The probe is not vacuous: it loads the views of every API and the console proxy."""
    modules = set(_api_process_imports()["modules"])
    assert {"compute.api.servers", "identity.api.token_views", "images.api.v2", "consoles.api.websockify",
            "dashboard.views.instances", "identity.services.policy"} <= modules


def test_the_detector_knows_host_modules():
    assert _is_host_module("network.linux.dnsmasq")
    assert _is_host_module("volumes.drivers.lvm")
    assert _is_host_module("compute.virt.libvirt_driver")
    assert _is_host_module("libvirt")
    assert _is_host_module("cloudproj.host.iptables")
    assert not _is_host_module("compute.services.instances")
    assert not _is_host_module("cloudproj.host.hooks")
    assert "compute.virt.libvirt_driver" not in ALLOWED and "images.drivers.cache" not in ALLOWED
