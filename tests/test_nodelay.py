"""TCP_NODELAY on the server's sockets: set on sockets made as Streamlit makes its listener (protocol 0, which
asyncio leaves with Nagle's algorithm), inherited by the connections accepted afterwards, other sockets unchanged."""

from __future__ import annotations

import socket
import sys

import pytest

from assistant.nodelay import no_delay

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/fd: Linux")


def delayed(sock: socket.socket) -> bool:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0


@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # protocol 0, as Streamlit binds it
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield server
    server.close()


def connect(server: socket.socket) -> tuple[socket.socket, socket.socket]:
    client = socket.create_connection(server.getsockname())
    accepted, _ = server.accept()
    return client, accepted


def test_listener_and_open_connections_get_the_option_and_later_connections_inherit_it(listener):
    client, accepted = connect(listener)
    assert delayed(listener) and delayed(accepted)  # what the server has without it
    assert no_delay() >= 2
    assert not delayed(listener) and not delayed(accepted)
    later_client, later = connect(listener)
    assert not delayed(later)  # accepted after: inherits the listener's option
    for sock in (client, accepted, later_client, later):
        sock.close()


def test_other_sockets_are_left_as_they_are(listener):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    left, right = socket.socketpair(socket.AF_UNIX)
    client, accepted = connect(listener)
    client.settimeout(None)  # blocking
    no_delay()
    assert client.getblocking() and accepted.getblocking()  # the blocking mode of every socket is unchanged
    assert udp.fileno() >= 0 and left.send(b"x") == 1 and right.recv(1) == b"x"  # still open and working
    for sock in (udp, left, right, client, accepted):
        sock.close()


def test_without_proc_nothing_is_touched(tmp_path, listener):
    assert no_delay(tmp_path / "absent") == 0
    assert delayed(listener)



def test_no_descriptor_is_left_open(listener):
    import os

    client, accepted = connect(listener)
    before = sorted(os.listdir("/proc/self/fd"))
    for _ in range(3):
        no_delay()
    assert sorted(os.listdir("/proc/self/fd")) == before
    client.close()
    accepted.close()


def test_a_descriptor_reused_for_a_file_meanwhile_is_skipped_and_closed(tmp_path):
    import os

    with open(tmp_path / "f", "w") as handle:  # as if a socket's descriptor had been closed and reused for a file
        fds = tmp_path / "fd"
        fds.mkdir()
        (fds / str(handle.fileno())).symlink_to("socket:[1]")
        before = sorted(os.listdir("/proc/self/fd"))
        assert no_delay(fds) == 0
        assert sorted(os.listdir("/proc/self/fd")) == before
