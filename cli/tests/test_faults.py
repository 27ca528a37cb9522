"""The fault suite's own pieces: the check that counts what was lost or doubled, finding the node
a relay is connected to, and the broker nodes' separate settings. `make faults` runs the whole."""

from collections import Counter

from yjs_cli.faults import EXPECTED, SEALS, port_named, reconcile
from yjs_cli.rabbit_cluster import RabbitCluster


def complete(case_ids) -> dict[str, Counter]:
    return {table: Counter({case_id: 1 for case_id in case_ids}) for table in EXPECTED}


def test_every_case_complete_in_every_department_is_neither_lost_nor_doubled():
    tally = reconcile(["k1", "k2"], [("C1", "k1", "completed"), ("C2", "k2", "completed")], complete(["C1", "C2"]))
    assert tally.line == "faults: 2 cases, 0 lost, 0 doubled" and tally.problems == []


def test_an_application_without_a_case_or_a_case_not_completed_is_lost():
    tally = reconcile(["k1", "k2", "k3"], [("C1", "k1", "completed"), ("C2", "k2", "in_progress")],
                      complete(["C1", "C2"]))
    assert tally.lost == {"k2", "k3"} and not tally.doubled
    assert tally.line == "faults: 3 cases, 2 lost, 0 doubled"


def test_a_department_row_missing_is_lost_and_one_twice_is_doubled():
    found = complete(["C1", "C2"])
    found["seal_carving.seals[finance]"]["C1"] = 0
    found["bank_account.accounts"]["C2"] = 2
    tally = reconcile(["k1", "k2"], [("C1", "k1", "completed"), ("C2", "k2", "completed")], found)
    assert tally.lost == {"k1"} and tally.doubled == {"k2"}
    assert any("seal_carving.seals[finance] has 0 rows" in p for p in tally.problems)


def test_two_cases_for_one_application_and_rows_for_a_case_nobody_applied_for_are_doubled():
    found = complete(["C1", "C2"])
    found["tax.taxpayers"]["C9"] = 1
    tally = reconcile(["k1"], [("C1", "k1", "completed"), ("C2", "k1", "completed")], found)
    assert tally.doubled == {"k1", "C9"} and not tally.lost


def test_the_check_asks_each_seal_kind_once_and_each_other_record_once():
    assert all(EXPECTED[f"seal_carving.seals[{kind}]"] == 1 for kind in SEALS)
    assert {t for t in EXPECTED if not t.startswith(("seal_carving", "social_insurance"))} == {
        "registration.enterprises", "tax.taxpayers", "tax.invoice_grants", "bank_account.accounts"}


def test_the_relay_is_found_by_its_connection_name_among_the_brokers_connections():
    listed = [  # as `rabbitmqctl list_connections name client_properties --formatter json` prints it
        {"name": "127.0.0.1:44172 -> 127.0.0.1:23710",
         "client_properties": [["product", "longstr", "py-amqp"], ["connection_name", "longstr", "tax outbox relay"]]},
        {"name": "127.0.0.1:44178 -> 127.0.0.1:20732",
         "client_properties": [["product", "longstr", "py-amqp"], ["connection_name", "longstr", "case outbox relay"]]},
        {"name": "127.0.0.1:44196 -> 127.0.0.1:30174", "client_properties": [["product", "longstr", "py-amqp"]]},
    ]
    assert port_named(listed, "case outbox relay") == 20732
    assert port_named(listed, "bank_account outbox relay") is None


def test_each_node_has_its_own_name_ports_and_data_and_none_is_the_machines_broker(tmp_path, monkeypatch):
    monkeypatch.setenv("RABBITMQ_NODENAME", "rabbit@localhost")  # the machine's broker, in the caller's env
    cluster = RabbitCluster(tmp_path, prefix="t")
    names = [n.name for n in cluster.nodes]
    ports = [p for n in cluster.nodes for p in (n.amqp_port, n.dist_port)]
    assert len(set(names)) == 3 and len(set(ports)) == 6 and 5672 not in ports
    for node in cluster.nodes:
        env = node.environment(cluster.home)
        assert env["RABBITMQ_NODENAME"] == node.name and env["HOME"] == str(tmp_path / "home")
        assert env["RABBITMQ_MNESIA_BASE"].startswith(str(tmp_path)) and env["RABBITMQ_LOG_BASE"].startswith(str(tmp_path))
        assert f"127.0.0.1:{node.amqp_port}" in node.config()
    assert cluster.uri.split(";") == [n.uri for n in cluster.nodes]
