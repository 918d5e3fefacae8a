"""Personal access tokens: create (the secret shown once), find by secret, revoke.

A token reads ``lia_<prefix>_<secret>``: ``prefix`` (8 hex characters) is stored in clear to find
the row and to show the token in lists; only the SHA-256 of the whole token is stored. The secret
has 256 bits of entropy, so a fast hash is enough (nothing to brute-force) and the check is one
indexed lookup plus a constant-time comparison.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from ..models import AuditEntry, Station, User, db, utcnow
from .models import ApiToken, TokenAccess

TOKEN_PREFIX = "lia_"
# How long a token may live, in days: the profile form offers these.
LIFETIMES = (7, 30, 90, 365)
# ``last_used_at`` is written at most this often per token (not one UPDATE per request).
LAST_USED_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, name: str, *, access: str, days: int, station: Station | None,
                 actor: User | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user`` and its secret (shown once, never stored). Commits, audited."""
    if access not in TokenAccess.ALL:
        raise ValueError(access)
    while True:
        prefix = secrets.token_hex(4)
        if db.session.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is None:
            break
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    token = ApiToken(user_id=user.id, name=name.strip(), prefix=prefix, secret_hash=hash_token(secret),
                     access=access, expires_at=now + timedelta(days=days),
                     station_id=station.id if station is not None else None, created_at=now)
    db.session.add(token)
    db.session.flush()
    _audit(actor or user, "api_token.create", token, access=access, days=days)
    db.session.commit()
    return token, secret


def revoke(token: ApiToken, actor: User) -> bool:
    """Revoke ``token`` (False if it already was). Commits, audited."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_by_id = actor.id
    _audit(actor, "api_token.revoke", token)
    db.session.commit()
    return True


def _audit(actor: User, action: str, token: ApiToken, **details) -> None:
    db.session.add(AuditEntry(actor_id=actor.id, action=action, object_type="api_token", object_id=token.id,
                              station_id=token.station_id,
                              details={"name": token.name, "prefix": token.prefix, "user_id": token.user_id,
                                       **details}))


def find(secret: str | None) -> ApiToken | None:
    """The token whose secret is ``secret`` (revoked and expired ones too: the caller decides)."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    prefix, sep, _rest = secret[len(TOKEN_PREFIX):].partition("_")
    if not sep or len(prefix) != 8:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token(secret)):
        return None
    return token


def touch(token: ApiToken, now: datetime | None = None) -> None:
    """Record the use (at most once a minute per token); commits."""
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        from ..database import prepare_write

        prepare_write()  # most API calls are GETs
        token.last_used_at = now
        db.session.commit()


def tokens_of(user: User) -> list[ApiToken]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .options(selectinload(ApiToken.station))
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))
