"""A tiny HTTP listener for the traffic tests, run inside a network namespace:

    python nshttp.py ADDRESS PORT LOGFILE

Answers every GET with `peer=<the client's address>` and appends that address to LOGFILE:
what the other side of a NAT sees as the source of a connection.
"""
import http.server
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # the http.server API
        peer = self.client_address[0]
        body = f"peer={peer}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(sys.argv[3], "a") as log:
            log.write(peer + "\n")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
