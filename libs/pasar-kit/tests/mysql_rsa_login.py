"""The login of a MySQL 8 server whose account uses caching_sha2_password, over plain TCP.

MySQL 8's default authentication, on a connection without TLS and before the server has
cached the password, asks the client for the password sealed with the server's RSA key:
the one login that needs PyMySQL's RSA exchange (``cryptography``). MariaDB, the server the
tests run, has no such plugin, so this speaks just that much of the protocol on a real
socket: the greeting, "perform full authentication", the public key, the sealed password
checked, then OK to every command until the client quits.
"""

from __future__ import annotations

import os
import socket
import struct
import threading

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PLUGIN = b"caching_sha2_password"
# CLIENT_LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION,
# PLUGIN_AUTH, PLUGIN_AUTH_LENENC_CLIENT_DATA; not CLIENT_SSL: the connection stays plain.
CAPABILITIES = 0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000 | 0x200000
UTF8MB4_GENERAL_CI = 45
OK = b"\x00\x00\x00\x00\x00\x00\x00"
ACCESS_DENIED = b"\xff" + struct.pack("<H", 1045) + b"#28000Access denied"
COM_QUIT = 0x01


class MySqlRsaLoginServer:
    """Serves logins one after another on a loopback port until closed; records, per
    login, whether the sealed password was the account's."""

    def __init__(self, password: bytes) -> None:
        self.password = password
        self.logins: list[bool] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # closed
                return
            with connection:
                self._login_and_answer(connection)

    def _login_and_answer(self, connection: socket.socket) -> None:
        salt = bytes(1 + byte % 127 for byte in os.urandom(20))  # no NUL, as MySQL's
        send(connection, 0, greeting(salt))
        receive(connection)  # the handshake response: user, scramble, plugin
        send(connection, 2, b"\x01\x04")  # fast authentication failed: perform full
        if receive(connection) != b"\x02":  # the client asks for the public key
            return
        public_key = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        send(connection, 4, b"\x01" + public_key)
        sealed = receive(connection)
        oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
        opened = self._key.decrypt(sealed, oaep)
        accepted = bytes(byte ^ salt[i % len(salt)] for i, byte in enumerate(opened)) == self.password + b"\0"
        self.logins.append(accepted)
        send(connection, 6, OK if accepted else ACCESS_DENIED)
        while accepted and (command := receive(connection)) and command[0] != COM_QUIT:
            send(connection, 1, OK)


def greeting(salt: bytes) -> bytes:
    return (
        b"\x0a8.0.36\x00"
        + struct.pack("<I", 1)
        + salt[:8]
        + b"\x00"
        + struct.pack("<H", CAPABILITIES & 0xFFFF)
        + struct.pack("<BHHB", UTF8MB4_GENERAL_CI, 0, CAPABILITIES >> 16, len(salt) + 1)
        + b"\x00" * 10
        + salt[8:]
        + b"\x00"
        + PLUGIN
        + b"\x00"
    )


def send(connection: socket.socket, sequence: int, payload: bytes) -> None:
    connection.sendall(struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload)


def receive(connection: socket.socket) -> bytes:
    """One packet's payload; empty when the client has gone."""
    header = read_exactly(connection, 4)
    if len(header) < 4:
        return b""
    return read_exactly(connection, int.from_bytes(header[:3], "little"))


def read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data
