"""The gateway: HTTP in, RPC to the services, one mapping of errors to status codes."""
