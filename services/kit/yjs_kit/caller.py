"""Who an RPC acts for, verified by the service itself: the gateway passes the caller's own
bearer token in the call's context (nameko context data, an AMQP header), and the service checks
it with its own keys. A call whose token is missing or not verifiable acts for nobody."""

from __future__ import annotations

from nameko.extensions import DependencyProvider

from .auth import Caller, TokenKeys, Unauthorized, verify

#: the context key (header `nameko.yjs_caller`) that carries the caller's bearer token
CALLER_CONTEXT = "yjs_caller"


class CallerNotVerified(Exception):
    """The call carries no token this service can verify."""


class CallerForbidden(Exception):
    """The verified caller's role may not do this."""


class CallerCheck:
    def __init__(self, token: str | None, keys: TokenKeys):
        self._token, self._keys = token, keys

    def require(self, *roles: str) -> Caller:
        """The verified caller, whose role is one of `roles`."""
        if not self._token:
            raise CallerNotVerified("the call names no caller")
        try:
            caller = verify(self._keys, f"Bearer {self._token}")
        except Unauthorized as error:
            raise CallerNotVerified(str(error)) from None
        if roles and caller.role not in roles:
            raise CallerForbidden(f"a {caller.role} may not do this")
        return caller


class CallerIdentity(DependencyProvider):
    """`self.rpc_caller.require("operator")` in an RPC entrypoint."""

    def setup(self):
        self.keys = TokenKeys.from_config(self.container.config)

    def get_dependency(self, worker_ctx):
        return CallerCheck(worker_ctx.data.get(CALLER_CONTEXT), self.keys)
