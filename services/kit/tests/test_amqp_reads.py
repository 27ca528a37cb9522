"""AMQP frames read buffered: a burst of frames is one read of the socket, and frames split
across reads, or a read that times out halfway, still come out whole and in order."""

import socket
import struct

from amqp.transport import TCPTransport
from kombu import Connection, Exchange, Queue
from yjs_kit.amqp_reads import read_frames_buffered


def _frame(frame_type: int, channel: int, payload: bytes) -> bytes:
    return struct.pack(">BHI", frame_type, channel, len(payload)) + payload + b"\xce"


class _ScriptedSocket:
    """What the broker's bytes look like to the transport: chunks as the network hands them
    over, and None where a read times out."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.reads = 0

    def recv(self, size: int) -> bytes:
        self.reads += 1
        chunk = self.chunks.pop(0)
        if chunk is None:
            raise socket.timeout()
        if len(chunk) > size:
            self.chunks.insert(0, chunk[size:])
        return chunk[:size]


def _transport(chunks) -> tuple[TCPTransport, _ScriptedSocket]:
    transport = TCPTransport.__new__(TCPTransport)  # no connection: the reads alone
    transport._read_buffer = b""
    scripted = _ScriptedSocket(chunks)
    transport._quick_recv = scripted.recv
    return transport, scripted


def test_a_burst_of_frames_is_one_read_and_split_frames_come_out_whole_across_a_timeout():
    read_frames_buffered()
    frames = [(1, 1, b"method" * 10), (2, 1, b"header"), (3, 1, "正文".encode() * 300)]
    wire = b"".join(_frame(*f) for f in frames)

    transport, scripted = _transport([wire])
    assert [transport.read_frame() for _ in frames] == frames
    assert scripted.reads == 1  # py-amqp's exact reads took nine: header, payload, end octet each

    cut = [3, 20, len(_frame(*frames[0])) + 4, len(wire) - 1]  # inside headers, payloads, before the end octet
    pieces = [wire[a:b] for a, b in zip([0] + cut, cut + [len(wire)])]
    transport, scripted = _transport(pieces[:2] + [None] + pieces[2:4] + [None] + pieces[4:])
    read = []
    while len(read) < len(frames):
        try:
            read.append(transport.read_frame())
        except socket.timeout:
            pass  # as drain_events' caller does: the partial frame stays buffered for the next call
    assert read == frames
    assert transport._read_buffer == b""


def test_messages_from_the_broker_arrive_whole_with_far_fewer_reads_than_frames(broker_uri):
    read_frames_buffered()
    exchange = Exchange("reads", "direct", durable=False)
    queue = Queue("reads", exchange, routing_key="reads", durable=False, auto_delete=False)
    bodies = [f"消息 {k} " * (k % 40 + 1) for k in range(200)]
    with Connection(broker_uri) as connection:
        producer = connection.Producer()
        for body in bodies:
            producer.publish(body, exchange=exchange, routing_key="reads", declare=[queue], serializer="json")

    with Connection(broker_uri) as connection:
        connection.connect()
        transport = connection.connection.transport
        counted = {"reads": 0}
        recv = transport._quick_recv

        def counting_recv(size):
            counted["reads"] += 1
            return recv(size)

        transport._quick_recv = counting_recv
        received = []

        def on_message(body, message):
            received.append(body)
            message.ack()

        with connection.Consumer(queue, callbacks=[on_message], prefetch_count=200):
            while len(received) < len(bodies):
                connection.drain_events(timeout=5)
    assert received == bodies
    # each message is three frames (method, header, body): read exactly, nine reads apiece
    assert counted["reads"] < len(bodies)
