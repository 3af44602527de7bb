"""Rows of the instances table: what each row shows, read for a whole page at once (one query
per related table, whatever the number of rows), from the same helpers the API's server view
uses, so the dashboard and `GET /servers/detail` agree on addresses and zones."""
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from compute import states
from compute.api.server_view import fixed_ips_by_instance, floating_by_fixed, host_zones, latest_faults
from images.models import Image

# row actions (label, action name, reboot type), offered when the state machine allows them
ROW_ACTIONS = (
    ("Soft reboot", "reboot", "SOFT"),
    ("Hard reboot", "reboot", "HARD"),
    ("Stop", "stop", None),
    ("Start", "start", None),
    ("Pause", "pause", None),
    ("Resume from pause", "unpause", None),
    ("Suspend", "suspend", None),
    ("Resume", "resume", None),
)
FINAL_STATUSES = {"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR", "DELETED"}


@dataclass
class Row:
    instance: object
    image_name: str
    fixed: list = field(default_factory=list)
    floating: list = field(default_factory=list)
    zone: str = ""
    fault: object = None

    @property
    def status(self) -> str:
        return states.api_status(self.instance.vm_state, self.instance.task_state)

    @property
    def power_state(self) -> str:
        return states.power_state_name(self.instance.power_state)

    @property
    def shutdown(self) -> dict | None:
        """While powering off: seconds since the guest was asked to shut down (the row's last
        change) and SHUTDOWN_TIMEOUT, after which the host forces it off; the page counts on."""
        if self.instance.task_state != states.task.POWERING_OFF:
            return None
        elapsed = max(0.0, (timezone.now() - self.instance.updated_at).total_seconds())
        limit = settings.SHUTDOWN_TIMEOUT
        return {"elapsed": round(min(elapsed, limit)), "limit": round(limit)}

    @property
    def busy(self) -> bool:
        return self.status not in FINAL_STATUSES or self.instance.task_state is not None

    @property
    def actions(self) -> list[tuple[str, str, str | None]]:
        instance = self.instance
        if not instance.host or instance.deleted_at is not None:
            return []
        return [(label, action, kind) for label, action, kind in ROW_ACTIONS
                if states.is_allowed(instance.vm_state, instance.task_state, action, reboot_type=kind)]


def image_names(instances) -> dict:
    ids = {i.image_ref for i in instances if i.image_ref}
    valid = []
    for value in ids:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return {str(pk): name for pk, name in Image.all_objects.filter(id__in=valid).values_list("id", "name")}


def build_rows(instances) -> list[Row]:
    instances = list(instances)
    ips = fixed_ips_by_instance(instances)
    floating = floating_by_fixed([row for rows in ips.values() for row in rows])
    zones = host_zones(instances)
    faults = latest_faults(instances)
    names = image_names(instances)
    rows = []
    for instance in instances:
        fixed_rows = ips.get(instance.uuid, [])
        rows.append(Row(
            instance=instance,
            image_name=names.get(instance.image_ref, instance.image_ref or "(none)"),
            fixed=[(r.network.label, r.address) for r in fixed_rows],
            floating=[address for r in fixed_rows for address in floating.get(r.pk, [])],
            zone=(zones.get(instance.host) if instance.host else None) or instance.availability_zone or "",
            fault=faults.get(instance.pk),
        ))
    return rows
