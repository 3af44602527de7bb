"""The noVNC console page: no login, the token in its URL is the credential (as Nova's
vnc_auto.html?path=...). The page only says early whether the token is still live; the
websocket proxy checks it in full when the browser connects."""
from django.shortcuts import render
from django.views.decorators.http import require_GET

from compute.models import Instance
from consoles.models import ConsoleAuthToken, hash_console_token
from consoles.services.serial import serial_console_only


@require_GET
def console_page(request):
    token = request.GET.get("token", "")
    row = ConsoleAuthToken.objects.filter(token_hash=hash_console_token(token)).first() if token else None
    live = row is not None and not row.is_expired
    instance = Instance.objects.filter(uuid=row.instance_uuid).first() if live else None
    # a guest whose console is serial only draws nothing here: say so, and where its output is
    context = {"live": live, "serial_only": instance is not None and serial_console_only(instance),
               "instance_uuid": row.instance_uuid if live else None}
    response = render(request, "consoles/vnc.html", context, status=200 if live else 404)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    response["Cache-Control"] = "no-store"
    return response
