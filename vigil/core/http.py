from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, with PROXY_COUNT trusted proxies in front of us.

    IPv6 clients are counted per /64, the block a single home or phone usually gets.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    address = remote
    if settings.PROXY_COUNT:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            address = hops[-min(settings.PROXY_COUNT, len(hops))]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        # Never let an arbitrary header value pick its own rate-limit bucket.
        try:
            parsed = ipaddress.ip_address(remote)
        except ValueError:
            return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
