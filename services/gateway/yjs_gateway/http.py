"""The gateway's HTTP entrypoint: nameko's, with our error shape and latency metric."""

from __future__ import annotations

import time

import structlog
from nameko.web.handlers import HttpRequestHandler

from yjs_kit.metrics import HTTP_SECONDS

from .errors import as_api_error, error_response

log = structlog.get_logger(__name__)


class ApiRoute(HttpRequestHandler):
    def handle_request(self, request):
        started = time.perf_counter()
        response = super().handle_request(request)
        HTTP_SECONDS.labels(request.method, self.url, str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def response_from_exception(self, exc):
        error = as_api_error(exc)
        if error.status >= 500:
            log.error("request failed", path=self.url, error=repr(exc))
        return error_response(error)


route = ApiRoute.decorator
