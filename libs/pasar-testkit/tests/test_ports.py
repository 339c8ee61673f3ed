"""free_port and wait_for_port, against real sockets."""

from __future__ import annotations

import socket

import pytest

from pasar_testkit.ports import free_port, wait_for_port


def test_a_free_port_can_be_listened_on() -> None:
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        wait_for_port(port, timeout=5)


def test_waiting_for_a_port_nothing_listens_on_times_out() -> None:
    with pytest.raises(TimeoutError, match="nothing listens"):
        wait_for_port(free_port(), timeout=0.2)
