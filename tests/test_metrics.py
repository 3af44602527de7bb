"""GET /metrics as Prometheus sees it: API latency by route, instances by vm_state, queue
depth (or broker_up 0), task metrics from Celery's signals, and the CIDR guard."""
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from cloudproj.celery import app
from cloudproj.middleware import current_request_id
from cloudproj.observability import celery_signals, queues
from compute.models import Service

pytestmark = pytest.mark.django_db

API = "/compute/v2.1"


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def series(samples, name, **labels):
    wanted = set(labels.items())
    return {key: value for key, value in samples.items() if key[0] == name and wanted <= set(key[1])}


def test_api_latency_is_labelled_by_route_never_by_raw_path(member_client, client):
    missing = uuid.uuid4()
    assert member_client.get(f"{API}/servers").status_code == 200
    assert member_client.get(f"{API}/servers/{missing}").status_code == 404
    samples = scrape(client)
    counts = series(samples, "cloudproj_api_request_duration_seconds_count")
    assert not [key for key in counts if str(missing) in str(key)]
    listing = series(samples, "cloudproj_api_request_duration_seconds_count", method="GET", status="2xx")
    routes = {dict(key[1])["route"]: value for key, value in listing.items()}
    assert routes.get("compute.api.servers.ServerListView", 0) >= 1, routes
    shown = series(samples, "cloudproj_api_request_duration_seconds_count", method="GET", status="4xx")
    assert {dict(key[1])["route"] for key in shown} >= {"compute.api.servers.ServerView"}, shown
    total = series(samples, "cloudproj_api_request_duration_seconds_sum", method="GET", status="2xx")
    assert all(0 <= value < 60 for value in total.values())


def test_instances_by_vm_state_count_live_rows(member_client, client, settings, tmp_path):
    import io

    from cloudproj.testing.servers import boot
    from compute.services.flavors import ensure_default_flavors
    from images.models import Image
    from images.services.registry import register_image

    settings.IMAGE_STORE_PATH = tmp_path / "store"
    ensure_default_flavors()
    image = register_image(io.BytesIO(b"x" * 4096), "tiny-img", disk_format="raw", visibility=Image.PUBLIC)
    before = scrape(client)[("cloudproj_instances", (("vm_state", "building"),))]
    boot(member_client, image, "one")
    boot(member_client, image, "two")
    samples = scrape(client)
    assert samples[("cloudproj_instances", (("vm_state", "building"),))] == before + 2
    assert samples[("cloudproj_instances", (("vm_state", "active"),))] == 0
    assert ("cloudproj_instances", (("vm_state", "deleted"),)) not in samples


def test_queue_depth_per_known_queue_and_broker_down_is_a_gauge(client, monkeypatch):
    Service.objects.create(host="obs-q1", binary="nova-compute", topic="compute")
    Service.objects.create(host="obs-sched", binary="nova-scheduler", topic="scheduler")
    samples = scrape(client)
    if samples[("cloudproj_broker_up", ())] == 1:
        queues_seen = {dict(key[1])["queue"] for key in series(samples, "cloudproj_queue_depth")}
        assert queues_seen == {"scheduler", "compute.obs-q1", "network.obs-q1", "volume.obs-q1"}
    monkeypatch.setattr(queues, "broker_url", lambda: "redis://127.0.0.1:1/0")  # nothing listens there
    samples = scrape(client)
    assert samples[("cloudproj_broker_up", ())] == 0
    assert not series(samples, "cloudproj_queue_depth")


def test_queue_depth_counts_waiting_messages_in_redis():
    url = str(app.conf.broker_url or "")
    if not url.startswith("redis://"):
        pytest.skip("needs the real Redis broker: CELERY_BROKER_URL=redis://...")
    import redis

    queue = f"compute.obs-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(url)
    try:
        with app.producer_or_acquire() as producer:
            for _ in range(3):
                app.send_task("identity.purge_expired_tokens", queue=queue, producer=producer)
        assert queues.queue_depths([queue]) == {queue: 3}
    finally:
        client.delete(queue)


def test_an_unreachable_rabbitmq_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(queues, "broker_url", lambda: "amqp://guest:guest@127.0.0.1:1//")
    with pytest.raises(queues.BrokerUnavailable):
        queues.queue_depths(["scheduler"])


def test_queue_depth_counts_waiting_messages_in_rabbitmq(monkeypatch):
    import socket

    from kombu import Connection, Exchange, Queue

    url = "amqp://guest:guest@127.0.0.1:5672//"
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", 5672)) != 0:
            pytest.skip("needs RabbitMQ on 127.0.0.1:5672")
    name, missing = f"obs-{uuid.uuid4().hex[:8]}", f"obs-{uuid.uuid4().hex[:8]}"
    # publisher confirms: publish returns once RabbitMQ has queued the message (without them the
    # depth read right after may not count the second one yet)
    with Connection(url, transport_options={"confirm_publish": True}) as conn:
        queue = Queue(name, Exchange(name, type="direct"), routing_key=name, auto_delete=False)
        producer = conn.Producer()
        try:
            for _ in range(2):
                producer.publish({"n": 1}, exchange=queue.exchange, routing_key=name, declare=[queue])
            monkeypatch.setattr(queues, "broker_url", lambda: url)
            assert queues.queue_depths([name, missing]) == {name: 2, missing: 0}
        finally:
            queue(conn.default_channel).delete()
            queue.exchange(conn.default_channel).delete()


def test_metrics_refuses_clients_outside_the_allowed_networks(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 403
    settings.METRICS_ALLOWED_CIDRS = ["192.0.2.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.7").status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer listed


def test_task_signals_count_duration_and_failures_by_task_and_host(settings):
    from prometheus_client import REGISTRY

    @app.task(name="obs.tests.ok", shared=False)
    def ok():
        return current_request_id.get()

    @app.task(name="obs.tests.boom", shared=False)
    def boom():
        raise RuntimeError("boom")

    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    host = settings.CLOUD_HOST
    done = value("cloudproj_task_duration_seconds_count", task="obs.tests.ok", host=host, state="SUCCESS")
    failed = value("cloudproj_task_failures_total", task="obs.tests.boom", host=host, exception="RuntimeError")
    # the request id of the message header is the task's context while it runs
    assert ok.apply(headers={"request_id": "req-obs-1"}).get() == "req-obs-1"
    assert boom.apply().state == "FAILURE"
    assert value("cloudproj_task_duration_seconds_count", task="obs.tests.ok", host=host, state="SUCCESS") == done + 1
    failures = value("cloudproj_task_failures_total", task="obs.tests.boom", host=host, exception="RuntimeError")
    assert failures == failed + 1
    assert value("cloudproj_task_duration_seconds_count", task="obs.tests.boom", host=host, state="FAILURE") >= 1
    assert current_request_id.get() == "-"  # reset after the task


def test_publishing_inside_a_request_adds_the_request_id_header():
    headers = {}
    token = current_request_id.set("req-obs-2")
    try:
        celery_signals.add_request_id_header(headers=headers)
    finally:
        current_request_id.reset(token)
    assert headers == {"request_id": "req-obs-2"}
    celery_signals.add_request_id_header(headers=(outside := {}))
    assert outside == {}
