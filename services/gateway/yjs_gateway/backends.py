"""RPC to the services behind the gateway, each call bounded in time: a service that is down
makes a 503, never a request that hangs."""

from __future__ import annotations

import importlib.util
import os

import eventlet
from nameko.rpc import RpcProxy, ServiceProxy
from yjs_kit.caller import CALLER_CONTEXT
from yjs_kit.config import SERVICES

RPC_TIMEOUT = float(os.environ.get("RPC_TIMEOUT_SECONDS", "10"))


def backend_services() -> list[str]:
    """The services this deployment runs: YJS_SERVICES, or every one installed here."""
    listed = os.environ.get("YJS_SERVICES")
    if listed:
        return [s.strip() for s in listed.split(",") if s.strip()]
    return [s for s in SERVICES if s != "gateway" and importlib.util.find_spec(f"yjs_{s}") is not None]


class Backend:
    def __init__(self, proxy: ServiceProxy, timeout: float):
        self._proxy, self._timeout = proxy, timeout

    def call(self, method: str, *args, timeout: float | None = None, **kwargs):
        reply = getattr(self._proxy, method).call_async(*args, **kwargs)
        with eventlet.Timeout(timeout or self._timeout):
            return reply.result()


class BackendSet(dict):
    """The services behind the gateway, for one request."""

    def __init__(self, worker_ctx, backends: dict[str, Backend]):
        super().__init__(backends)
        self._worker_ctx = worker_ctx

    def act_as(self, token: str) -> None:
        """Every call of this request carries the caller's own verified token, so the service
        called checks who it acts for itself."""
        self._worker_ctx.data[CALLER_CONTEXT] = token


class Backends(RpcProxy):
    """`self.backends["case"].call("get_case", case_id)`"""

    def __init__(self):
        super().__init__("case")

    def get_dependency(self, worker_ctx):
        return BackendSet(worker_ctx, {
            name: Backend(ServiceProxy(worker_ctx, name, self.rpc_reply_listener), RPC_TIMEOUT)
            for name in ["case", *[s for s in backend_services() if s != "case"]]})
