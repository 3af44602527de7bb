"""The ASGI application of the API + dashboard process (gunicorn with uvicorn's worker).

    websocket /vnc/websockify   the console proxy (consoles.api.websockify), authorised by its token
    everything else (HTTP)      Django, through its WSGI application in a thread pool

HTTP stays on Django's WSGI handler (a2wsgi's bridge) rather than Django's ASGI handler:
that one runs every sync view on one shared thread per process and reads a request body
whole before the view starts, which would serialize slow host calls (console output) and
stop image uploads from streaming. The ASGI server decodes chunked bodies, which the WSGI
environ says (wsgi.input_terminated) as gunicorn's sync workers do.
"""
import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudproj.settings")
django_wsgi = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the apps are loaded

from consoles.api.websockify import websockify  # noqa: E402 - after the apps are loaded
from consoles.services.vnc import WEBSOCKET_PATH  # noqa: E402 - after the apps are loaded


def _terminated_input(environ, start_response):
    environ["wsgi.input_terminated"] = True
    return django_wsgi(environ, start_response)


http_app = WSGIMiddleware(_terminated_input, workers=settings.API_THREADS)


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        await http_app(scope, receive, send)
    elif kind == "websocket":
        if scope["path"].rstrip("/").endswith(WEBSOCKET_PATH):
            await websockify(scope, receive, send)
        else:
            await receive()
            await send({"type": "websocket.close", "code": 1008})
    elif kind == "lifespan":
        await _lifespan(receive, send)
