"""Who is on the other end: the client's address, believing proxies only where told to.

`X-Forwarded-For` is written by whoever sends the request, so it is read only
when the socket peer is one of `SAAS_PANEL_TRUSTED_PROXIES` (CIDRs), and then
from the right, past every trusted hop. Throttles count IPv6 clients per /64,
since one host usually holds a whole /64.
"""

from __future__ import annotations

import ipaddress

from saas_panel.config import get_settings

IPV6_CLIENT_PREFIX = 64


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address, proxies) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def resolve(peer: str | None, forwarded_for: str | None = "") -> str:
    """The client's address for a request from socket `peer` carrying `forwarded_for`."""
    proxies = get_settings().trusted_proxies
    client = _address(peer or "")
    if client is None:
        return (peer or "")[:64]
    hops = [hop for hop in (forwarded_for or "").split(",") if hop.strip()]
    while hops and _trusted(client, proxies):
        hop = _address(hops.pop())
        if hop is None:  # a malformed entry: the last trusted proxy is all we know
            break
        client = hop
    return str(client)


def throttle_key(ip: str | None) -> str:
    """The unit an address is counted in: itself for IPv4, its /64 for IPv6."""
    address = _address(ip or "")
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address) if address else (ip or "")
