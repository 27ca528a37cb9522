"""Each service's settings, from the environment, with defaults for a local run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

SERVICES = ("gateway", "case", "registration", "seal_carving", "tax", "bank_account", "licensing", "deregistration",
            "social_insurance")
METRICS_PORTS = {name: 9100 + i for i, name in enumerate(SERVICES)}
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"
DEV_JWT_SECRET = "yjs-local-development-secret-not-for-production"


def var_dir() -> Path:
    return Path(os.environ.get("YJS_VAR_DIR", "var")).resolve()


def default_database_url(service: str) -> str:
    return f"sqlite:///{var_dir() / (service + '.sqlite3')}"


#: The tuning settings, as a service reads them from its environment when they are not set
#: there: written once, for `service_config`, for the extensions that read a config without them
#: (a test's container), and for the settings line of `yjs bench`. The README's settings table
#: shows the same values.
DEFAULTS = {
    "MAX_WORKERS": "10",
    "EVENT_WORKERS": "2",
    "EVENT_BATCH": "50",
    "EVENT_PREFETCH": "100",
    "EVENT_LINGER_MS": "150",
    "DB_PREPARED_STATEMENTS": "on",
    "DB_WAIT_BEFORE_YIELD_MS": "5",
    "RETRY_DELAYS_MS": "1000,5000,30000",
    "DEAD_LETTER_STORE_TRIES": "20",
    "AMQP_HEARTBEAT": "30",
    "OUTBOX_CONFIRM_TIMEOUT": "10",
    "OUTBOX_MAX_ATTEMPTS": "8",
    "OUTBOX_RETENTION_HOURS": str(24 * 7),
    "INBOX_RETENTION_HOURS": str(24 * 30),
}


def setting(name: str, environ: Mapping[str, str] = os.environ) -> str:
    """A tuning setting from the environment, else its default."""
    return environ.get(name) or DEFAULTS[name]


def parse_delays(raw: str) -> list[int]:
    return [int(x) for x in raw.split(",") if x.strip()]


def retry_delays_ms(environ: Mapping[str, str] = os.environ) -> list[int]:
    """Backoff between tries of a failing handler; after the last, the message is dead-lettered."""
    return parse_delays(setting("RETRY_DELAYS_MS", environ))


def switched_on(raw: str) -> bool:
    """A setting that is on or off: 1, true, yes or on (any case) are on."""
    return raw.strip().lower() in ("1", "true", "yes", "on")


def broker_users_on(environ: Mapping[str, str] = os.environ) -> bool:
    """`YJS_BROKER_USERS`: every service connects as its own broker user `yjs-<service>`
    (`yjs topology apply --users`; `yjs up`, compose and Kubernetes set it), so a consumer requires
    an event's publisher to be its producer's user. Off, all share AMQP_URI's account and the
    publisher says nothing. Production has no choice: on."""
    raw = environ.get("YJS_BROKER_USERS")
    if raw is None or not raw.strip():
        return environ.get("YJS_ENV") == "production"
    return switched_on(raw)


OIDC_SETTINGS = ("OIDC_AUTHORIZATION_ENDPOINT", "OIDC_TOKEN_ENDPOINT", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET",
                 "OIDC_REDIRECT_URI", "OIDC_SCOPE")


def service_config(service: str, **overrides) -> dict:
    """The nameko config of one service process."""
    env = os.environ
    max_workers = int(setting("MAX_WORKERS", env))
    config = {
        "AMQP_URI": env.get("AMQP_URI", DEFAULT_AMQP_URI),
        "BROKER_USERS": broker_users_on(env),
        "DATABASE_URL": env.get("DATABASE_URL") or default_database_url(service),
        "METRICS_PORT": int(env.get("METRICS_PORT", METRICS_PORTS.get(service, 9199))),
        "METRICS_HOST": env.get("METRICS_HOST", "127.0.0.1"),
        "WEB_SERVER_ADDRESS": env.get("WEB_SERVER_ADDRESS", "127.0.0.1:8000"),
        # production gets no development default: check_keys then refuses to start without a key
        "YJS_ENV": env.get("YJS_ENV", "development"),
        "JWT_SECRET": env.get("JWT_SECRET") or (None if env.get("YJS_ENV") == "production" else DEV_JWT_SECRET),
        "JWT_PUBLIC_KEY": env.get("JWT_PUBLIC_KEY") or None,
        "JWT_JWKS_URL": env.get("JWT_JWKS_URL") or None,
        "max_workers": max_workers,
        # a connection kept for every worker, the outbox relay and the timers: a pool smaller
        # than its users closes a connection each time one comes back and opens another for the
        # next worker, and PostgreSQL forks a backend for each (two per case, once measured)
        "DB_POOL_SIZE": int(env.get("DB_POOL_SIZE") or max_workers + 2),
        # PostgreSQL keeps the hot statements parsed and planned per connection (SQL PREPARE);
        # off behind a pooler that shares server connections between transactions (PgBouncer's
        # transaction mode), where a session's prepared statements are not the client's
        "DB_PREPARED_STATEMENTS": switched_on(setting("DB_PREPARED_STATEMENTS", env)),
        # how long a statement awaits PostgreSQL's answer in place before it yields to the
        # process's other green threads (0: yield at once); see db.green_waiter
        "DB_WAIT_BEFORE_YIELD_MS": int(setting("DB_WAIT_BEFORE_YIELD_MS", env)),
        "RETRY_DELAYS_MS": retry_delays_ms(env),
        # the most events one worker applies in one transaction (1: each on its own), and how
        # many messages the broker hands over before any is acked, for batches to be made of
        "EVENT_BATCH": int(setting("EVENT_BATCH", env)),
        "EVENT_PREFETCH": int(setting("EVENT_PREFETCH", env)),
        "EVENT_WORKERS": int(setting("EVENT_WORKERS", env)),
        # under load, how long a batch not yet full waits for more events (0: never)
        "EVENT_LINGER_MS": float(setting("EVENT_LINGER_MS", env)),
        # rounds a message waits on the broker while its dead letter cannot be stored
        "DEAD_LETTER_STORE_TRIES": int(setting("DEAD_LETTER_STORE_TRIES", env)),
        "PARENT_CALLS_TRACKED": 10,
        # AMQP heartbeats (nameko's own connections and the outbox relay's): a half-open
        # connection is found in about two intervals
        "HEARTBEAT": int(setting("AMQP_HEARTBEAT", env)),
        "OUTBOX_CONFIRM_TIMEOUT": float(setting("OUTBOX_CONFIRM_TIMEOUT", env)),
        "OUTBOX_MAX_ATTEMPTS": int(setting("OUTBOX_MAX_ATTEMPTS", env)),
        "OUTBOX_RETENTION_HOURS": float(setting("OUTBOX_RETENTION_HOURS", env)),
        "INBOX_RETENTION_HOURS": float(setting("INBOX_RETENTION_HOURS", env)),
        "serializer": "json",
        # the portal's sign-in through the identity provider (the gateway's only; see the README)
        **{name: env[name] for name in OIDC_SETTINGS if env.get(name)},
    }
    config.update(overrides)
    return config
