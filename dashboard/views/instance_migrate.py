"""The instance page's moves, for admins (templates/dashboard/instances/_migrate.html): cold
migration to the scheduler's choice of host or to a named one, and evacuation of a server whose
host's compute service is down (rebuilt from its image elsewhere), through the services the
Compute API's `migrate` and `evacuate` actions call (compute/services/resize.py, evacuate.py),
after the same policy checks. Confirm and revert are the resize buttons (a migrated server is
in VERIFY_RESIZE afterwards). Live migration posts to compute/services/live_migration.py's
live_migrate_server, the API's `os-migrateLive` call, and is offered only where that service
exists (without it the API refuses live migration: no button, and a post is refused)."""
import importlib
import importlib.util

from django.views.decorators.http import require_POST

from cloudproj.exceptions import Conflict

from compute.models import ComputeNode
from compute.services import evacuate as evacuate_service
from compute.services import resize as resize_service
from identity.services.policy import authorize

from .common import dashboard_view
from .instance_manage import _operate
from .instances import target


LIVE_MIGRATION_SERVICE = "compute.services.live_migration"


def live_migration_service():
    """The live migration service module when this cloud offers live migration, else None."""
    if importlib.util.find_spec(LIVE_MIGRATION_SERVICE) is None:
        return None
    return importlib.import_module(LIVE_MIGRATION_SERVICE)


def migrate_context(ctx, instance) -> dict:
    """What _migrate.html needs: {"can_migrate", "can_live_migrate", "can_evacuate",
    "migrate_hosts"} (hosts other than the server's own; empty for non-admins). Evacuate is
    offered only while the server's host is down (the service refuses it otherwise)."""
    tgt = target(instance)
    may_migrate = authorize(ctx, "compute:servers:migrate", tgt)
    may_live = live_migration_service() is not None and authorize(ctx, "compute:servers:migrate_live", tgt)
    may_evacuate = authorize(ctx, "compute:servers:evacuate", tgt)
    if not (may_migrate or may_live or may_evacuate):
        return {"can_migrate": False, "can_live_migrate": False, "can_evacuate": False, "migrate_hosts": []}
    hosts = (ComputeNode.objects.exclude(host=instance.host or "").order_by("host")
             .values_list("host", flat=True).distinct())
    return {
        "can_migrate": may_migrate and instance.status in ("ACTIVE", "SHUTOFF"),
        "can_live_migrate": may_live and instance.status in ("ACTIVE", "PAUSED"),
        "can_evacuate": (may_evacuate and bool(instance.host) and instance.status in ("ACTIVE", "SHUTOFF", "ERROR")
                         and evacuate_service.source_is_down(instance.host)),
        "migrate_hosts": list(hosts),
    }


def _host(request) -> str | None:
    return request.POST.get("host", "") or None


@require_POST
@dashboard_view
def instance_migrate(request, instance_id):
    def work(instance):
        host = _host(request)
        resize_service.migrate_server(request.ctx, instance, host)
        return f"Migrating {instance.display_name} to {host or 'a host the scheduler chooses'}."

    return _operate(request, instance_id, "compute:servers:migrate", work)


@require_POST
@dashboard_view
def instance_live_migrate(request, instance_id):
    def work(instance):
        service = live_migration_service()
        if service is None:
            raise Conflict("Live migration is not offered by this cloud: use a cold migration.")
        host = _host(request)
        service.live_migrate_server(request.ctx, instance, host)
        return f"Live migrating {instance.display_name} to {host or 'a host the scheduler chooses'}."

    return _operate(request, instance_id, "compute:servers:migrate_live", work)


@require_POST
@dashboard_view
def instance_evacuate(request, instance_id):
    def work(instance):
        host = _host(request)
        evacuate_service.evacuate_server(request.ctx, instance, host)
        return (f"Evacuating {instance.display_name} to {host or 'a host the scheduler chooses'}: "
                "it is rebuilt from its image.")

    return _operate(request, instance_id, "compute:servers:evacuate", work)
