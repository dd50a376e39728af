"""TLS for the listeners: the server's certificate, reloadable, and client fingerprints.

Owns how a certificate and key become an `ssl.SSLContext` (TLS 1.2 and newer), the
holder that new connections take their context from (so a reload swaps it without
touching a connection already open), and the fingerprint of a client certificate.
Knows nothing of IRC. Must not import the hub or the sessions.
"""

from __future__ import annotations

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
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TlsError(f"cannot read {exc.filename}: {exc.strerror}") from None
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


def certfp(transport_ssl: ssl.SSLObject | None) -> str:
    """SHA-256 of the client's certificate (DER) in lowercase hex; empty without one."""
    if transport_ssl is None:
        return ""
    der = transport_ssl.getpeercert(binary_form=True)
    return hashlib.sha256(der).hexdigest() if der else ""
