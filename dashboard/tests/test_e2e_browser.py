"""End to end in headless Chromium: log in, key pairs, an admin disabling a service, and a
launch on a simulated host (the real scheduler and agent on libvirt's test driver, the real
Redis broker) whose row turns ACTIVE without the page being reloaded, then is deleted."""
import os
import signal
import subprocess
import time

import pytest
from django.utils import timezone

from cloudproj.testing.browser import answer_confirmation
from cloudproj.testing.cloud import Cloud, node_xml
from compute.models import Flavor, Instance, Service
from compute.services import hosts
from identity.services import quotas
from images.services.registry import register_image
from network.services.networks import create_network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BRIDGE = "cptdsh0"
CIDR = "10.245.0.0/24"
SIM_HOST = "dash-sim-1"
PUBLIC, PUBLIC_PEER = "cptdshpub0", "cptdshpub1"  # a veth pair: the agent's FLOATING_INTERFACE (no dummy module here)
FLOATING_RANGE = "198.51.100.244/30"  # TEST-NET-2


def test_log_in_create_a_key_pair_and_download_it_once(browser, make_account):
    make_account("demo", "member", username="demo-user")
    browser.login("demo-user")
    assert "Overview of demo" in browser.find("h1").text
    browser.get("/dashboard/keypairs/")
    browser.find("#id_create-name").send_keys("e2e-key")
    browser.find("#create-keypair button[type=submit]").click()
    link = browser.wait_css("#download-e2e-key")
    browser.screenshot("keypair-created")
    link.click()
    pem = browser.downloads / "e2e-key.pem"
    browser.wait(lambda d: pem.exists() and pem.stat().st_size > 0, 20, "the private key download")
    assert pem.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----")
    browser.get("/dashboard/keypairs/e2e-key/download/")
    assert "offered for download once and is not kept" in browser.find(".msg.error").text
    browser.screenshot("second-download-refused")
    browser.get("/dashboard/keypairs/")
    assert not browser.driver.find_elements("css selector", "#download-e2e-key")
    assert browser.find("#keypair-e2e-key").is_displayed()


def test_admin_disables_a_service_and_sees_it_marked(browser, make_account):
    make_account("admin", "admin", username="admin")
    service = hosts.register_service("dash-host-a", "nova-compute", "nova")
    Service.objects.filter(pk=service.pk).update(last_seen_up=timezone.now())
    browser.login("admin")
    browser.get("/dashboard/admin/services/")
    row = f"#service-{service.pk}"
    assert browser.find(row).get_attribute("data-disabled") == "0"
    browser.find(f"#reason-{service.pk}").send_keys("maintenance window")
    browser.find(f"{row} button[type=submit]").click()
    browser.wait_css(f'{row}[data-disabled="1"]')
    assert "maintenance window" in browser.find(f"{row} .svc-status").text
    assert "disabled" in browser.find(f"{row} .svc-status").text
    browser.screenshot("service-disabled")
    assert Service.objects.get(pk=service.pk).disabled_reason == "maintenance window"


@pytest.fixture
def sim_cloud(broker_url, settings, tmp_path):
    from floating.linux import nat
    from floating.services.host import prefix_for

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    settings.SERVICE_DOWN_TIME = 10
    subprocess.run(["ip", "link", "del", PUBLIC], capture_output=True)
    subprocess.run(["ip", "link", "add", PUBLIC, "type", "veth", "peer", "name", PUBLIC_PEER], check=True,
                   capture_output=True)
    subprocess.run(["ip", "link", "set", PUBLIC, "up"], check=True, capture_output=True)
    forwarding = nat.FORWARDING.read_text()
    cloud = Cloud(tmp_path, broker_url)
    yield cloud
    nat.remove_rules(prefix_for(SIM_HOST))
    subprocess.run(["ip", "link", "del", PUBLIC], capture_output=True)
    nat.FORWARDING.write_text(forwarding)
    pid_files = list(cloud.state_path(SIM_HOST).glob("networks/*/dnsmasq.pid"))
    pids = [int(p.read_text().strip()) for p in pid_files if p.read_text().strip().isdigit()]
    cloud.stop()
    for pid in pids:  # the dnsmasq our agent started for this test's bridge
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    subprocess.run(["ip", "link", "del", BRIDGE], check=False, capture_output=True)


def test_launch_watch_the_row_turn_active_without_reloading_then_delete(browser, make_account, sim_cloud,
                                                                        settings, tmp_path):
    settings.DASHBOARD_POLL_SECONDS = 0.5
    from floating.linux import nat
    from floating.services import ranges
    from identity.services import accounts
    from identity.models import Role

    user, project, _token = make_account("demo", "member", username="demo-user")
    accounts.assign_role(user, Role.objects.get(name="netadmin"), project)
    ranges.create_range(FLOATING_RANGE, pool="nova", interface=PUBLIC)
    quotas.set_quotas(project, {"instances": 5, "cores": 10, "ram": 262144})
    Flavor.objects.create(flavorid="e2e.tiny", name="e2e.tiny", memory_mb=256, vcpus=1, root_gb=0)
    Flavor.objects.create(flavorid="e2e.huge", name="e2e.huge", memory_mb=131072, vcpus=1, root_gb=0)
    disk = tmp_path / "tiny.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    register_image(disk, "e2e-image", disk_format="raw", visibility="public", owner=project)
    network = create_network("e2enet", CIDR, bridge=BRIDGE)
    network.host = SIM_HOST
    network.save(update_fields=["host"])
    sim_cloud.start_scheduler(concurrency=1)
    sim_cloud.start_agent(SIM_HOST, concurrency=1, LIBVIRT_URI=node_xml(tmp_path / "node.xml", 2048, vcpus=4),
                          FLOATING_INTERFACE=PUBLIC)
    sim_cloud.wait_up([SIM_HOST])

    browser.login("demo-user")
    browser.get("/dashboard/instances/launch/")
    browser.find("#id_name").send_keys("e2e-vm")
    summary = browser.find("#launch-summary").text
    assert summary == "This launch needs 1 instances of 5 left, 1 vCPUs of 10 left, 256 MB of RAM of 262144 left."
    browser.screenshot("launch-form")
    browser.find("#launch-submit").click()
    browser.wait(lambda d: "named e2e-vm" in d.find_element("id", "messages").text, 20, "the launch message")
    instance = Instance.objects.get(display_name="e2e-vm")
    row = f"#instance-{instance.uuid}"
    browser.driver.execute_script("window.__dashboardMarker = 'not reloaded';")
    started = time.monotonic()
    browser.wait_css(f'{row}[data-status="ACTIVE"]', timeout=90)
    assert browser.driver.execute_script("return window.__dashboardMarker") == "not reloaded"
    assert "running" in browser.find(f"{row} .power").text
    assert "10.245.0." in browser.find(f"{row} .addresses").text
    browser.screenshot(f"row-active-after-{time.monotonic() - started:.0f}s")
    browser.driver.set_window_size(390, 844)
    browser.screenshot("instances-small-width")
    browser.driver.set_window_size(1366, 900)

    assert answer_confirmation(browser, browser.find(f'{row} button[aria-label="Stop e2e-vm"]'), True) == "Stop e2e-vm?"
    browser.wait(lambda d: "Requested stop of e2e-vm." in d.find_element("id", "messages").text, 10, "the message")
    browser.wait_css(f'{row}[data-status="SHUTOFF"]', timeout=60)
    assert "shutdown" in browser.find(f"{row} .power").text
    browser.screenshot("row-stopped")

    from selenium.webdriver.support.select import Select

    # the detail page: every step of the boot pipeline with its result, and the console section
    browser.find(f"{row} td a").click()
    browser.wait_css("#tab-actions").click()
    timeline = browser.wait_css("#timeline").text
    for step in ("schedule", "allocate_ip", "fetch_image", "spawn"):
        assert step in timeline, step
    assert "Error" not in timeline and timeline.count("Success") >= 4 and "stop" in timeline
    browser.find("#tab-log").click()
    browser.wait(lambda d: d.find_elements("id", "console-output") or d.find_elements("id", "console-problem"),
                 30, "the console log or a message")
    browser.screenshot("detail-timeline-console")

    # a floating IP: allocated, associated, shown in the instance's row, put on the host by its agent
    browser.get("/dashboard/floating-ips/")
    browser.find("#allocate-form button[type=submit]").click()
    browser.wait(lambda d: "Allocated 198.51.100." in d.find_element("id", "messages").text, 20, "the allocation")
    address = browser.find("#floating-ips tbody td[data-label=Address]").text
    fip_row = f"#fip-{address.replace('.', '')}"
    Select(browser.find("#assoc-address")).select_by_visible_text(address)
    Select(browser.find("#assoc-instance")).select_by_visible_text("e2e-vm")
    browser.find("#associate-form button[type=submit]").click()
    browser.wait(lambda d: "now points at e2e-vm" in d.find_element("id", "messages").text, 20, "the association")
    assert "e2e-vm" in browser.find(f"{fip_row} .instance").text
    browser.screenshot("floating-ip-associated")
    sim_cloud.wait(lambda: address in nat.host_addresses(PUBLIC), 30, "the agent to put the address on its link")
    browser.get("/dashboard/instances/")
    assert f"{address} (floating)" in browser.find(f"{row} .addresses").text

    # a flavor no host can take: the row turns ERROR and says why, in words
    browser.get("/dashboard/instances/launch/")
    browser.find("#id_name").send_keys("e2e-huge")
    Select(browser.find("#id_flavor")).select_by_value("e2e.huge")
    browser.find("#launch-submit").click()
    browser.wait(lambda d: "named e2e-huge" in d.find_element("id", "messages").text, 20, "the launch message")
    huge = Instance.objects.get(display_name="e2e-huge")
    browser.wait_css(f'#instance-{huge.uuid}[data-status="ERROR"]', timeout=60)
    assert "No valid host was found" in browser.find(f"#instance-{huge.uuid} .fault").text
    browser.screenshot("no-valid-host")

    browser.driver.execute_script("window.__dashboardMarker = 'not reloaded';")
    browser.open_menu(row)
    browser.find(f"{row} button.danger").click()
    browser.driver.switch_to.alert.accept()
    browser.wait(lambda d: not d.find_elements("css selector", row), 60, "the deleted row to disappear")
    assert browser.driver.execute_script("return window.__dashboardMarker") == "not reloaded"
    browser.screenshot("row-gone")
    assert Instance.all_objects.get(pk=instance.pk).deleted_at is not None
    sim_cloud.wait(lambda: address not in nat.host_addresses(PUBLIC), 30, "the address to leave the link")
