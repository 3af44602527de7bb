"""Simulated hypervisor hosts: libvirt's test driver (`test:///<node xml>`) keeps a host's
domains in the process that opened it, with the capacity the node XML gives. Tests, the
benchmarks and `./manage.py agent --simulate N` describe their hosts with it."""
import re
from xml.sax.saxutils import escape
from pathlib import Path

NODE_XML = """<node>
  <cpu><mhz>2000</mhz><model>{arch}</model><active>{vcpus}</active>
    <nodes>1</nodes><sockets>1</sockets><cores>{vcpus}</cores><threads>1</threads></cpu>
  <memory>{memory_kib}</memory>
{domains}</node>
"""
FOREIGN_DOMAIN = """  <domain type='test'><name>{name}</name><uuid>{uuid}</uuid>
    <memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>
"""
ARCH_RE = re.compile(r"^[A-Za-z0-9_]{1,32}$")


def node_xml(path: Path, memory_mb: int, vcpus: int = 8, arch: str = "x86_64", foreign_domains=()) -> str:
    """Write a test-driver host description to `path`; returns its test:/// URI.
    `foreign_domains`: (name, uuid) pairs of domains that already exist on that host."""
    if not ARCH_RE.match(arch):
        raise ValueError(f"invalid arch {arch!r}")
    memory_mb, vcpus = int(memory_mb), int(vcpus)
    if memory_mb < 1 or vcpus < 1:
        raise ValueError("a simulated host needs at least 1 MB and 1 vCPU")
    domains = "".join(FOREIGN_DOMAIN.format(name=escape(str(name)), uuid=escape(str(uuid))) for name, uuid in foreign_domains)
    path.write_text(NODE_XML.format(arch=arch, vcpus=vcpus, memory_kib=memory_mb * 1024, domains=domains))
    return f"test://{path.resolve()}"
