"""A real drand-compatible HTTP server on loopback serving recorded rounds (for tests)."""

from __future__ import annotations

import http.server
import json
import threading
from contextlib import contextmanager

QUICKNET = "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971"
# The spec's real quicknet round.
ROUND_123 = {
    "round": 123,
    "randomness": "fb8f7bc29bf24db51871ec8c79f3a1e4bd0557bc0dfcee9ed1d924e69d1c60dc",
    "signature": "b75c69d0b72a5d906e854e808ba7e2accb1542ac355ae486d591aa9d43765482e26cd02df835d3546d23c4b13e0dfc92",
}


@contextmanager
def drand_server(rounds: dict[int, dict], *, not_yet: int = 0, chain_hash: str = QUICKNET):
    """Serve ``rounds``; each round answers 404 for its first ``not_yet`` requests, as a
    round still in the future does. Yields (base_url, request_log)."""
    log: list[str] = []
    seen: dict[int, int] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            log.append(self.path)
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == chain_hash and parts[1] == "public":
                try:
                    number = int(parts[2])
                except ValueError:
                    number = -1
                seen[number] = seen.get(number, 0) + 1
                if number in rounds and seen[number] > not_yet:
                    body = json.dumps(rounds[number]).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
            self.send_error(404)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
