"""Several brokers behind one setting: `AMQP_URI` names one broker or, `;`-separated, every node
of a cluster (kombu's failover syntax, which nameko's consumers, RPC and publishers take as it
is). A connection goes to the first node that answers and, lost, to the next; each node is
tried once per round, so one node down or paused costs a connect timeout, not the connection."""

from __future__ import annotations

from kombu import Connection


def broker_urls(amqp_uri: str) -> list[str]:
    """The brokers in `amqp_uri`, in order."""
    return [url.strip() for url in amqp_uri.split(";") if url.strip()]


def rotated(amqp_uri: str, start: int) -> str:
    """The same brokers, starting at the `start`th (modulo their number): where a client that
    lost its broker tries first."""
    urls = broker_urls(amqp_uri)
    start %= max(len(urls), 1)
    return ";".join(urls[start:] + urls[:start])


def connect(amqp_uri: str, start: int = 0, **options) -> Connection:
    """A connected kombu Connection to the first of the brokers (from the `start`th) that
    answers; raises the last one's error when none does. kombu's own `connect()` tries only two."""
    connection = Connection(rotated(amqp_uri, start), **options)
    try:
        connection.ensure_connection(max_retries=len(broker_urls(amqp_uri)) - 1, interval_start=0,
                                     interval_step=0, interval_max=0)
    except BaseException:
        connection.release()
        raise
    return connection


def failover_options(amqp_uri: str, connect_timeout: float = 5.0) -> dict:
    """kombu transport options under which one connection attempt may try every broker. kombu
    bounds a whole attempt by a single connect timeout unless told otherwise, so a paused first
    node — it takes the TCP connection and never answers — would use it all up, and the
    publish (an RPC reply, a retry) would fail without trying the nodes that are up."""
    return {"connect_retries_timeout": connect_timeout * (len(broker_urls(amqp_uri)) + 1)}


def configure_nameko(amqp_uri: str) -> None:
    """nameko's publishers (RPC replies and requests, the kit's retries and dead letters) take
    their transport options from nameko's module defaults, not from the service's config: they
    are set there, once per process, before the service starts. A reply that cannot be published
    ends nameko's worker with an error that stops the whole service. And every AMQP connection
    of the process reads its frames buffered (amqp_reads)."""
    from nameko import constants
    from nameko.amqp.publish import Publisher

    from .amqp_reads import read_frames_buffered

    options = failover_options(amqp_uri)
    constants.DEFAULT_TRANSPORT_OPTIONS.update(options)  # the consumers' (and RPC replies' listeners')
    Publisher.transport_options.update(options)  # a copy nameko's publishers took when it was imported
    read_frames_buffered()
