from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import TimestampMixin, db, keep_sort_key
from .choices import HostKind, StationStatus
from .user import region_admin, station_membership

if TYPE_CHECKING:
    from .user import User


class Region(TimestampMixin, db.Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_zh: Mapped[str | None] = mapped_column(String(120))

    stations: Mapped[list[Station]] = relationship(back_populates="region", lazy="raise")
    admins: Mapped[list[User]] = relationship(
        secondary=region_admin, back_populates="regions", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Station(TimestampMixin, db.Model):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(160))
    sort_key: Mapped[str] = mapped_column(String(400), default="", index=True)  # see Contact.sort_key
    country: Mapped[str] = mapped_column(String(2), index=True)  # ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    host_organisation: Mapped[str] = mapped_column(String(200))
    host_kind: Mapped[str] = mapped_column(String(30), default=HostKind.OTHER)
    established_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=StationStatus.ACTIVE, index=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    # May the station's volunteers export its contacts and leads? (``liaison.exports``)
    volunteers_may_export: Mapped[bool] = mapped_column(default=True, server_default=true())

    region: Mapped[Region] = relationship(back_populates="stations", lazy="raise")
    members: Mapped[list[User]] = relationship(
        secondary=station_membership, back_populates="stations", lazy="raise", order_by="User.name"
    )

    def __repr__(self) -> str:
        return f"<Station {self.name}>"

    @property
    def is_active(self) -> bool:
        return self.status == StationStatus.ACTIVE

    @property
    def is_closed(self) -> bool:
        return self.status == StationStatus.CLOSED


keep_sort_key(Station)
