"""Key pairs: list, create (the private key can be downloaded exactly once), import, delete.
A created pair's private key waits in the user's server-side session until its one download;
it is never stored with the key pair."""
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import APIException

from compute.services import keypairs as keypair_service
from cloudproj.exceptions import CloudError
from identity.services.policy import enforce

from ..forms import KeypairCreateForm, KeypairImportForm
from ..datatable import Column, Table
from .common import dashboard_view, error_message, error_page

SESSION_KEYS = "dashboard_private_keys"  # {key pair name: private key PEM}, popped on download
COLUMNS = [Column("name", "Name", ("name",)), Column("type", "Type", ("type",)), Column("fingerprint", "Fingerprint"),
           Column("created", "Created", ("created_at",)), Column("actions", "Actions")]


def _own(ctx) -> dict:
    return {"user_id": ctx.user_id}


@dashboard_view
def keypair_list(request):
    ctx = request.ctx
    enforce(ctx, "compute:keypairs:index", _own(ctx))
    create_form = KeypairCreateForm(prefix="create")
    import_form = KeypairImportForm(prefix="import")
    status = 200
    if request.method == "POST":
        enforce(ctx, "compute:keypairs:create", _own(ctx))
        importing = request.POST.get("kind") == "import"
        form = KeypairImportForm(request.POST, prefix="import") if importing \
            else KeypairCreateForm(request.POST, prefix="create")
        if importing:
            import_form = form
        else:
            create_form = form
        if form.is_valid():
            try:
                keypair, private_key = keypair_service.create_keypair(
                    ctx.user, form.cleaned_data["name"],
                    public_key=form.cleaned_data["public_key"] if importing else None, project=ctx.project)
            except (CloudError, APIException) as exc:
                form.add_error(None, error_message(exc))
            else:
                if private_key:
                    pending = request.session.get(SESSION_KEYS, {})
                    pending[keypair.name] = private_key
                    request.session[SESSION_KEYS] = pending
                    messages.success(request, f"Key pair {keypair.name} created. Download its private key now: "
                                              "it is offered only once.")
                else:
                    messages.success(request, f"Key pair {keypair.name} imported.")
                return redirect("/dashboard/keypairs/")
        status = 400
    table = Table(request, keypair_service.list_keypairs(ctx.user), COLUMNS, default="name", name="keypairs")
    context = {
        "keypairs": table.object_list, "table": table, "bulk_actions": (("delete", "Delete key pairs", True),),
        "pending": sorted(request.session.get(SESSION_KEYS, {})),
        "create_form": create_form, "import_form": import_form,
    }
    return render(request, "dashboard/keypairs/list.html", context, status=status)


@require_GET
@dashboard_view
def keypair_download(request, name):
    ctx = request.ctx
    enforce(ctx, "compute:keypairs:show", _own(ctx))
    keypair_service.get_keypair(ctx.user, name)  # someone else's or gone: 404
    pending = request.session.get(SESSION_KEYS, {})
    private_key = pending.pop(name, None)
    if private_key is None:
        return error_page(request, 410, f"The private key of {name} was offered for download once and is not kept. "
                                        "If you lost it, delete the key pair and create a new one.")
    request.session[SESSION_KEYS] = pending
    response = HttpResponse(private_key, content_type="application/x-pem-file")
    response["Content-Disposition"] = f'attachment; filename="{name}.pem"'
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@dashboard_view
def keypair_delete(request, name):
    ctx = request.ctx
    enforce(ctx, "compute:keypairs:delete", _own(ctx))
    try:
        keypair_service.delete_keypair(ctx.user, name)
    except CloudError as exc:
        messages.error(request, error_message(exc))
    else:
        pending = request.session.get(SESSION_KEYS, {})
        if pending.pop(name, None) is not None:
            request.session[SESSION_KEYS] = pending
        messages.success(request, f"Key pair {name} deleted.")
    return redirect("/dashboard/keypairs/")
