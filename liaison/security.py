"""HTTP security: response headers and safe redirects.

The CSP allows scripts and styles from this origin only — templates carry no inline script,
no inline event handler and no style attribute, so none is needed.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, url_for

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


def init_app(app: Flask) -> None:
    app.after_request(set_security_headers)
    if app.config["ENV_NAME"] == "production":
        app.after_request(_strict_transport)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _strict_transport(response: Response) -> Response:
    response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "text/html":
        # Pages show personal data: keep them out of shared caches and the back-button cache.
        headers.setdefault("Cache-Control", "no-store")
    return response


def is_safe_local_path(target: str | None) -> bool:
    """True for a path on this site (``/leads/3``); false for ``//evil``, ``\\\\evil``,
    ``https://evil``, ``/\\evil`` and anything with a scheme or host."""
    if not target or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target:
        return False
    if any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default_endpoint: str = "main.home") -> str:
    return target if is_safe_local_path(target) else url_for(default_endpoint)
