"""Today's OpenStack clients, beside the pinned ones: the latest python-openstackclient and
openstacksdk from the package index, in a venv of their own (`.cache/latest-clients`, built once
per clone, under a file lock so parallel workers share it). Users bring these releases; the
pinned client in requirements-dev.txt only stays beside them.

    latest_osc("network", "list")            # the `openstack` CLI, parsed JSON output
    latest_sdk(script)                       # a Python script run with the latest openstacksdk,
                                             # `conn` already connected; returns its stdout's JSON
"""
import fcntl
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .osc import client_env, osc_runner

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".cache" / "latest-clients"
PACKAGES = ("python-openstackclient", "openstacksdk")
# the interpreter the project venv was made from (a venv of a venv would inherit nothing useful)
BASE_PYTHON = str(Path(sys.base_prefix) / "bin" / "python3")


def ensure_latest_clients() -> Path:
    """The venv's bin directory, creating the venv with the newest releases when it is missing."""
    VENV.parent.mkdir(parents=True, exist_ok=True)
    ready = VENV / ".ready"
    with open(VENV.parent / "latest-clients.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not ready.exists():
            subprocess.run([BASE_PYTHON, "-m", "venv", "--clear", str(VENV)], check=True, timeout=300)
            proc = subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "--upgrade", *PACKAGES],
                                  capture_output=True, text=True, timeout=900)
            if proc.returncode != 0:
                raise RuntimeError(f"installing the latest {', '.join(PACKAGES)} failed:\n{proc.stderr[-3000:]}")
            ready.write_text(installed_versions(VENV / "bin"))
    return VENV / "bin"


def installed_versions(bin_dir: Path) -> str:
    proc = subprocess.run([str(bin_dir / "pip"), "list", "--format", "json"], capture_output=True, text=True,
                          check=True, timeout=120)
    wanted = {p.lower() for p in PACKAGES}
    return json.dumps({p["name"]: p["version"] for p in json.loads(proc.stdout) if p["name"].lower() in wanted})


def latest_osc_runner(base_url: str):
    """Like the `osc` fixture's runner, with the latest `openstack` CLI."""
    return osc_runner(base_url, openstack_bin=str(ensure_latest_clients() / "openstack"))


def latest_sdk_runner(base_url: str):
    """run(script, user=..., password=..., project=...): `script` runs in the latest SDK's venv
    with `conn` = openstack.connect() for that user; what it prints as JSON is returned."""

    def run(script: str, user="admin", password="secret-pass", project="admin", check=True):
        prelude = "import json, openstack\nconn = openstack.connect()\n"
        proc = subprocess.run([str(ensure_latest_clients() / "python"), "-c", prelude + textwrap.dedent(script)],
                              env=client_env(base_url, user, password, project), capture_output=True, text=True,
                              timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"the latest openstacksdk failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        if not check:
            return proc
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    return run


@pytest.fixture(scope="session")
def latest_clients_bin():
    return ensure_latest_clients()


@pytest.fixture
def latest_osc(live_server, latest_clients_bin):
    """The latest `openstack` CLI against this test's live server (see the `osc` fixture)."""
    return latest_osc_runner(live_server.url)


@pytest.fixture
def latest_sdk(live_server, latest_clients_bin):
    """The latest openstacksdk against this test's live server (see latest_sdk_runner)."""
    return latest_sdk_runner(live_server.url)
