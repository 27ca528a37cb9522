"""py-amqp reads each frame with three `recv` calls of exactly the bytes it wants next (the
header, the payload, the end octet): three green-socket reads per frame, nine per delivered
message. Here a read asks for whatever the socket holds, up to READ_CHUNK, and keeps the rest
in the transport's own read buffer, which py-amqp already keeps between frames (and restores
on a timeout): a burst of deliveries or confirms is one `recv`."""

from __future__ import annotations

import errno
import socket

from amqp.transport import TCPTransport

# small on purpose: each frame taken from the buffer copies what is left behind it, so a large
# buffer of small frames costs more in copies than the reads it saves (ADR 32)
READ_CHUNK = 4 * 1024


def _buffered_read(self, n, initial=False, _errnos=(errno.EAGAIN, errno.EINTR)):
    recv = self._quick_recv
    rbuf = self._read_buffer
    try:
        while len(rbuf) < n:
            try:
                s = recv(max(n - len(rbuf), READ_CHUNK))
            except OSError as exc:
                if exc.errno in _errnos:
                    if initial and self.raise_on_initial_eintr:
                        raise socket.timeout()
                    continue
                raise
            if not s:
                raise OSError("Server unexpectedly closed connection")
            rbuf += s
    except:  # noqa: E722 - as py-amqp's own: whatever ends the read, what was read stays buffered
        self._read_buffer = rbuf
        raise
    result, self._read_buffer = rbuf[:n], rbuf[n:]
    return result


def read_frames_buffered() -> None:
    """For every py-amqp connection of this process (nameko's, kombu's and the outbox relay's)."""
    TCPTransport._read = _buffered_read
