"""API access: the service endpoints, clouds.yaml and openrc downloads for the current user
and project (no password inside), the user's EC2 credentials in the project and the credentials
bundle (nova.zip: novarc with the EC2 keys, clouds.yaml, the aws CLI's files)."""
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from identity.services import client_config, credentials_bundle, ec2_credentials
from identity.services.catalog import base_url, service_catalog
from identity.services.policy import enforce

from .common import dashboard_view

PAGE = "/dashboard/api-access/"


def _own(ctx) -> dict:
    return {"user_id": ctx.user_id}


def _credential(ctx, access: str, action: str):
    enforce(ctx, action, _own(ctx))
    try:
        return ec2_credentials.get_credential(ctx.user, ctx.project, access)
    except ec2_credentials.CredentialNotFound as exc:
        raise Http404(exc.message) from None


def _endpoints(request, project_id) -> list[dict]:
    rows = []
    for service in service_catalog(base_url(request), project_id):
        public = next(e for e in service["endpoints"] if e["interface"] == "public")
        rows.append({"type": service["type"], "name": service["name"], "url": public["url"]})
    return rows


@require_GET
@dashboard_view
def api_access(request):
    ctx = request.ctx
    enforce(ctx, "identity:ec2_list_credentials", _own(ctx))
    context = {
        "endpoints": _endpoints(request, ctx.project_id),
        "auth_url": client_config.auth_url(base_url(request)),
        "credentials": ec2_credentials.credentials_of(ctx.user, ctx.project) if ctx.project else [],
    }
    return render(request, "dashboard/api_access/index.html", context)


def _download(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@dashboard_view
def openrc(request):
    ctx = request.ctx
    text = client_config.openrc(ctx.user, ctx.project, base_url(request))
    return _download(text, f"{ctx.project.name}-openrc.sh", "text/x-shellscript; charset=utf-8")


@require_GET
@dashboard_view
def clouds_yaml(request):
    ctx = request.ctx
    return _download(client_config.clouds_yaml(ctx.user, ctx.project, base_url(request)), "clouds.yaml",
                     "application/x-yaml; charset=utf-8")


@require_POST
@dashboard_view
def ec2_create(request):
    ctx = request.ctx
    enforce(ctx, "identity:ec2_create_credential", _own(ctx))
    credential = ec2_credentials.create(ctx.user, ctx.project)
    messages.success(request, f"EC2 credential {credential.access} created.")
    return redirect(f"{PAGE}ec2/{credential.access}/")


@require_GET
@dashboard_view
def ec2_show(request, access):
    credential = _credential(request.ctx, access, "identity:ec2_get_credential")
    response = render(request, "dashboard/api_access/ec2.html", {"credential": credential})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@dashboard_view
def ec2_delete(request, access):
    credential = _credential(request.ctx, access, "identity:ec2_delete_credential")
    ec2_credentials.delete(request.ctx.user, request.ctx.project, credential.access)
    messages.success(request, f"EC2 credential {access} deleted.")
    return redirect(PAGE)


@require_POST
@dashboard_view
def credentials_zip(request):
    """nova.zip for the current user and project, as `./manage.py project zipfile` writes it: the
    user's oldest EC2 credential there, made when there is none (so a POST, not a GET)."""
    ctx = request.ctx
    enforce(ctx, "identity:ec2_list_credentials", _own(ctx))
    credential = ec2_credentials.credentials_of(ctx.user, ctx.project).first()
    if credential is None:
        enforce(ctx, "identity:ec2_create_credential", _own(ctx))
        credential = ec2_credentials.create(ctx.user, ctx.project)
    content = credentials_bundle.render_zip(ctx.project, ctx.user, credential, base_url(request))
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{ctx.project.name}-nova.zip"'
    response["Cache-Control"] = "no-store"
    return response
