"""A TCP proxy in front of PostgreSQL that can cut one connection at a chosen moment.

Used to break a save's connection the way a network or a server restart does: either before
the save's statement reaches the server, or after the server has run it but before its answer
reaches the client. Nothing is mocked: the driver, the server and the bytes are real.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Literal

Moment = Literal["before it reaches the server", "before the answer comes back"]


class CuttingProxy:
    """Forwards connections to ``target``; cuts the first one that sends ``marker`` once armed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._marker: bytes | None = None
        self._moment: Moment | None = None
        self._on_cut: Callable[[], None] | None = None
        #: Set once a connection was cut.
        self.cut = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes, moment: Moment, on_cut: Callable[[], None] | None = None) -> None:
        """Cut the next connection whose client sends ``marker``, at ``moment``; ``on_cut`` runs
        just before the cut (another worker's save, say)."""
        with self._lock:
            self._marker, self._moment, self._on_cut = marker, moment, on_cut
            self.cut.clear()

    def close(self) -> None:
        """Stop accepting connections (open ones end with their peers)."""
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            answer_held = threading.Event()
            threading.Thread(
                target=self._upstream, args=(client, server, answer_held), daemon=True
            ).start()
            threading.Thread(
                target=self._downstream, args=(server, client, answer_held), daemon=True
            ).start()

    def _take(self, data: bytes, tail: bytes) -> Moment | None:
        """The moment to cut at, if ``data`` (after ``tail``) holds the armed marker."""
        with self._lock:
            if self._marker is None or self._marker not in tail + data:
                return None
            moment, self._marker, self._moment = self._moment, None, None
            return moment

    def _cut(self, *sockets: socket.socket) -> None:
        if self._on_cut is not None:
            self._on_cut()
        _close(*sockets)
        self.cut.set()

    def _upstream(
        self, client: socket.socket, server: socket.socket, hold: threading.Event
    ) -> None:
        tail = b""
        while data := _receive(client):
            moment = self._take(data, tail)
            if moment == "before it reaches the server":
                self._cut(client, server)
                return
            if moment == "before the answer comes back":
                hold.set()
            tail = data[-256:]
            try:
                server.sendall(data)
            except OSError:
                break
        _close(client, server)

    def _downstream(
        self, server: socket.socket, client: socket.socket, hold: threading.Event
    ) -> None:
        while data := _receive(server):
            if hold.is_set():  # the server ran the statement and answers: the client never hears
                self._cut(client, server)
                return
            try:
                client.sendall(data)
            except OSError:
                break
        _close(client, server)


def _receive(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with contextlib.suppress(OSError):  # already shut by the peer
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
