"""HAL links as the broker hands them out, made safe to follow from where pactbot stands."""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def reroot(href: str, base_url: str, broker_root: str | None = None) -> str:
    """Point `href` at the configured `base_url`.

    A broker behind a proxy builds its links from its own idea of its address (often an internal
    host), and one link (`pb:matrix` in `/integrations`) is relative. `broker_root` is the
    broker's own address, read from the index's `self` link.
    """
    if href.startswith("/"):
        return base_url + href
    if broker_root and _under(href, broker_root):
        return base_url + href[len(broker_root.rstrip("/")) :]
    link, base = urlsplit(href), urlsplit(base_url)
    if (link.scheme, link.netloc) == (base.scheme, base.netloc):
        return href
    path = link.path
    if base.path and _under(path, base.path):
        path = path[len(base.path.rstrip("/")) :]
    if path and not path.startswith("/"):
        # `webhooks/x` or `.example.org/x` glued onto the base URL would name another port or
        # host, and the credentials would go there.
        path = "/" + path
    return base_url + path + (f"?{link.query}" if link.query else "")


def _under(href: str, root: str) -> bool:
    root = root.rstrip("/")
    return href == root or href.startswith((root + "/", root + "?"))


def expand(href: str, **values: str) -> str:
    """Fill `{name}` placeholders with URL-encoded values (`Pricing Service` → `Pricing%20Service`).

    The broker's `templated` flag is not trusted: some templated links say `templated: false`.
    """
    for name, value in values.items():
        href = href.replace("{" + name + "}", quote(value, safe=""))
    return href


def last_segment(href: str) -> str:
    """The id at the end of a link such as `.../webhooks/kJE42wcSbKwfb0QJ3V9sBg`."""
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
