"""Several brokers behind AMQP_URI: the list, where a client tries first, and the user and vhost
the kit reads from it."""

from urllib.parse import urlsplit

import pytest
from yjs_kit.broker_users import broker_user_of, uri_with_user, vhost_of
from yjs_kit.brokers import broker_urls, connect, rotated
from yjs_kit.testing import TEST_AMQP_URI

CLUSTER = "amqp://guest:guest@10.0.0.1:5672/yjs;amqp://guest:guest@10.0.0.2:5672/yjs; amqp://guest:guest@10.0.0.3/yjs"


def test_the_brokers_are_read_in_order_and_a_single_url_is_a_list_of_one():
    assert broker_urls(CLUSTER) == ["amqp://guest:guest@10.0.0.1:5672/yjs", "amqp://guest:guest@10.0.0.2:5672/yjs",
                                    "amqp://guest:guest@10.0.0.3/yjs"]
    assert broker_urls("amqp://h/") == ["amqp://h/"]


def test_a_client_that_lost_its_broker_tries_the_next_first_and_comes_round():
    assert broker_urls(rotated(CLUSTER, 1))[0].startswith("amqp://guest:guest@10.0.0.2")
    assert broker_urls(rotated(CLUSTER, 2))[0].startswith("amqp://guest:guest@10.0.0.3")
    assert rotated(CLUSTER, 3) == rotated(CLUSTER, 0) == ";".join(broker_urls(CLUSTER))


def test_a_service_user_is_set_on_every_broker_and_the_vhost_read_from_the_first():
    as_tax = uri_with_user(CLUSTER, "yjs-tax", "s3cret/+")
    assert [u.split("@")[0] for u in broker_urls(as_tax)] == ["amqp://yjs-tax:s3cret%2F%2B"] * 3
    assert [u.split("@")[1] for u in broker_urls(as_tax)] == ["10.0.0.1:5672/yjs", "10.0.0.2:5672/yjs", "10.0.0.3/yjs"]
    assert broker_user_of(as_tax) == "yjs-tax"
    assert vhost_of(CLUSTER) == "yjs"


def unreachable(port: int) -> str:
    return f"amqp://guest:guest@127.0.0.1:{port}/"


def test_connect_tries_every_broker_once_and_reaches_the_last_when_the_others_are_down():
    # kombu's own connect() gives up after two: a cluster of three with two nodes down still answers
    connection = connect(f"{unreachable(1)};{unreachable(2)};{TEST_AMQP_URI}", connect_timeout=2)
    try:
        test_broker = urlsplit(TEST_AMQP_URI)
        assert connection.connected
        assert (connection.hostname, connection.port) == (test_broker.hostname, test_broker.port or 5672)
    finally:
        connection.release()


def test_connect_raises_when_no_broker_answers():
    with pytest.raises(Exception):
        connect(f"{unreachable(1)};{unreachable(2)}", connect_timeout=2)
