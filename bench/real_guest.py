"""A real guest: POST /servers -> DHCP lease of the test image through the whole pipeline,
against `virsh create` of the same image, disk and network, side by side in one run (issue 7,
benchmark 2: the pipeline adds under 10 %).

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/7 \
        .venv/bin/python bench/real_guest.py [--rounds 3]

Real processes (gunicorn API, scheduler, one agent on qemu:///system with VIRT_TYPE=qemu,
i.e. TCG), the project's test image `cloudproj-test`, a flatdhcp network 10.253.0.0/24 on
bridge cptbn1 with the agent's real dnsmasq. Each round:
  pipeline  POST a server; the clock stops when its serial console shows
            `CLOUDPROJ-TESTIMAGE-UP ... ip=` (the guest prints it as soon as udhcpc holds
            the lease, before anything else);
  baseline  the pipeline's own domain XML (same kernel, initrd, NIC with the same MAC and tap
            name on the same bridge, so the same dnsmasq host entry), the domain stopped, a
            fresh qcow2 overlay on the same cached base made beforehand, a new console file;
            the clock runs from `virsh create` to the same console line.
Round 1's pipeline boot fetches the image into the host's cache (cold); later rounds are warm.
The ratio compares the medians of the warm rounds.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from _common import (
    ROOT, load_average, machine, member_with_token, own_redis_broker, setup_django, throwaway_database,
)

setup_django()

from django.conf import settings

from control_plane import Api, post_server

HOST = "bench-guest"
BRIDGE = "cptbn1"
CIDR = "10.253.0.0/24"
MARKER = re.compile(rb"CLOUDPROJ-TESTIMAGE-UP hostname=\S* ip=\d")


def wait_marker(path: Path, timeout: float = 180) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if MARKER.search(path.read_bytes()):
                return time.time()
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"no lease marker in {path} after {timeout} s")


def wait_domain(conn, uuid: str, timeout: float = 180):
    import libvirt

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return conn.lookupByUUIDString(uuid)
        except libvirt.libvirtError:
            time.sleep(0.02)
    raise RuntimeError(f"domain {uuid} never appeared")


def baseline_xml(xml: str, name: str, work: Path) -> tuple[str, Path]:
    """The pipeline's domain as a new transient one: new name, no uuid, a fresh overlay on
    the same base, a new console file. Returns (xml, console path)."""
    root = ET.fromstring(xml)
    root.find("name").text = name
    uuid = root.find("uuid")
    if uuid is not None:
        root.remove(uuid)
    console = work / f"{name}.console.log"
    for source in root.iterfind("./devices/serial/source") or []:
        source.set("path", str(console))
    for source in root.iterfind("./devices/console/source") or []:
        source.set("path", str(console))
    disk = root.find("./devices/disk[@device='disk']/source")
    info = json.loads(subprocess.run(["qemu-img", "info", "-U", "--output=json", disk.get("file")],
                                     check=True, capture_output=True, text=True).stdout)
    overlay = work / f"{name}.qcow2"
    backing = info.get("full-backing-filename") or info["backing-filename"]
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", backing, "-F",
                    info.get("backing-filename-format", "raw"), str(overlay)], check=True)
    disk.set("file", str(overlay))
    return ET.tostring(root, encoding="unicode"), console


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import logging

    import libvirt

    logging.disable(logging.WARNING)
    broker = own_redis_broker()
    subprocess.run(["bash", str(ROOT / "scripts/libvirt-up.sh")], check=True, capture_output=True)
    work = Path(tempfile.mkdtemp(prefix="cloudproj-bench-guest-"))
    os.chmod(work, 0o755)  # qemu reads the baseline's overlay and writes its console here
    settings.IMAGE_STORE_PATH = work / "store"
    from compute.services.flavors import ensure_default_flavors
    from cloudproj.testing.cloud import Cloud, database_url
    from cloudproj.testing.real_guest import own_instance_ids
    from images.testimage import builder
    from network.linux import dnsmasq
    from network.services.networks import create_network

    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # lookups of a domain not there yet
    conn = libvirt.open("qemu:///system")
    created, baselines = [], []
    with throwaway_database("cloudproj_bench_guest"):
        own_instance_ids(0x253000)
        ensure_default_flavors()
        _project, _user, token = member_with_token()
        image = builder.register(builder.build())["root"]
        network = create_network("benchguest", CIDR, bridge=BRIDGE)
        cloud = Cloud(work, broker, LOG_LEVEL="WARNING")
        api = Api({**cloud.env, "DATABASE_URL": database_url()}, work / "api.log")
        try:
            cloud.start_scheduler(concurrency=2)
            cloud.start_agent(HOST, LIBVIRT_URI="qemu:///system", VIRT_TYPE="qemu")
            api.wait()
            cloud.wait_up([HOST], timeout=180)
            print(f"# real guest, {machine()}, QEMU TCG, test image {image.id}", flush=True)
            rows = []
            for round_no in range(1, args.rounds + 1):
                server, sent = post_server(api.base, token, f"guest{round_no}", "1", str(image.id))
                created.append(server)
                domain = wait_domain(conn, server)
                console = Path(ET.fromstring(domain.XMLDesc()).find("./devices/serial/source").get("path"))
                pipeline = wait_marker(console) - sent
                xml, baseline_console = baseline_xml(domain.XMLDesc(), f"cpbench-{round_no}", work)
                domain.destroy()
                time.sleep(1)
                xml_file = work / f"baseline-{round_no}.xml"
                xml_file.write_text(xml)
                baselines.append(f"cpbench-{round_no}")
                start = time.time()
                subprocess.run(["virsh", "-c", "qemu:///system", "create", str(xml_file)], check=True,
                               capture_output=True)
                baseline = wait_marker(baseline_console) - start
                subprocess.run(["virsh", "-c", "qemu:///system", "destroy", f"cpbench-{round_no}"], capture_output=True)
                rows.append((pipeline, baseline))
                temperature = "cold" if round_no == 1 else "warm"
                print(f"round {round_no} ({temperature}): pipeline POST->lease {pipeline:.2f} s, "
                      f"virsh create->lease {baseline:.2f} s, ratio {pipeline / baseline:.2f}  ({load_average()})",
                      flush=True)
            warm = rows[1:] or rows
            p, b = statistics.median(r[0] for r in warm), statistics.median(r[1] for r in warm)
            print(f"warm median: pipeline {p:.2f} s, virsh create {b:.2f} s: "
                  f"the pipeline adds {(p / b - 1) * 100:+.0f} %")
        finally:
            api.stop()
            settings.NETWORKS_PATH = cloud.state_path(HOST) / "networks"
            dnsmasq_pid = dnsmasq.pid(network.pk)
            cloud.stop()
            for name in baselines:
                subprocess.run(["virsh", "-c", "qemu:///system", "destroy", name], capture_output=True)
            for server in created:
                try:
                    dom = conn.lookupByUUIDString(server)
                    if dom.isActive():
                        dom.destroy()
                    dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
                except libvirt.libvirtError:
                    pass
            if dnsmasq_pid:
                try:
                    os.kill(dnsmasq_pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
