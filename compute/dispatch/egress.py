"""Where webhooks may connect: public addresses only, unless an operator allows a network.

The check runs on the addresses a host name resolves to at delivery time, and the POST
then goes to the checked address itself, so a name that resolves elsewhere a moment later
(DNS rebinding) gains nothing. Numeric spellings (`2130706433`, `0x7f.1`, `127.1`,
`[::ffff:127.0.0.1]`) resolve to the address they encode and are refused with it.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class EgressRefused(Exception):
    """A destination the policy does not allow; the message says which and why."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDR networks; ValueError with the bad one named."""
    nets = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"webhook_allow_networks: {part!r} is not a network") from None
    return tuple(nets)


def _embedded(ip: Address) -> Address:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def why_internal(ip: Address) -> str:
    """What kind of internal address `ip` is ('' for a public one)."""
    inner = _embedded(ip)
    for addr in {ip, inner}:
        if addr.is_loopback:
            return "a loopback address"
        if addr.is_link_local:
            return "a link-local address (where cloud metadata services answer)"
        if addr.is_unspecified:
            return "the unspecified address"
        if addr.is_multicast:
            return "a multicast address"
        if addr in _SHARED:
            return "a shared (carrier-grade NAT) address"
        if addr.is_private:
            return "a private address"
        if addr.is_reserved or not addr.is_global:
            return "a reserved address"
    return ""


class EgressPolicy:
    """Refuses internal destinations except in `allowed` networks."""

    def __init__(self, allowed: tuple[Network, ...] = ()) -> None:
        self.allowed = allowed

    def check_address(self, ip: Address, host: str) -> None:
        why = why_internal(ip)
        if why and not any(ip in net or _embedded(ip) in net for net in self.allowed):
            shown = host if host == str(ip) else f"{host} ({ip})"
            raise EgressRefused(
                f"refused to connect to {shown}: {why}; an operator can allow it with"
                " --webhook-allow-networks"
            )

    def resolve(self, host: str, port: int) -> list[Address]:
        """Every address of `host`, each checked; EgressRefused if any is internal."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise EgressRefused(f"cannot resolve {host}: {exc}") from None
        found: list[Address] = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
            self.check_address(ip, host)
            if ip not in found:
                found.append(ip)
        return found

    def check_literal(self, url: str) -> None:
        """At registration: refuses a URL whose host is an internal address in any
        spelling, or a name that always means this machine (DNS names are checked when
        delivering)."""
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        if host == "localhost" or host.endswith(".localhost"):
            self.check_address(ipaddress.ip_address("127.0.0.1"), host)
        try:
            infos = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
        except (socket.gaierror, UnicodeError):
            return  # a name, not a number
        for info in infos:
            self.check_address(ipaddress.ip_address(info[4][0].split("%", 1)[0]), host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(
    policy: EgressPolicy, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> int:
    """POSTs to `url` on a checked address, without following redirects; the status.
    EgressRefused for a refused destination, OSError for a network failure."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    address = policy.resolve(host, port)[0]
    conn = (_PinnedHTTPS if https else _PinnedHTTP)(host, port, address, timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=body, headers=headers)
        return conn.getresponse().status
    except http.client.HTTPException as exc:
        raise OSError(f"bad HTTP answer: {type(exc).__name__}") from None
    finally:
        conn.close()
