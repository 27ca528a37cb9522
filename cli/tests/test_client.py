"""The API client's polling, against a local HTTP server that answers as a restarting system does."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from yjs_cli.client import ApiClient


def serve(answers: list[tuple[int, dict]]):
    """A server that gives `answers` in turn, then the last one again."""
    asked = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the standard library's name
            asked.append(self.path)
            status, body = answers[min(len(asked), len(answers)) - 1]
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, asked


def test_waiting_for_a_case_rides_out_a_restarting_system_and_stops_at_a_real_refusal():
    unavailable = {"error": {"code": "unavailable"}}
    server, asked = serve([(503, unavailable), (504, unavailable), (200, {"status": "in_progress"}),
                           (200, {"status": "completed", "case_id": "C1"})])
    try:
        client = ApiClient(f"http://127.0.0.1:{server.server_port}")
        assert client.wait_until_final("C1", timeout=10, interval=0.01)["status"] == "completed"
        assert len(asked) == 4
    finally:
        server.shutdown()
    server, asked = serve([(503, unavailable), (404, {"error": {"code": "not_found"}})])
    try:
        with pytest.raises(requests.HTTPError):  # not found is an answer, not a pause
            ApiClient(f"http://127.0.0.1:{server.server_port}").wait_until_final("C9", timeout=10, interval=0.01)
        assert len(asked) == 2
    finally:
        server.shutdown()
    server, _ = serve([(503, unavailable)])
    try:
        with pytest.raises(TimeoutError, match="unavailable"):
            ApiClient(f"http://127.0.0.1:{server.server_port}").wait_until_final("C2", timeout=0.3, interval=0.05)
    finally:
        server.shutdown()
