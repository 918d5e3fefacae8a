"""Personal access tokens and the stored answers of ``Idempotency-Key`` requests."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models.base import db, utcnow

if TYPE_CHECKING:
    from ..models import Station, User


class TokenAccess:
    """What a token may do: read only, or read and write (as its user may)."""

    READ = "read"
    WRITE = "write"
    ALL = (READ, WRITE)


class ApiToken(db.Model):
    """A personal access token: acts as its user, with the user's scope and permissions.

    Only a SHA-256 hash of the secret is stored (the secret is 256 random bits, so a slow hash adds
    nothing); ``prefix`` (the secret's first characters, shown in lists) finds the row."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("access IN ('read', 'write')", name="access"),
        Index("ix_api_tokens_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    access: Mapped[str] = mapped_column(String(10), default=TokenAccess.READ)
    expires_at: Mapped[datetime]
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="raise")
    station: Mapped[Station | None] = relationship(lazy="raise")

    @property
    def read_only(self) -> bool:
        return self.access != TokenAccess.WRITE

    def is_usable(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())


class ApiIdempotencyKey(db.Model):
    """The answer given to a creating request with an ``Idempotency-Key``: a repeat of the request
    (same token, same key) gets the same answer, and two at once create one record. A row without
    ``status_code`` is a request still being worked on."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
