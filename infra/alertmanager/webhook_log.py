"""The default receiver of Alertmanager's webhook: writes each alert it is sent as one JSON line
to standard output, so `docker compose logs alert-webhook` (or `kubectl logs`) shows what would
have paged someone. Replace it with your on-call bridge: README "Running it for real".

    python webhook_log.py            # listens on 0.0.0.0:$PORT (5001)
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def lines(notification: dict) -> list[str]:
    """One line per alert of an Alertmanager notification (webhook payload version 4)."""
    out = []
    for alert in notification.get("alerts", []):
        labels, annotations = alert.get("labels", {}), alert.get("annotations", {})
        out.append(json.dumps({
            "status": alert.get("status"),
            "alert": labels.get("alertname"),
            "severity": labels.get("severity"),
            "labels": labels,
            "summary": annotations.get("summary"),
            "runbook_url": annotations.get("runbook_url"),
            "starts_at": alert.get("startsAt"),
        }, ensure_ascii=False))
    return out


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            for line in lines(json.loads(body)):
                print(line, flush=True)
        except ValueError:
            self.send_response(400)
        else:
            self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):  # the alerts are the log; not every request line
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5001"))
    print(f"alert-webhook listening on 0.0.0.0:{port}", file=sys.stderr, flush=True)
    HTTPServer(("0.0.0.0", port), Handler).serve_forever()
