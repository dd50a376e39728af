"""TLS for the listeners: the server's certificate, reloadable, and client fingerprints.

Owns how a certificate and key become an `ssl.SSLContext` (TLS 1.2 and newer), the
holder that new connections take their context from (so a reload swaps it without
touching a connection already open), the record layer of one connection over memory
buffers, and the fingerprint of a client certificate. The connection drives the layer
itself rather than the loop's start_tls: the handshake is then part of the connection
(admission, the registration timeout, the reason it ended) and no byte of the
ClientHello can slip past it. Knows nothing of IRC. Must not import the hub or the
sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import ssl


class TlsError(Exception):
    """The certificate, key or client CA cannot be used; the message says which and why."""


def load_context(cert: str, key: str, client_ca: str = "") -> ssl.SSLContext:
    """A server context for `cert` and `key`; raises TlsError with one clear sentence.

    With `client_ca`, a client certificate signed by one of its CAs is asked for but not
    required: the standard library has no verification callback, so a certificate that
    does not chain to `client_ca` fails the handshake instead of being accepted blindly.
    """
    for path in filter(None, (cert, key, client_ca)):
        # OpenSSL's own error would not say which file it could not open.
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            raise TlsError(f"cannot read {path}: {exc.strerror}") from None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except OSError as exc:
        # OpenSSL says "key values mismatch" or "PEM lib"; name both files either way.
        detail = getattr(exc, "reason", None) or exc.strerror or str(exc)
        raise TlsError(
            f"certificate {cert} and key {key} cannot be used together: {detail}"
        ) from None
    if client_ca:
        try:
            ctx.load_verify_locations(cafile=client_ca)
        except (OSError, ssl.SSLError) as exc:
            detail = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
            raise TlsError(f"cannot use client CA file {client_ca}: {detail}") from None
        ctx.verify_mode = ssl.CERT_OPTIONAL
    return ctx


class Certificates:
    """The context new TLS connections use; `reload` replaces it, or keeps it and raises."""

    __slots__ = ("cert", "client_ca", "context", "key")

    def __init__(self, cert: str, key: str, client_ca: str = "") -> None:
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self.context = load_context(cert, key, client_ca)

    def reload(self, cert: str, key: str, client_ca: str = "") -> None:
        """Read the files again (certbot renews them in place); TlsError keeps the old ones.

        Connections already open keep the context they were made with.
        """
        context = load_context(cert, key, client_ca)
        self.cert, self.key, self.client_ca = cert, key, client_ca
        self.context = context


class TlsLayer:
    """One server-side TLS session over memory buffers: ciphertext in, plaintext out.

    Raises ssl.SSLError for what the client got wrong (not TLS, a failed handshake, a
    bad record); the caller sends `output()` first, so the client gets the alert.
    """

    __slots__ = ("_incoming", "_object", "_outgoing", "established", "peer_closed")

    def __init__(self, context: ssl.SSLContext) -> None:
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._object = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.established = False
        # The client sent close_notify: what follows is its end of the connection.
        self.peer_closed = False

    def receive(self, data: bytes) -> bytes:
        """Take ciphertext; return the plaintext it completes (b"" during the handshake)."""
        self._incoming.write(data)
        if not self.established:
            try:
                self._object.do_handshake()
            except ssl.SSLWantReadError:
                return b""
            self.established = True
        chunks: list[bytes] = []
        while True:
            try:
                chunk = self._object.read(65536)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                self.peer_closed = True
                break
            if not chunk:
                # What read() returns once the client's close_notify has come.
                self.peer_closed = True
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def send(self, data: bytes) -> None:
        """Encrypt plaintext; the records wait in `output()`."""
        self._object.write(data)

    def output(self) -> bytes:
        """Ciphertext to write to the socket: records, alerts, handshake messages."""
        return self._outgoing.read()

    def close(self) -> None:
        """Queue close_notify, so that the client knows the goodbye was not cut short."""
        # unwrap() then wants the peer's close_notify, which is not waited for.
        with contextlib.suppress(ssl.SSLError):
            self._object.unwrap()

    def certfp(self) -> str:
        """SHA-256 of the client's certificate (DER) in lowercase hex; empty without one."""
        der = self._object.getpeercert(binary_form=True)
        return hashlib.sha256(der).hexdigest() if der else ""
