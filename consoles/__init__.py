"""Remote consoles: short-lived VNC console tokens (stored hashed), the Compute API calls that
hand out console URLs, the token-authorised noVNC page and the websocket proxy in front of the
guests' VNC servers (cloudproj.asgi routes /vnc/websockify to it)."""
