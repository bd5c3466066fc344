"""The client's real address, for the audit trail, the login lock-out and the API tokens.

``REMOTE_ADDR`` is the peer that opened the connection. Only when that peer is one of
``TRUSTED_PROXIES`` (addresses or networks, e.g. the TLS proxy of docker-compose) is its
``X-Forwarded-For`` read: from the right, each trusted proxy's entry is skipped, and the first
address that is not a trusted proxy is the client. What a client writes in that header itself is
to the left of that, and never believed; a header from an untrusted peer is ignored altogether.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple) -> tuple:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _address(text):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def is_trusted_proxy(address) -> bool:
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    return address is not None and any(address in network for network in networks)


def client_ip(request) -> str | None:
    """The address of the client behind ``request`` (None if the peer's address is unknown)."""
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    if not is_trusted_proxy(peer):
        return str(peer)
    client = peer
    for hop in reversed((request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: what lies further left is the client's word
        client = address
        if not is_trusted_proxy(address):
            break
    return str(client)
