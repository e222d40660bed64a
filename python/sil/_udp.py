"""The harness's UDP socket, set up one way for every client of the sim."""

from __future__ import annotations

import selectors
import socket
from typing import Optional


def connected_socket(
    address: tuple[str, int], bind: tuple[str, int], receive_buffer: Optional[int] = None
) -> tuple[socket.socket, selectors.BaseSelector]:
    """A non-blocking UDP socket connected to the sim, and a selector on it.

    Connected: the kernel drops datagrams from anyone but the sim, and a sim
    that is gone shows up as ConnectionRefusedError.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(bind)
        if receive_buffer is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            except OSError:
                pass  # the default buffer works too, only smaller
        sock.connect(address)
        sock.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(sock, selectors.EVENT_READ)
    except BaseException:
        sock.close()
        raise
    return sock, selector
