"""Every TCP connection of the server sends its messages at once (TCP_NODELAY), whatever started the server.

Streamlit binds its listening socket itself, with a protocol number of 0, and asyncio sets TCP_NODELAY only on
sockets whose protocol says TCP: the server's connections keep Nagle's algorithm. A rerun sends a dozen small
messages; after the first, each waits for the browser's acknowledgement, which the browser delays (about 40 ms
on Linux). One agent's Enter → card, `python tools/load.py --replicas 1 --sessions 1 --pace 0` before and after:
see the README, Many agents on one server.

`no_delay()` sets the option on every TCP socket the process holds: the listening socket (the connections it
accepts afterwards inherit the option on Linux) and the connections already open. The app calls it at the first
run of each session, so a platform where accepted sockets do not inherit still gets each session's own
connection. Linux only (/proc/self/fd); elsewhere it does nothing.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

FDS = Path("/proc/self/fd")


def no_delay(fds: Path = FDS) -> int:
    """TCP_NODELAY on every TCP socket (IPv4, IPv6) of this process; returns how many were set."""
    if socket.getdefaulttimeout() is not None:  # a socket object made now would change the sockets' blocking mode
        return 0
    try:
        names = os.listdir(fds)
    except OSError:
        return 0
    done = 0
    for name in names:
        try:
            if not os.readlink(fds / name).startswith("socket:"):
                continue
            duplicate = os.dup(int(name))  # a second descriptor of the same socket
        except (OSError, ValueError):  # closed meanwhile, or not a descriptor
            continue
        try:
            sock = socket.socket(fileno=duplicate)
        except OSError:  # the descriptor was closed and reused for something else meanwhile
            os.close(duplicate)
            continue
        try:
            if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
        except OSError:  # a socket being closed by its owner
            pass
        finally:
            sock.close()  # closes the duplicate only
    return done
