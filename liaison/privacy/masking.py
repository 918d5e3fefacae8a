"""Who sees a contact's personal fields, masked or not — one layer for pages, lists and exports.

* ``sees_unmasked(user, contact)``: the role's rule (``PRIVACY_UNMASKED``): by default a
  station's volunteers and its region's admins see their contacts' fields; HQ reviewers and
  admins see them masked (``w***@example.org``, ``+39 *** *** 1234``).
* A masked viewer may **reveal** a contact's fields, giving a reason (``RevealGrant``, valid for
  ``PRIVACY_REVEAL_MINUTES``); the reveal is written to the access log.
* ``Masker`` (one per request and user, ``masker()``) answers what a page shows: ``value(contact,
  field)`` → ``Shown``; ``prefetch(contacts)`` loads a page's reveals in one query; ``proxy``
  wraps a contact for the spreadsheet exports (and records which personal fields left in clear).
* An erased contact (``erased_at`` set) shows "Erased person" and nothing personal.
* ``log_access`` writes the access log: every reveal, every full view of a record in clear,
  every export, every subject report and erasure.

The masked fields are ``PRIVACY_MASKED_FIELDS`` (default: e-mail, phone, messaging handle, the
name in the original script, notes); names, organisation, position, field and place stay visible:
HQ needs them to review a lead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable

from flask import current_app, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from ..models import AccessAction, AccessLogEntry, AccessLogField, Contact, RevealGrant, Station, User, db, utcnow
from ..scope import admin_region_ids, member_station_ids

CONTACTS = "contacts"
ERASED_LABEL = _l("Erased person")

# Rules of ``PRIVACY_UNMASKED``.
ALL, OWN_REGIONS, OWN_STATIONS, NONE = "all", "own_regions", "own_stations", "none"
RULES = (ALL, OWN_REGIONS, OWN_STATIONS, NONE)


# Masking of single values --------------------------------------------------------------------

def mask_email(value: str | None) -> str:
    """``wang@example.org`` → ``w***@example.org`` (the domain stays: it says where, not who)."""
    if not value:
        return ""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str | None) -> str:
    """``+393331231234`` → ``+39 *** *** 1234``: the country code and the last four digits."""
    if not value:
        return ""
    import phonenumbers

    digits = re.sub(r"\D", "", value)
    tail = digits[-4:] if len(digits) >= 8 else ""
    prefix = ""
    if value.strip().startswith("+"):
        try:
            prefix = f"+{phonenumbers.parse(value, None).country_code} "
        except phonenumbers.NumberParseException:
            prefix = ""
    return f"{prefix}*** ***" + (f" {tail}" if tail else "")


def mask_text(value: str | None) -> str:
    """A handle or a name: its first character and ``***``."""
    value = (value or "").strip()
    return f"{value[:1]}***" if value else ""


def mask_hidden(value: str | None) -> str:
    """Free text (notes): nothing of it."""
    return "***" if (value or "").strip() else ""


MASKERS = {"email": mask_email, "phone": mask_phone, "notes": mask_hidden}


def mask(field: str, value: Any) -> str:
    """The masked form of a contact's ``field``."""
    if value is None or value == "":
        return ""
    return MASKERS.get(field, mask_text)(str(value))


def masked_fields() -> tuple[str, ...]:
    """The contact columns masked for viewers who may not see them (``PRIVACY_MASKED_FIELDS``)."""
    return tuple(current_app.config.get("PRIVACY_MASKED_FIELDS") or ())


def field_names(columns: Iterable[str], table: str = CONTACTS) -> list[str]:
    """``["email"]`` → ``["contacts.email"]``, sorted and unique (names with a dot stay)."""
    return sorted({column if "." in column else f"{table}.{column}" for column in columns})


# Who sees what -------------------------------------------------------------------------------

def rule_of(user: User) -> str:
    rule = (current_app.config.get("PRIVACY_UNMASKED") or {}).get(str(user.role), NONE)
    return rule if rule in RULES else NONE


def sees_unmasked(user: User, contact: Contact) -> bool:
    """Does the role's rule (``PRIVACY_UNMASKED``) show ``contact``'s personal fields to ``user``
    without a reveal? Never for an erased contact: there is nothing left to show."""
    if contact is None or contact.erased_at is not None or not getattr(user, "is_authenticated", False):
        return False
    rule = rule_of(user)
    if rule == ALL:
        return True
    if rule == OWN_STATIONS:
        return contact.station_id in member_station_ids(user)
    if rule == OWN_REGIONS:
        return contact.station_id in region_station_ids(user)
    return False


def region_station_ids(user: User) -> frozenset[int]:
    """Ids of the stations in the regions ``user`` administers (cached for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cache = g.setdefault("_privacy_region_stations", {})
    if user.id not in cache:
        regions = admin_region_ids(user)
        cache[user.id] = frozenset(db.session.scalars(
            select(Station.id).where(Station.region_id.in_(regions)))) if regions else frozenset()
    return cache[user.id]


@dataclass(frozen=True)
class Shown:
    """What a page shows of one field: ``text`` (masked or in clear, "" when empty)."""

    text: str
    masked: bool = False
    erased: bool = False

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text) or self.erased

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.text))


class Masker:
    """What one user sees of contacts during one request: the role's rule and their reveals."""

    def __init__(self, user: User, now: datetime | None = None):
        self.user = user
        self.now = now or utcnow()
        self._reveals: dict[int, datetime] = {}
        self._loaded: set[int] = set()
        self.fields = masked_fields()

    # Reveals --------------------------------------------------------------------------------
    def prefetch(self, contacts: Iterable[Contact | None]) -> None:
        """Load the user's valid reveals of ``contacts`` — one query for a whole page."""
        wanted = {c.id for c in contacts if c is not None and c.id not in self._loaded
                  and c.erased_at is None and not sees_unmasked(self.user, c)}
        if not wanted or not getattr(self.user, "is_authenticated", False):
            self._loaded |= wanted
            return
        rows = db.session.execute(
            select(RevealGrant.contact_id, func.max(RevealGrant.expires_at))
            .where(RevealGrant.user_id == self.user.id, RevealGrant.contact_id.in_(wanted),
                   RevealGrant.expires_at > self.now)
            .group_by(RevealGrant.contact_id)
        )
        self._reveals.update({contact_id: expires for contact_id, expires in rows})
        self._loaded |= wanted

    def revealed_until(self, contact: Contact) -> datetime | None:
        """Until when the user's reveal of ``contact`` runs (``None``: not revealed)."""
        if contact.id not in self._loaded:
            self.prefetch([contact])
        return self._reveals.get(contact.id)

    def forget(self, contact: Contact) -> None:
        """Reload the reveals of ``contact`` next time (after a new reveal)."""
        self._loaded.discard(contact.id)
        self._reveals.pop(contact.id, None)

    # What is shown --------------------------------------------------------------------------
    def by_rule(self, contact: Contact) -> bool:
        return sees_unmasked(self.user, contact)

    def unmasked(self, contact: Contact) -> bool:
        """The user sees ``contact``'s personal fields in clear (by the rule or a reveal)."""
        if contact is None or contact.erased_at is not None:
            return False
        return self.by_rule(contact) or self.revealed_until(contact) is not None

    def is_masked(self, field: str) -> bool:
        return field in self.fields

    def value(self, contact: Contact, field: str) -> Shown:
        """What the user sees of ``contact.<field>``."""
        if contact.erased_at is not None:
            return Shown("", erased=True)
        raw = getattr(contact, field)
        if raw is None or raw == "":
            return Shown("")
        if field in self.fields and not self.unmasked(contact):
            return Shown(mask(field, raw), masked=True)
        if field == "phone":
            from ..i18n import phone_display

            return Shown(phone_display(raw))
        return Shown(str(raw))

    def hidden_fields(self, contact: Contact) -> list[str]:
        """The masked fields of ``contact`` that have a value and that the user sees masked."""
        if contact.erased_at is not None or self.unmasked(contact):
            return []
        return [field for field in self.fields if getattr(contact, field, None) not in (None, "")]

    def shown_fields(self, contact: Contact) -> list[str]:
        """The masked-by-default fields with a value that the user sees in clear."""
        if not self.unmasked(contact):
            return []
        return [field for field in self.fields if getattr(contact, field, None) not in (None, "")]

    def proxy(self, contact: Contact, seen: set[str] | None = None) -> MaskedContact:
        return MaskedContact(contact, self, seen)


class MaskedContact:
    """A contact as the user may see it: the masked fields give their masked values (an erased
    contact nothing personal); everything else is the contact's. The personal fields read in
    clear are collected in ``seen`` (``table.column`` names), for the access log."""

    def __init__(self, contact: Contact, masker: Masker, seen: set[str] | None = None):
        object.__setattr__(self, "_contact", contact)
        object.__setattr__(self, "_masker", masker)
        object.__setattr__(self, "_seen", seen if seen is not None else set())

    def __getattr__(self, name: str) -> Any:
        contact, masker, seen = self._contact, self._masker, self._seen
        value = getattr(contact, name)
        if name.startswith("_") or callable(value):
            return value
        from .classification import is_personal

        personal = is_personal(f"{CONTACTS}.{name}")
        if contact.erased_at is not None and personal and name not in ("name", "sort_key"):
            return None
        if name in masker.fields and value not in (None, ""):
            if not masker.unmasked(contact):
                return mask(name, value)
        if personal and value not in (None, ""):
            seen.add(f"{CONTACTS}.{name}")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a masked contact is read-only")


class TrackedRecord:
    """A record read for an export: reads of its personal columns (``classification``) are
    collected in ``seen``; its ``contact`` is a ``MaskedContact``."""

    def __init__(self, record: Any, table: str, masker: Masker, seen: set[str]):
        object.__setattr__(self, "_record", record)
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_masker", masker)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._record, name)
        if name == "contact" and isinstance(value, Contact):
            return self._masker.proxy(value, self._seen)
        if not name.startswith("_") and value not in (None, "") and not callable(value):
            from .classification import is_personal

            if is_personal(f"{self._table}.{name}"):
                self._seen.add(f"{self._table}.{name}")
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("an exported record is read-only")


def export_view(record: Any, masker: Masker, seen: set[str]) -> Any:
    """``record`` as an export may read it: a contact masked for the user, any other record with
    its contact masked; the personal fields read in clear land in ``seen``."""
    if isinstance(record, Contact):
        return masker.proxy(record, seen)
    table = getattr(record, "__tablename__", None)
    return TrackedRecord(record, table, masker, seen) if table else record


def masker(user: User | None = None) -> Masker:
    """The request's ``Masker`` for ``user`` (default: the current user)."""
    user = user if user is not None else current_user._get_current_object()
    maskers = g.setdefault("_privacy_maskers", {})
    key = getattr(user, "id", None)
    if key not in maskers:
        maskers[key] = Masker(user)
    return maskers[key]


def personal(contact: Contact, field: str) -> Shown:
    """Jinja global: ``personal(contact, "email")`` → ``Shown(text, masked, erased)``."""
    return masker().value(contact, field)


def person_name(contact: Contact) -> str:
    """Jinja global: the contact's name, or "Erased person #12" in the viewer's language."""
    if contact is None:
        return ""
    if contact.erased_at is not None:
        return f"{_('Erased person')} #{contact.id}"
    return contact.name


# Reveals and the access log ------------------------------------------------------------------

def reveal(user: User, contact: Contact, reason: str, note: str | None = None) -> RevealGrant:
    """Show ``contact``'s masked fields to ``user`` for ``PRIVACY_REVEAL_MINUTES``; logged as
    REVEAL with the fields revealed. The caller commits."""
    now = utcnow()
    minutes = int(current_app.config.get("PRIVACY_REVEAL_MINUTES") or 30)
    grant = RevealGrant(user_id=user.id, contact_id=contact.id, reason=str(reason), note=note or None,
                        created_at=now, expires_at=now + timedelta(minutes=minutes))
    db.session.add(grant)
    fields = [f for f in masked_fields() if getattr(contact, f, None) not in (None, "")]
    log_access(user, AccessAction.REVEAL, contact=contact, fields=field_names(fields), reason=reason, note=note)
    masker(user).forget(contact)
    return grant


def log_access(user: User | None, action: AccessAction | str, *, contact: Contact | None = None,
               station_id: int | None = None, fields: Iterable[str] = (), reason: str | None = None,
               note: str | None = None, count: int = 1) -> AccessLogEntry:
    """Write one access-log entry: who (``user``), whom (``contact``, or ``count`` records of
    ``station_id``), what (``action`` and the ``fields``, as ``table.column``; bare names are the
    contact's), why (``reason``, ``note``). Adds it to the session; the caller commits.

    Never pass the values themselves: the log says which fields, not what they held."""
    from ..database import prepare_write

    prepare_write()  # a page (GET) that logs what it showed
    if station_id is None and contact is not None:
        station_id = contact.station_id
    entry = AccessLogEntry(
        user_id=getattr(user, "id", None), contact_id=contact.id if contact is not None else None,
        station_id=station_id, action=str(AccessAction(action)), reason=str(reason) if reason else None,
        note=(note or None) and str(note)[:300], record_count=count, created_at=utcnow(),
    )
    entry.fields = [AccessLogField(field=name[:100]) for name in field_names(fields)]
    db.session.add(entry)
    return entry


def log_view(user: User, contact: Contact) -> AccessLogEntry | None:
    """Log VIEW when ``user`` sees ``contact``'s full record with personal fields in clear (the
    contact's page, its edit form). Nothing for a masked or erased record. The caller commits."""
    seen = masker(user)
    if not seen.unmasked(contact):
        return None
    return log_access(user, AccessAction.VIEW, contact=contact, fields=field_names(seen.shown_fields(contact)))
