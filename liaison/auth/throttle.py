"""Login throttling: FAILED log-ins are counted per account and per client address.

Successful log-ins do not count, so a station office or an event's Wi-Fi behind one address is
not locked out by its own colleagues. An account whose failure limit is reached is refused —
even with the correct password — until the oldest failure leaves the moving window; the
address limit (higher) stops one machine from guessing across many accounts.

The counters live in the rate limiter's storage, ``RATELIMIT_STORAGE_URI``: memory for
``make run`` and the tests, Redis (shared by every worker) in production. Accounts are keyed
by a hash of the normalised address typed, whether or not it has an account, so the throttle
does not tell which addresses exist. ``RATELIMIT_ENABLED = False`` turns it off, with
Flask-Limiter's limits.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

EXTENSION = "liaison.login_throttle"
NAMESPACE = "liaison-login-failures"


def _account_key(email: str) -> str:
    return hashlib.sha256(email.encode("utf-8")).hexdigest()[:40]


@dataclass
class LoginThrottle:
    strategy: MovingWindowRateLimiter
    per_account: list[RateLimitItem]
    per_address: list[RateLimitItem]
    prefix: str = ""

    def _scopes(self, email: str, address: str) -> list[tuple[RateLimitItem, tuple[str, ...]]]:
        account = (NAMESPACE, self.prefix, "account", _account_key(email))
        remote = (NAMESPACE, self.prefix, "address", address or "unknown")
        return [(item, account) for item in self.per_account] + [(item, remote) for item in self.per_address]

    def wait_seconds(self, email: str, address: str) -> int:
        """0 when a log-in may be tried; else the seconds until it may."""
        wait = 0.0
        now = time.time()
        for item, identifiers in self._scopes(email, address):
            if not self.strategy.test(item, *identifiers):
                reset_at, _remaining = self.strategy.get_window_stats(item, *identifiers)
                wait = max(wait, reset_at - now, 1)
        return math.ceil(wait)

    def failed(self, email: str, address: str) -> None:
        for item, identifiers in self._scopes(email, address):
            self.strategy.hit(item, *identifiers)

    def succeeded(self, email: str, address: str) -> None:
        """The account's failures are forgiven; the address's are not (one known password must
        not reset the counter of a machine guessing at other accounts)."""
        for item, identifiers in self._scopes(email, address)[:len(self.per_account)]:
            self.strategy.clear(item, *identifiers)


def init_app(app: Flask) -> None:
    if not app.config.get("RATELIMIT_ENABLED", True):
        app.extensions[EXTENSION] = None
        return
    storage = storage_from_string(app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
                                  **app.config.get("RATELIMIT_STORAGE_OPTIONS", {}))
    app.extensions[EXTENSION] = LoginThrottle(
        strategy=MovingWindowRateLimiter(storage),
        per_account=parse_many(app.config["LOGIN_FAILURES_PER_ACCOUNT"]),
        per_address=parse_many(app.config["LOGIN_FAILURES_PER_ADDRESS"]),
        prefix=app.config.get("RATELIMIT_KEY_PREFIX") or "",
    )


def _throttle() -> LoginThrottle | None:
    return current_app.extensions.get(EXTENSION)


def _guarded(action, default):
    """A storage outage (Redis down) is logged and lets log-ins through rather than lock out
    everyone or answer 500; the password check itself is unaffected."""
    try:
        return action()
    except Exception:
        log.exception("login throttle storage failed")
        return default


def wait_seconds(email: str) -> int:
    throttle = _throttle()
    if throttle is None:
        return 0
    return _guarded(lambda: throttle.wait_seconds(email, get_remote_address()), 0)


def record_failure(email: str) -> None:
    throttle = _throttle()
    if throttle is not None:
        _guarded(lambda: throttle.failed(email, get_remote_address()), None)


def record_success(email: str) -> None:
    throttle = _throttle()
    if throttle is not None:
        _guarded(lambda: throttle.succeeded(email, get_remote_address()), None)
