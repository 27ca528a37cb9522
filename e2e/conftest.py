"""The whole system for end-to-end tests: every service its own process started with
`yjs-serve`, on PostgreSQL and a fresh RabbitMQ vhost, driven only through its API and queues."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from yjs_cli.client import ApiClient, token_for
from yjs_cli.system import GATEWAY_PORT, System, SystemConfig, free_port_offset
from yjs_contracts import samples
from yjs_contracts.samples import LEGAL_REPRESENTATIVE_ID
from yjs_kit.testing import create_database, drop_database, drop_vhost, fresh_vhost

E2E_ENV = {"RETRY_DELAYS_MS": "200,500", "MAX_WORKERS": "10", "DB_POOL_SIZE": "4", "LOG_LEVEL": "INFO",
           # deregistration notices run seconds, not 20 or 45 days
           "NOTICE_PERIOD_SECONDS": "6", "NOTICE_CHECK_SECONDS": "0.5",
           # 容缺 materials past due and overdue steps are looked for every fraction of a second
           "MATERIALS_CHECK_SECONDS": "0.5", "OVERDUE_CHECK_SECONDS": "1",
           # follow-ups of bad ratings past their due date escalate within a second
           "FOLLOW_UP_CHECK_SECONDS": "1",
           # the 无感监测 metrics are made again at each scrape
           "MATTER_FIGURES_SECONDS": "0"}


class RunningSystem:
    def __init__(self, system: System, amqp_uri: str, database_urls: dict[str, str]):
        self.system, self.amqp_uri, self.database_urls = system, amqp_uri, database_urls
        self.log_dir = system.config.log_dir
        self.base_url = system.config.base_url

    def client(self, subject: str = "e2e-applicant", role: str = "applicant",
               id_number: str | None = LEGAL_REPRESENTATIVE_ID) -> ApiClient:
        """An applicant acts as the sample establishments' legal representative unless told otherwise."""
        return ApiClient(self.base_url, token_for(subject, role, id_number=id_number))

    def query(self, service: str, sql: str, **params):
        engine = create_engine(self.database_urls[service])
        try:
            with engine.begin() as connection:
                result = connection.execute(text(sql), params)
                return result.all() if result.returns_rows else None
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def system(request, tmp_path_factory):
    """The module's own system; a module's SYSTEM_ENV changes E2E_ENV for it."""
    vhost, amqp_uri = fresh_vhost()
    services = ["case", "registration", "seal_carving", "tax", "bank_account", "licensing", "deregistration",
                "social_insurance", "gateway"]
    databases = {s: create_database(f"yjs_e2e_{s}") for s in services if s != "gateway"}
    replicas = {"tax": 2}
    offset = free_port_offset(services, replicas)
    config = SystemConfig(amqp_uri=amqp_uri, gateway_address=f"127.0.0.1:{GATEWAY_PORT + offset}",
                          database_urls=databases, services=services, replicas=replicas,
                          metrics_port_offset=offset, env={**E2E_ENV, **getattr(request.module, "SYSTEM_ENV", {})})
    # every process's log in a file of its own, kept after the run for whoever reads a failure
    config.log_dir = tmp_path_factory.mktemp(f"logs-{request.module.__name__.rsplit('.', 1)[-1]}")
    system = System(config)
    system.start()
    try:
        system.wait_ready()
        yield RunningSystem(system, amqp_uri, databases)
    finally:
        system.stop()
        for url in databases.values():
            drop_database(url)
        drop_vhost(vhost)


_names = iter(range(uuid.uuid4().int % 1_000_000, 10**9))


def make_fresh_application(**kwargs) -> dict:
    """An establishment application with a name no other test has taken."""
    return {"matter": "establishment", "application": samples.establishment_application(
        samples.unique_trade_name(next(_names)), **kwargs)}


@pytest.fixture
def fresh_application():
    """fresh_application(seals=(), bank_account=False) -> a submission body with an untaken name."""
    return make_fresh_application
