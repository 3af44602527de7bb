"""The container deployment files hold together: compose parses, every cloudproj service runs
a role the entrypoint knows, and the per-host services (agent, metadata) live in the host's
network namespace. (No Docker daemon runs here: these are checks of the files themselves.)"""
import re
import subprocess
from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yml").read_text())


def _entrypoint_roles() -> set[str]:
    text = (DOCKER / "entrypoint.sh").read_text()
    case = text[text.index('case "$role" in'):]
    return set(re.findall(r"^    ([a-z.]+)\)$", case, flags=re.M))


def test_entrypoint_is_valid_shell():
    assert subprocess.run(["sh", "-n", str(DOCKER / "entrypoint.sh")], capture_output=True).returncode == 0


def test_every_service_runs_a_known_role():
    services = _compose()["services"]
    roles = _entrypoint_roles()
    own = {name: svc for name, svc in services.items() if str(svc.get("image", "")).startswith("cloudproj:")}
    assert {"api", "scheduler", "beat", "flower", "agent", "metadata"} <= set(own)
    for name, svc in own.items():
        assert svc["command"][0] in roles, f"{name} runs {svc['command'][0]}, which the entrypoint does not know"


def test_per_host_services_share_the_hosts_network():
    services = _compose()["services"]
    for name in ("agent", "metadata"):
        assert services[name]["network_mode"] == "host", name
        assert "@postgres:" not in services[name]["environment"]["DATABASE_URL"]  # reached over the network
    assert "8775" in str(services["metadata"]["environment"]["METADATA_PORT"])


def test_the_image_installs_novnc_from_the_lock_file():
    """noVNC is not committed: the image runs `npm ci` on package.json + package-lock.json and
    copies node_modules where STATICFILES_DIRS looks (the build context leaves the host's out)."""
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "COPY package.json package-lock.json" in dockerfile
    assert "npm ci" in dockerfile
    assert "/src/node_modules /app/node_modules" in dockerfile
    ignored = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert "node_modules" in ignored
