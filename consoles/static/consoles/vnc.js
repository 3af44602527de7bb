// The console page: noVNC's RFB client on the websocket proxy of this same site
// (/vnc/websockify next to this page), authorised by the page's ?token=.
// noVNC 1.7.0 (MPL-2.0: static/novnc/LICENSE.txt) is the npm release @novnc/novnc, pinned in
// package.json / package-lock.json and served from node_modules by STATICFILES_DIRS.
import RFB from "../novnc/core/rfb.js";

const status = document.getElementById("vnc-status");
const cad = document.getElementById("vnc-cad");
const token = new URLSearchParams(window.location.search).get("token") || "";
const url = new URL("websockify", window.location.href);
url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
url.search = new URLSearchParams({ token }).toString();
url.hash = "";

const rfb = new RFB(document.getElementById("vnc-screen"), url.toString(), { wsProtocols: ["binary"] });
rfb.scaleViewport = true;
rfb.background = "#111";

rfb.addEventListener("connect", () => {
  status.textContent = "Connected";
  status.dataset.state = "connected";
  cad.disabled = false;
});
rfb.addEventListener("disconnect", (event) => {
  status.textContent = event.detail.clean
    ? "Disconnected"
    : "Disconnected: the console could not be reached (the link may have expired or the server stopped)";
  status.dataset.state = "disconnected";
  cad.disabled = true;
});
rfb.addEventListener("securityfailure", (event) => {
  status.textContent = `Security negotiation failed: ${event.detail.reason || event.detail.status}`;
});
rfb.addEventListener("desktopname", (event) => {
  document.title = `VNC console: ${event.detail.name}`;
});
cad.addEventListener("click", () => rfb.sendCtrlAltDel());
