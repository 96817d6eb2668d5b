"""Where a webhook may go: http(s) URLs to public addresses only, unless the install allows
loopback, private and link-local ones (``WEBHOOKS_ALLOW_PRIVATE_URLS``).

A URL is checked when it is saved (its form, a literal address) and again on every request
(every address its name resolves to); the request then goes to the address that was checked,
so a name that resolves elsewhere a moment later (DNS rebinding) is not followed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class UrlRefused(ValueError):
    """The URL may not be called: its message says why, for the owner."""


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _allow_private() -> bool:
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE_URLS)


def url_check(url: str) -> None:
    """Refuse (``UrlRefused``) a URL that is not http(s), has credentials in it, or names a
    loopback, private or link-local address or ``localhost``. Names are not resolved here."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as exc:
        raise UrlRefused(_("This is not a valid URL.")) from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlRefused(_("Give an http:// or https:// URL."))
    if parts.username or parts.password:
        raise UrlRefused(_("Leave user names and passwords out of the URL."))
    if _allow_private():
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise UrlRefused(_("Webhooks cannot be sent to this computer (localhost)."))
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not _public(address):
        raise UrlRefused(_("Webhooks can only be sent to public addresses, not %(address)s.")
                         % {"address": address})


def resolve(url: str) -> tuple[str, str, int, str]:
    """Check ``url`` and resolve its host: (scheme, host, port, address) where ``address`` is
    one it resolves to and every one it resolves to is allowed. Raises ``UrlRefused``."""
    url_check(url)
    parts = urlsplit(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UrlRefused(_("%(host)s could not be found.") % {"host": host}) from exc
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not _allow_private():
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise UrlRefused(_("%(host)s is at %(address)s, which is not a public address.")
                             % {"host": host, "address": refused[0]})
    return parts.scheme, host, port, str(addresses[0])
