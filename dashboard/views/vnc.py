"""The instance's "VNC console" action: a fresh console token, then its noVNC page."""
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from compute.services import instances as instance_service
from cloudproj.exceptions import CloudError
from consoles.services import vnc as console_service
from consoles.api.views import POLICY
from identity.services.catalog import base_url
from identity.services.policy import enforce

from .common import dashboard_view, error_page
from .instances import target


@require_POST
@dashboard_view
def instance_vnc(request, instance_id):
    ctx = request.ctx
    instance = instance_service.get_instance(ctx, instance_id)  # another project's: 404
    enforce(ctx, POLICY, target(instance))
    try:
        token = console_service.create_vnc_console(ctx, instance)
    except CloudError as exc:  # not ACTIVE, host down or silent: said in words on the new page
        return error_page(request, exc.code, exc.message)
    return redirect(console_service.console_url(base_url(request), token))
