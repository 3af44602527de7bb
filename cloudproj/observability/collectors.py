"""Gauges read at scrape time: instances by vm_state (one aggregate query) and queue depth."""
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily

from compute import states
from compute.models import Instance

from . import queues


class InstanceStateCollector:
    def collect(self):
        counts = dict.fromkeys(states.VM_STATES, 0)
        counts.pop(states.DELETED, None)  # soft-deleted rows are not instances any more
        rows = Instance.objects.filter(deleted_at__isnull=True).values_list("vm_state").annotate(n=Count("id"))
        counts.update(dict(rows))
        family = GaugeMetricFamily("cloudproj_instances", "Instances (not deleted) by vm_state.", labels=["vm_state"])
        for vm_state, count in sorted(counts.items()):
            family.add_metric([vm_state], count)
        yield family


class QueueDepthCollector:
    def collect(self):
        up = GaugeMetricFamily("cloudproj_broker_up", "1 if the broker answered the queue-depth query.")
        depth = GaugeMetricFamily("cloudproj_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"])
        try:
            depths = queues.queue_depths()
        except queues.BrokerUnavailable:
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
            for queue, count in depths.items():
                depth.add_metric([queue], count)
        yield up
        yield depth
