"""/vnc/?token=... : the noVNC console page (the websocket /vnc/websockify is cloudproj.asgi's)."""
from django.urls import path

from consoles.api.page import console_page

urlpatterns = [path("", console_page, name="vnc-console")]
