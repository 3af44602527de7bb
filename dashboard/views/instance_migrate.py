"""The instance page's cold migration, for admins (templates/dashboard/instances/_migrate.html):
to the scheduler's choice of host or to a named one, through the service the Compute API's
`migrate` action calls (compute/services/resize.py), after the same policy check. Confirm and
revert are the resize buttons (the server is in VERIFY_RESIZE afterwards)."""
from django.views.decorators.http import require_POST

from compute.models import ComputeNode
from compute.services import resize as resize_service
from identity.services.policy import authorize

from .common import dashboard_view
from .instance_manage import _operate
from .instances import target


def migrate_context(ctx, instance) -> dict:
    """What _migrate.html needs: {"can_migrate", "migrate_hosts"} (hosts other than the
    server's own; empty for non-admins)."""
    if not authorize(ctx, "compute:servers:migrate", target(instance)):
        return {"can_migrate": False, "migrate_hosts": []}
    hosts = (ComputeNode.objects.exclude(host=instance.host or "").order_by("host")
             .values_list("host", flat=True).distinct())
    return {"can_migrate": instance.status in ("ACTIVE", "SHUTOFF"), "migrate_hosts": list(hosts)}


@require_POST
@dashboard_view
def instance_migrate(request, instance_id):
    def work(instance):
        host = request.POST.get("host", "") or None
        resize_service.migrate_server(request.ctx, instance, host)
        return f"Migrating {instance.display_name} to {host or 'a host the scheduler chooses'}."

    return _operate(request, instance_id, "compute:servers:migrate", work)
