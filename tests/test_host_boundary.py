"""The host boundary package (cloudproj.host): identity, bounded per-key locks, hooks, the runner."""
import gc
import threading
import time

import pytest

from cloudproj.host import hooks, identity, locks
from cloudproj.host.run import HostCommandError, run


def test_current_host_is_the_agents_host_else_cloud_host(settings):
    settings.CLOUD_HOST = "controller"
    try:
        identity.set_current_host(None)
        assert identity.current_host() == "controller"
        identity.set_current_host("node-7")
        assert identity.current_host() == "node-7"
    finally:
        identity.set_current_host(None)


@pytest.mark.parametrize("hostname, host", [("agent@node-1", "node-1"), ("scheduler@node-1", None),
                                            ("agent@", None), (None, None)])
def test_agent_host_from_the_worker_name(hostname, host):
    class Worker:
        pass

    worker = Worker()
    worker.hostname = hostname
    assert identity.agent_host(worker) == host


def test_keyed_locks_exclude_per_key_and_forget_unused_keys():
    keyed = locks.KeyedLocks()
    order = []

    def second():
        with keyed.hold("a"):
            order.append("second")

    with keyed.hold("a"):
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.1)
        order.append("first")
        with keyed.hold("b"):  # another key does not wait
            order.append("b")
    other.join(2)
    assert order == ["first", "b", "second"]
    del other
    for key in range(1000):
        with keyed.hold(key):
            pass
    gc.collect()
    assert len(keyed) == 0


def test_instance_lock_is_bounded():
    before = locks.instance_locks_in_use()
    for n in range(500):
        with locks.instance_lock(f"uuid-{n}"):
            pass
    gc.collect()
    assert locks.instance_locks_in_use() <= before


def test_hooks_run_in_order_and_cleanup_errors_are_contained(monkeypatch):
    monkeypatch.setattr(hooks, "_hooks", {kind: [] for kind in hooks._hooks})
    seen = []

    def failing(instance, host):
        raise RuntimeError("boom")

    hooks.register(after_network=lambda i, h: seen.append(("net", h)), before_cleanup=failing)
    hooks.register(before_cleanup=lambda i, h: seen.append(("clean", h)), extra_disks=lambda i: [{"d": 1}])

    class Instance:
        uuid = "u"

    hooks.after_network(Instance, "h1")
    hooks.before_cleanup(Instance, "h1")
    assert seen == [("net", "h1"), ("clean", "h1")]
    assert hooks.extra_disks(Instance) == [{"d": 1}]
    with pytest.raises(TypeError):
        hooks.register(no_such_hook=print)


def test_run_takes_argument_lists_and_reports_stderr():
    assert run(["sh", "-c", "echo out"]).stdout == "out\n"
    assert run(["cat"], input_text="fed").stdout == "fed"
    with pytest.raises(TypeError):
        run("echo shell string")  # type: ignore[arg-type]
    with pytest.raises(HostCommandError, match="bad thing"):
        run(["sh", "-c", "echo bad thing >&2; exit 3"])
    assert run(["sh", "-c", "exit 3"], check=False).returncode == 3


def test_iptables_render_orders_each_tables_changes():
    from cloudproj.host.iptables import Jump, Section, render

    keep, gone = Jump("FORWARD", "app-a"), Jump("INPUT", "app-old")
    text = render([
        Section("filter", chains=["app-a"], rules=["-A app-a -j DROP"], jumps=[keep]),
        Section("filter", remove=["app-old"], unjump=[gone]),
        Section("nat", chains=["app-n"], rules=["-A app-n -j RETURN"], jumps=[Jump("PREROUTING", "app-n")]),
    ], {keep: 3, gone: 2, Jump("PREROUTING", "app-n"): 0})
    assert text == "\n".join([
        "*filter", ":app-a - [0:0]", ":app-old - [0:0]",
        "-D INPUT -j app-old", "-D INPUT -j app-old", "-X app-old",
        "-A app-a -j DROP",
        "-D FORWARD -j app-a", "-D FORWARD -j app-a",  # duplicated jumps repaired
        "COMMIT",
        "*nat", ":app-n - [0:0]", "-A app-n -j RETURN", "-I PREROUTING 1 -j app-n", "COMMIT", ""])


def test_iptables_render_leaves_out_tables_with_nothing_to_do():
    from cloudproj.host.iptables import Jump, Section, render

    assert render([Section("filter", unjump=[Jump("FORWARD", "x")])], {Jump("FORWARD", "x"): 0}) == ""
    with pytest.raises(ValueError):
        Section("mangle")


def test_iptables_lock_is_reentrant_in_a_thread():
    from cloudproj.host import iptables

    with iptables.lock(), iptables.lock():  # nested in one thread: no deadlock
        pass
    done = []

    def take():
        with iptables.lock():
            done.append(1)

    worker = threading.Thread(target=take)
    with iptables.lock():
        worker.start()
        time.sleep(0.1)
        assert done == []  # another thread waits
    worker.join(2)
    assert done == [1]


def test_only_an_agent_worker_runs_the_agent_start_hooks(monkeypatch):
    from compute import agent
    from compute.services import image_cache, recovery, snapshots

    monkeypatch.setattr(hooks, "_hooks", {kind: [] for kind in hooks._hooks})
    started, settled = [], []
    hooks.register(agent_start=started.append)
    hooks.register(agent_start=lambda host: 1 / 0)  # a failing hook does not stop the agent
    monkeypatch.setattr(recovery, "recover_host", settled.append)
    monkeypatch.setattr(snapshots, "recover_interrupted", settled.append)
    monkeypatch.setattr(image_cache, "start_periodic_cleanup", lambda host: None)
    monkeypatch.setattr(agent, "close_old_connections", lambda: None)  # no database here

    class Connection:
        @staticmethod
        def close():
            pass

    monkeypatch.setattr(agent, "connection", Connection)

    class Worker:
        hostname = "celery@node-3"

    agent._on_worker_ready(sender=Worker())
    assert started == [] and settled == []
    Worker.hostname = "agent@node-3"
    agent._on_worker_ready(sender=Worker())
    assert started == ["node-3"] and settled == ["node-3", "node-3"]


def test_the_server_view_gets_floating_addresses_and_volumes_from_their_apps():
    from compute.api import server_view
    from floating.services.addresses import floating_by_fixed
    from volumes.services.attachments import volumes_by_instance

    assert server_view._lookups == {"floating": floating_by_fixed, "volumes": volumes_by_instance}


def test_every_registered_host_hook_resolves_to_a_function():
    """The apps register some hooks by dotted path (imported on first call): each must exist."""
    from network.signals import on_agent_start as network_start
    from secgroups.services import host as secgroups_host

    resolved = {kind: hooks.registered(kind) for kind in hooks._hooks}
    assert all(callable(hook) for found in resolved.values() for hook in found)
    assert resolved["agent_start"][0] is network_start  # networks first: the other passes need the bridges
    assert secgroups_host.after_network in resolved["after_network"]
    assert len(resolved["orphan_sweep"]) == 2 and len(resolved["agent_start"]) == 5
