"""What the API process serves for consoles: the Compute API console calls, the noVNC page
and the websocket proxy (cloudproj.asgi routes /vnc/websockify to it)."""
