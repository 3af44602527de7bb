"""Lock and unlock an instance from its detail page, through compute.services.locks as the
API's lock/unlock actions use it (same policies; an admin's lock needs an admin to lift it).
The dashboard may give a reason (the API takes one from microversion 2.73)."""
from django.views.decorators.http import require_POST

from compute.services import locks

from .common import dashboard_view
from .instance_manage import _operate


@require_POST
@dashboard_view
def instance_lock(request, instance_id):
    if request.POST.get("action") == "unlock":
        def unlock(instance):
            locks.unlock(request.ctx, instance)
            return f"{instance.display_name} unlocked."

        return _operate(request, instance_id, "compute:servers:unlock", unlock)

    def lock(instance):
        locks.lock(request.ctx, instance, reason=request.POST.get("reason") or None)
        return f"{instance.display_name} locked: only admins can change it now."

    return _operate(request, instance_id, "compute:servers:lock", lock)
