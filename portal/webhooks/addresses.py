"""Where a webhook may be sent: http or https, the URL's own host and port, and never the
portal itself (BASE_URL's host:port, or an address that host resolves to on that port).

Loopback in general stays allowed (a receiver on the same machine, and the tests' own); the
rule only keeps a webhook from making the portal call its own pages.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from portal.core.errors import ValidationError

URL_MAX = 500
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string


def parse_target(url: str) -> Target:
    """The URL split for sending; ValidationError (field "url") when it is not usable."""
    text = (url or "").strip()
    if not text:
        raise ValidationError("Informe o endereço (URL) do webhook.", "url")
    if len(text) > URL_MAX:
        raise ValidationError(f"O endereço pode ter até {URL_MAX} caracteres.", "url")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError("Endereço inválido.", "url") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValidationError("Use um endereço http:// ou https://.", "url")
    if not parts.hostname:
        raise ValidationError("Informe o servidor no endereço.", "url")
    if parts.username or parts.password:
        raise ValidationError("O endereço não pode conter usuário ou senha.", "url")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme], path)


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host` (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _portal(base_url: str) -> Target | None:
    try:
        return parse_target(base_url)
    except ValidationError:
        return None


SELF_MESSAGE = (
    "Este endereço é o do próprio portal; use o endereço do sistema que recebe os avisos."
)


def check_not_portal(target: Target, base_url: str, addresses: list[str] | None = None) -> None:
    """Refuse the portal's own host:port, by name or by address."""
    portal = _portal(base_url)
    if portal is None or portal.port != target.port:
        return
    if portal.host == target.host:
        raise ValidationError(SELF_MESSAGE, "url")
    mine = set(resolve(portal.host, portal.port))
    theirs = addresses if addresses is not None else resolve(target.host, target.port)
    if mine & set(theirs):
        raise ValidationError(SELF_MESSAGE, "url")
