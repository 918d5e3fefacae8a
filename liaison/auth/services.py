"""Accounts: authentication and password changes, shared by the views and the CLI."""
from __future__ import annotations

import hmac

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from ..models import AuditEntry, User, db, utcnow

_DUMMY_HASH: dict[str, str] = {}


def normalise_email(email: str | None) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None — taking as long either way, so that
    response times do not tell which e-mail addresses have accounts."""
    user = find_user_by_email(email)
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        dummy = _DUMMY_HASH.setdefault(method, generate_password_hash("dummy-password", method=method))
        from werkzeug.security import check_password_hash

        check_password_hash(dummy, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.commit()


def change_password(user: User, new_password: str, actor: User | None = None) -> None:
    """Set a new password; every session of the user ends (the session token changes). The view
    re-issues the session of a user who changed their own password."""
    user.set_password(new_password)
    user.must_change_password = actor is not None and actor.id != user.id
    db.session.add(AuditEntry(
        actor_id=(actor or user).id, action="user.password", object_type="user", object_id=user.id,
        details={"by_self": actor is None or actor.id == user.id},
    ))
    db.session.commit()


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session cookie issued so far stops working."""
    user.end_sessions()
    db.session.commit()


def load_user_from_session(session_id: str) -> User | None:
    """Flask-Login's loader: the id is ``<user id>:<session token>``."""
    user_id, _, token = (session_id or "").partition(":")
    if not (user_id.isascii() and user_id.isdigit() and len(user_id) <= 18 and token):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or not user.session_token:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


# Self-service password reset -----------------------------------------------------------------
# A reset link carries a signed, time-limited token bound to the account's current password hash
# and session token: changing the password (the link's own use), an admin's reset or logging out
# everywhere makes every earlier link useless.

RESET_SALT = "liaison-password-reset"


def _reset_serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _reset_fingerprint(user: User) -> str:
    import hashlib

    material = f"{user.id}:{user.password_hash}:{user.session_token}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), material, hashlib.sha256).hexdigest()[:32]


def reset_token(user: User) -> str:
    return _reset_serializer().dumps([user.id, _reset_fingerprint(user)])


def user_for_reset_token(token: str | None) -> User | None:
    """The active user a reset token was made for, if it is genuine, not expired and unused."""
    from itsdangerous import BadData

    if not token or len(token) > 500:
        return None
    try:
        user_id, fingerprint = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    if not hmac.compare_digest(_reset_fingerprint(user), fingerprint):
        return None
    return user


def request_password_reset(email: str) -> None:
    """Send a reset link to the account of ``email``, if there is an active one (from the job
    queue). Records the request for the admins either way it is sent; says nothing to the caller."""
    from .. import jobs

    jobs.run_after_response()  # inline mode: the mail goes after the answer, which is the same either way
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    db.session.add(AuditEntry(actor_id=None, action="user.password_reset_requested",
                              object_type="user", object_id=user.id, details={}))
    jobs.enqueue("auth.password_reset_mail", user_id=user.id)
    db.session.commit()


def reset_password(user: User, new_password: str) -> None:
    user.set_password(new_password)  # a new hash and session token: the link dies with them
    user.must_change_password = False
    db.session.add(AuditEntry(actor_id=user.id, action="user.password", object_type="user", object_id=user.id,
                              details={"by_self": True, "reset_link": True}))
    db.session.commit()
