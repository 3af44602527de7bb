"""The noVNC console page: no login, the token in its URL is the credential (as Nova's
vnc_auto.html?path=...). The page only says early whether the token is still live; the
websocket proxy checks it in full when the browser connects."""
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consoles.models import ConsoleAuthToken, hash_console_token


@require_GET
def console_page(request):
    token = request.GET.get("token", "")
    row = ConsoleAuthToken.objects.filter(token_hash=hash_console_token(token)).first() if token else None
    live = row is not None and not row.is_expired
    response = render(request, "consoles/vnc.html", {"live": live}, status=200 if live else 404)
    response["Referrer-Policy"] = "no-referrer"  # the token must not leak to other sites
    response["Cache-Control"] = "no-store"
    return response
