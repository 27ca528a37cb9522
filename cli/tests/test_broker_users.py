"""`yjs topology department`: a department system's user binds and reads its own queues on the
producers' exchanges and can publish nothing, on the real broker."""

import uuid

import amqp
import pytest
from kombu import Connection
from yjs_kit.broker_users import uri_with_user
from yjs_kit.testing import rabbitmqctl
from yjs_cli.main import main


@pytest.fixture
def bureau(broker_uri, monkeypatch):
    name = f"bureau-{uuid.uuid4().hex[:8]}"  # users are the broker's, not the test vhost's
    password = uuid.uuid4().hex
    monkeypatch.setenv(f"AMQP_PASSWORD_{name.upper().replace('-', '_')}", password)
    yield name, uri_with_user(broker_uri, name, password)
    rabbitmqctl("delete_user", name)


def test_a_department_user_reads_queues_it_binds_and_publishes_nowhere(broker_uri, bureau, capsys):
    name, uri = bureau
    assert main(["topology", "apply", "--amqp-uri", broker_uri]) == 0
    assert main(["topology", "department", "--name", name, "--producer", "case", "--amqp-uri", broker_uri]) == 0
    assert f"user {name}" in capsys.readouterr().out
    assert main(["topology", "department", "--name", name, "--producer", "case", "--amqp-uri", broker_uri]) == 0
    assert "nothing changed" in capsys.readouterr().out
    with Connection(uri) as connection:
        channel = connection.channel()
        channel.exchange_declare("case.events", "topic", passive=True)
        channel.queue_declare(f"{name}.completed", durable=True, auto_delete=False)
        channel.queue_bind(f"{name}.completed", "case.events", "completed")
        channel.basic_get(f"{name}.completed")
        for exchange, routing_key in (("case.events", "completed"), ("", f"{name}.completed")):
            with pytest.raises(amqp.exceptions.AccessRefused):
                channel.basic_publish(amqp.Message("{}"), exchange=exchange, routing_key=routing_key)
                channel.basic_qos(0, 1, False)  # a round trip: the refusal closes the channel by then
            channel = connection.channel()
        for refused in (lambda: channel.queue_bind(f"{name}.completed", "tax.events", "step_updated"),
                        lambda: channel.basic_get("case.inbox")):
            with pytest.raises(amqp.exceptions.AccessRefused):
                refused()
            channel = connection.channel()


def test_a_local_run_that_may_not_create_users_goes_on_with_the_shared_account(broker_uri, monkeypatch, tmp_path, capsys):
    """`yjs up` as an ordinary user: rabbitmqctl refuses without the Erlang cookie. Locally the
    system still starts, on AMQP_URI's account, and says so; in production it does not."""
    from yjs_cli.system import System, SystemConfig

    refusing = tmp_path / "rabbitmqctl"
    refusing.write_text("#!/bin/sh\necho 'Only root or rabbitmq can run rabbitmqctl' >&2\nexit 1\n")
    refusing.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    local = System(SystemConfig(amqp_uri=broker_uri, services=["tax"]))
    local.apply_topology()
    assert local.amqp_uri_for("tax") == broker_uri
    assert "broker users not applied (rabbitmqctl export_definitions failed: Only root" in capsys.readouterr().err
    production = System(SystemConfig(amqp_uri=broker_uri, services=["tax"], env={"YJS_ENV": "production",
                                                                                 "AMQP_PASSWORD_TAX": "x" * 32}))
    with pytest.raises(RuntimeError, match="Only root"):
        production.apply_topology()
