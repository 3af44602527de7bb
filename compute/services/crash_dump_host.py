"""The host's side of a crash dump (compute.services.crash_dump): an NMI into the guest,
recorded as the event `compute_trigger_crash_dump` of the action; a failure is a fault of the
instance and an Error event, the states stay as they are (as in Nova)."""
import logging

from cloudproj.host.locks import instance_lock

from ..models import Instance
from . import host_resources as hr
from .actions import event, finish_action, get_action, record_fault

log = logging.getLogger(__name__)


def run(instance_uuid, request_id: str) -> bool:
    with instance_lock(instance_uuid):
        instance = Instance.objects.filter(uuid=instance_uuid).first()
        if instance is None:
            return False
        record = get_action(instance, request_id, "trigger_crash_dump")
        try:
            with event(record, "compute_trigger_crash_dump", host=instance.host):
                hr.driver().trigger_crash_dump(str(instance.uuid))
        except Exception as exc:  # noqa: BLE001 - reported as a fault and an Error event
            log.warning("crash dump of instance %s failed: %s", instance.uuid, exc)
            record_fault(instance, exc, host=instance.host)
            if record is not None:
                finish_action(record, "Error")
            return False
        if record is not None:
            finish_action(record)
        return True
