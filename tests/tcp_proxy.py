"""A TCP forwarder in front of a real server (PostgreSQL) that a test can freeze and cut.

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        app = make_app(database_url=proxy.route(database_url))
        proxy.freeze()    # the database goes silent: bytes are taken, nothing is answered
        proxy.thaw()      # held bytes flow again; the connections were never closed
        proxy.cut()       # every connection closed, new ones reset at once ...
        proxy.restore()   # ... until this

``freeze`` is what a SIGSTOPped server or a hung host looks like from the client: its
kernel still accepts and acknowledges bytes (so TCP keepalives and ``tcp_user_timeout`` do
not fire, and the server never sees the query, so neither does ``statement_timeout``), but
no answer ever comes. ``cut`` is a connection reset or a server that went away.

The proxy listens on a free loopback port; each accepted connection gets one daemon thread
that forwards both directions (at most ``max_connections`` at a time; more are reset).
``close`` (or leaving the ``with`` block) stops everything and closes every socket.
"""
from __future__ import annotations

import select
import socket
import struct
import threading

from sqlalchemy.engine import make_url

_TICK = 0.05  # how often idle threads look at the proxy's state


class TcpProxy:
    def __init__(self, upstream: tuple[str, int] = ("127.0.0.1", 5432), max_connections: int = 64):
        self.upstream = upstream
        self.max_connections = max_connections
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._flowing = threading.Event()  # cleared while frozen
        self._flowing.set()
        self._refusing = False             # True between cut() and restore()
        self._closed = False
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._start(self._accept_loop, "tcp-proxy-accept")

    # -- the interface tests use --------------------------------------------------------

    def route(self, url: str) -> str:
        """``url`` (a database URL) with its host and port replaced by the proxy's."""
        return make_url(url).set(host=self.host, port=self.port).render_as_string(
            hide_password=False)

    def freeze(self) -> None:
        """Stop forwarding in both directions; every socket stays open. New connections
        are accepted but get no answer either."""
        self._flowing.clear()

    def thaw(self) -> None:
        """Forward again, including the bytes held during the freeze."""
        self._flowing.set()

    def cut(self) -> None:
        """Close every connection (both sides), and reset new ones until ``restore``."""
        with self._lock:
            self._refusing = True
            links = list(self._links)
        for link in links:
            link.shut()

    def restore(self) -> None:
        """Accept and forward new connections again after a ``cut``."""
        with self._lock:
            self._refusing = False

    def close(self) -> None:
        """Stop the proxy: close every connection and the listener, end its threads."""
        self._closed = True
        self.cut()
        self.thaw()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=2)
        self._listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- the machinery ------------------------------------------------------------------

    def _start(self, target, name: str, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _accept_loop(self) -> None:
        while not self._closed:
            if not select.select([self._listener], [], [], _TICK)[0]:
                continue
            client, _ = self._listener.accept()
            if self._refusing:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=2)
            except OSError:
                _reset(client)
                continue
            link = _Link(client, server)
            with self._lock:  # decided together with cut(), so no link escapes a cut
                refuse = self._refusing or len(self._links) >= self.max_connections
                if not refuse:
                    self._links.add(link)
            if refuse:
                _reset(client)
                server.close()
                continue
            self._start(self._forward, f"tcp-proxy-link-{client.fileno()}", link)

    def _forward(self, link: _Link) -> None:
        peer = {link.client: link.server, link.server: link.client}
        try:
            while not link.closed:
                if not self._flowing.wait(_TICK):
                    continue  # frozen: read nothing, so the kernel buffers what arrives
                for sock in select.select(list(peer), [], [], _TICK)[0]:
                    data = sock.recv(65536)
                    if not data:
                        return
                    while not self._flowing.wait(_TICK):  # a freeze began: hold this chunk
                        if link.closed:
                            return
                    peer[sock].sendall(data)
        except OSError:  # a side went away, or cut() shut the link
            pass
        finally:
            link.shut()
            link.client.close()
            link.server.close()
            with self._lock:
                self._links.discard(link)


class _Link:
    """One forwarded connection: the client's socket and ours to the upstream server."""

    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        for sock in (client, server):
            sock.settimeout(5)  # a peer that stops reading cannot hold a thread for ever
        self.closed = False
        self._lock = threading.Lock()

    def shut(self) -> None:
        """Shut both sockets down (the peers see the connection closed) and wake the
        forwarding thread, which closes them; safe from any thread, and more than once."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            for sock in (self.client, self.server):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a refused or dropped connection looks to the client."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
