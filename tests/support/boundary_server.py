"""What the boundary servers of tests/support/ share: a threading HTTP server on a free loopback port, the port
printed as the first line of stdout (the Rust harness reads it there), and no request log on stderr."""

import sys
from http.server import ThreadingHTTPServer


def serve(handler):
    """Serves `handler` (a BaseHTTPRequestHandler class) until the process is ended."""
    handler.log_message = lambda self, *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()
