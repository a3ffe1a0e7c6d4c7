"""Hostile peers on 127.0.0.1 for the fault matrix: small threaded socket servers that each misbehave one
way (not HTTP, broken HTTP, cut or endless bodies, resets and hangs at each phase, trickles, bad TLS,
a CONNECT proxy answering garbage or nothing). One CA, made here, signs the good certificates."""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aoai_doctor.standin.certs import CertificateAuthority, cert_pem, make_tls_material, private_key_pem

HOST = "contoso.openai.azure.com"
"""The endpoint's name: an Azure suffix, so the key is sent; ``--resolve`` pins it to 127.0.0.1."""

Behaviour = Callable[[socket.socket, "Peer"], None]


@dataclass
class Peer:
    """What a behaviour needs: TLS contexts and a flag that ends every loop when the module is done."""

    trusted: ssl.SSLContext
    untrusted: ssl.SSLContext
    wrong_name: ssl.SSLContext
    client_cert_required: ssl.SSLContext
    stop: threading.Event


def contexts(directory: Path) -> tuple[Path, Peer]:
    """The CA bundle the client trusts, and the server contexts (trusted, untrusted, wrong name, mTLS)."""
    (directory / "good").mkdir()
    (directory / "other").mkdir()
    good = make_tls_material(directory / "good")
    other = make_tls_material(directory / "other")
    ca = CertificateAuthority.create()
    key, cert = ca.issue_server_cert(("wrong.example.com",))
    (directory / "wrong.pem").write_bytes(cert_pem(cert) + cert_pem(ca.cert))
    (directory / "wrong.key").write_bytes(private_key_pem(key))
    bundle = directory / "bundle.pem"
    bundle.write_bytes(good.ca_path.read_bytes() + cert_pem(ca.cert))
    wrong = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    wrong.load_cert_chain(directory / "wrong.pem", directory / "wrong.key")
    mtls = good.server_context()
    mtls.verify_mode = ssl.CERT_REQUIRED
    mtls.load_verify_locations(other.ca_path)
    return bundle, Peer(good.server_context(), other.server_context(), wrong, mtls, threading.Event())


class Server:
    """Accepts on 127.0.0.1 and runs one behaviour per connection, each in its own thread."""

    def __init__(self, behaviour: Behaviour, peer: Peer) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.sock.getsockname()[1]
        self.behaviour, self.peer = behaviour, peer
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ValueError), conn:
            conn.settimeout(30)
            self.behaviour(conn, self.peer)

    def close(self) -> None:
        self.sock.close()


def _tls(conn: socket.socket, peer: Peer) -> ssl.SSLSocket:
    return peer.trusted.wrap_socket(conn, server_side=True)


def _request(conn: socket.socket) -> None:
    """Read one request's head and its Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("client gone")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        rest += chunk


def _hold(conn: socket.socket, peer: Peer) -> None:
    """Keep the connection open, saying nothing, until the client hangs up."""
    conn.settimeout(0.2)
    while not peer.stop.is_set():
        try:
            if not conn.recv(4096):
                return
        except TimeoutError:
            continue


def _rst(conn: socket.socket) -> None:
    """Close with a TCP reset (SO_LINGER 0), not a FIN."""
    raw = conn
    if isinstance(conn, ssl.SSLSocket):
        raw = socket.socket(fileno=conn.detach())
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()


def answer(raw: bytes) -> Behaviour:
    """TLS, read the request, send ``raw`` as the whole answer, close."""

    def run(conn: socket.socket, peer: Peer) -> None:
        with _tls(conn, peer) as tls:
            _request(tls)
            tls.sendall(raw)

    return run


def banner(raw: bytes) -> Behaviour:
    """Plain TCP: speak first, as SSH or SMTP do, then wait."""

    def run(conn: socket.socket, peer: Peer) -> None:
        conn.sendall(raw)
        _hold(conn, peer)

    return run


def plain_http(conn: socket.socket, peer: Peer) -> None:
    """A plain-HTTP server on the port the client expects TLS on."""
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def huge(conn: socket.socket, peer: Peer) -> None:
    body = b"x" * (3 << 20)
    with _tls(conn, peer) as tls:
        _request(tls)
        tls.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body)


def chunked_forever(pause: float) -> Behaviour:
    """A chunked body that never ends: fast (the size cap stops it) or slow (the deadline does)."""

    def run(conn: socket.socket, peer: Peer) -> None:
        with _tls(conn, peer) as tls:
            _request(tls)
            tls.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"x" * 16384
            while not peer.stop.is_set():
                tls.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                if pause:
                    time.sleep(pause)

    return run


def trickle(conn: socket.socket, peer: Peer) -> None:
    """One byte a second, for ever: the per-read timeout never fires."""
    with _tls(conn, peer) as tls:
        _request(tls)
        for byte in (b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"z" * 10000):
            if peer.stop.is_set():
                return
            tls.sendall(bytes([byte]))
            time.sleep(1.0)


def reset_at_accept(conn: socket.socket, peer: Peer) -> None:
    _rst(conn)


def reset_after_tls(conn: socket.socket, peer: Peer) -> None:
    tls = _tls(conn, peer)
    _request(tls)
    _rst(tls)


def reset_after_headers(conn: socket.socket, peer: Peer) -> None:
    tls = _tls(conn, peer)
    _request(tls)
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a")
    time.sleep(0.05)
    _rst(tls)


def hang_at_accept(conn: socket.socket, peer: Peer) -> None:
    _hold(conn, peer)


def hang_after_tls(conn: socket.socket, peer: Peer) -> None:
    with _tls(conn, peer) as tls:
        _request(tls)
        _hold(tls, peer)


def hang_after_headers(conn: socket.socket, peer: Peer) -> None:
    with _tls(conn, peer) as tls:
        _request(tls)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
        _hold(tls, peer)


def bad_tls(pick: Callable[[Peer], ssl.SSLContext]) -> Behaviour:
    """Complete (or fail) a handshake with a certificate or demand the client cannot meet."""

    def run(conn: socket.socket, peer: Peer) -> None:
        with pick(peer).wrap_socket(conn, server_side=True) as tls:
            _request(tls)

    return run


def garbage_handshake(conn: socket.socket, peer: Peer) -> None:
    """Bytes that look like a TLS record header but are not one."""
    conn.recv(4096)
    conn.sendall(b"\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff" + b"\x00" * 64)
    _hold(conn, peer)


def proxy(reply: bytes | None) -> Behaviour:
    """A CONNECT proxy that reads the CONNECT and answers ``reply`` (None: nothing, ever)."""

    def run(conn: socket.socket, peer: Peer) -> None:
        _request(conn)
        if reply is None:
            _hold(conn, peer)
            return
        conn.sendall(reply)
        _hold(conn, peer)

    return run
