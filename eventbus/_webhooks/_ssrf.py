"""The SSRF guard: webhook destinations must not reach into the sender's own network.

A destination's host is resolved and every address it resolves to is checked: loopback,
private (RFC 1918, unique-local), link-local (cloud metadata services live there), shared,
multicast, reserved and unspecified addresses are refused unless a network in ``allow``
(CIDR strings such as ``"127.0.0.0/8"``) contains them. The check runs when an endpoint is
added and before every request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from eventbus._errors import ConfigurationError, WebhookError
from eventbus._redact import redact_url

__all__ = ["DestinationGuard", "DestinationRefusedError"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationRefusedError(WebhookError):
    """A webhook URL resolves to an address the SSRF guard refuses (or does not resolve)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = redact_url(url)
        self.reason = reason
        super().__init__(f"refusing webhook destination {self.url!r}: {reason}")


_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _kind(address: IPAddress) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (RFC 6598)", address in _SHARED),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


class DestinationGuard:
    """Refuses private destinations unless ``allow`` lists their network."""

    def __init__(self, allow: Sequence[str] = ()) -> None:
        networks: list[IPNetwork] = []
        for item in allow:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError as exc:
                raise ConfigurationError(f"SSRF allow-list entry {item!r}: {exc}") from None
        self.allow: tuple[IPNetwork, ...] = tuple(networks)

    def __repr__(self) -> str:
        return f"DestinationGuard(allow={[str(n) for n in self.allow]!r})"

    def refusal(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused, or None when it may be reached."""
        if any(address in net for net in self.allow):
            return None
        kind = _kind(address)
        return None if kind is None else f"{address} is a {kind} address (not allow-listed)"

    async def check(self, url: str) -> None:
        """Resolve ``url``'s host; raise DestinationRefusedError if any address is refused."""
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme == "mailto":
            return
        if not host:
            raise DestinationRefusedError(url, "no host")
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, parts.port or 443, type=socket.SOCK_STREAM
                )
            except OSError as exc:
                raise DestinationRefusedError(url, f"host does not resolve: {exc}") from None
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                raise DestinationRefusedError(url, reason)
