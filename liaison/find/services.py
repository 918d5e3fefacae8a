"""The global search: a few results per kind, each in the user's scope, served by indexes.

* **Contacts**: names in any script, organisation and e-mail through the search index
  (``liaison.search.contact_ids_matching``: trigrams for three characters or more, name keys
  below); pinyin typed without spaces ("wangxiaoming", "wxm" → 王小明) and run-together names
  ("nguyenvanan") through the same name keys (``contact_search_keys``, whose keys include
  ``liaison.search.pinyin_keys``) by a prefix range on their index; a tag by its exact value
  (``ix_contact_tags_tag``).
* **Leads**: summary and field, their contact's names (``liaison.search.lead_condition``) and
  the same pinyin keys through the contact; ``#123``.
* **Stations**: a small table, ``contains``.
* **Plugin records**: the ``liaison_search_results(q, user)`` hook; each plugin scopes its own.

Every kind is one query with ``LIMIT`` (one row more than shown, to know whether there are
more) and the scope (``liaison.scope.scoped``) in the same statement; nothing counts all
matches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select, union
from sqlalchemy.orm import selectinload

from ..i18n import name_order
from ..models import Contact, ContactTag, Station, TalentLead, User, db
from ..models.contact import contact_search_keys as keys_table
from ..scope import scoped
from ..search import KEY_LENGTH, MAX_QUERY, _dialect, contact_ids_matching, contains, escape_like, fold, lead_condition

PER_KIND = 5
MAX_Q = 100  # characters of the query, as the lists' search fields


@dataclass
class Group:
    kind: str  # "contacts", "leads", "stations", or a plugin's kind
    title: Any
    items: list = field(default_factory=list)
    more: bool = False
    more_url: str | None = None


@dataclass
class Results:
    q: str
    groups: list[Group] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(group.items for group in self.groups)


def clean_query(q: str | None) -> str:
    """The query as searched: control characters removed, trimmed, at most ``MAX_Q`` characters."""
    text = "".join(c for c in (q or "") if c.isprintable() or c == " ")
    return text.strip()[:MAX_Q]


def _joined_key(q: str) -> str:
    """The query as a name key: folded, without spaces ("Wang Xiaoming" → "wangxiaoming")."""
    return "".join(fold(q).split())[:KEY_LENGTH]


def pinyin_contact_ids(q: str) -> Select | None:
    """Ids of contacts with a name key starting with the query run together (an index range)."""
    key = _joined_key(q)
    if len(key) < 2 or not key.isascii() or not key.isalnum():
        return None
    if _dialect() == "sqlite":
        condition = keys_table.c.key.between(key, key + "\U0010ffff")
    else:
        condition = keys_table.c.key.like(escape_like(key) + "%", escape="\\")  # text_pattern_ops
    return select(keys_table.c.contact_id).where(condition)


def contact_ids(q: str) -> Select | None:
    """Ids of contacts matching ``q`` by text, pinyin or run-together name, or tag."""
    parts = [s for s in (contact_ids_matching(q), pinyin_contact_ids(q)) if s is not None]
    tag = q.strip()[:100]
    if tag:
        parts.append(select(ContactTag.contact_id).where(ContactTag.tag == tag))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union(*parts)


def find_contacts(q: str, user: User, limit: int = PER_KIND) -> tuple[list[Contact], bool]:
    ids = contact_ids(q)
    if ids is None:
        return [], False
    stmt = (scoped(select(Contact), Contact, user)
            .where(Contact.id.in_(ids), Contact.erased_at.is_(None))
            .options(selectinload(Contact.station))
            .order_by(*name_order(Contact)).limit(limit + 1))
    found = db.session.scalars(stmt).all()
    return list(found[:limit]), len(found) > limit


def find_leads(q: str, user: User, limit: int = PER_KIND) -> tuple[list[TalentLead], bool]:
    condition = lead_condition(q)
    pinyin = pinyin_contact_ids(q)
    if pinyin is not None:
        condition = or_(condition, TalentLead.contact_id.in_(pinyin))
    stmt = (scoped(select(TalentLead), TalentLead, user).where(condition)
            .options(selectinload(TalentLead.contact), selectinload(TalentLead.station))
            .order_by(TalentLead.updated_at.desc(), TalentLead.id.desc()).limit(limit + 1))
    found = db.session.scalars(stmt).all()
    return list(found[:limit]), len(found) > limit


def find_stations(q: str, user: User, limit: int = PER_KIND) -> tuple[list[Station], bool]:
    stmt = (scoped(select(Station), Station, user)
            .where(contains(q, Station.name, Station.name_zh, Station.city, Station.host_organisation))
            .order_by(*name_order(Station)).limit(limit + 1))
    found = db.session.scalars(stmt).all()
    return list(found[:limit]), len(found) > limit


def search(q: str | None, user: User, per_kind: int = PER_KIND) -> Results:
    """The grouped results for ``q`` (nothing for an empty query)."""
    from flask import url_for
    from flask_babel import lazy_gettext as _l

    q = clean_query(q)
    results = Results(q)
    if not fold(q)[:MAX_QUERY]:
        return results
    contacts, more = find_contacts(q, user, per_kind)
    if contacts:
        from ..privacy import masking

        masking.masker().prefetch(contacts)
    results.groups.append(Group("contacts", _l("Contacts"), contacts, more, url_for("contacts.index", q=q)))
    leads, more = find_leads(q, user, per_kind)
    results.groups.append(Group("leads", _l("Leads"), leads, more, url_for("leads.index", q=q)))
    stations, more = find_stations(q, user, per_kind)
    results.groups.append(Group("stations", _l("Stations"), stations, more, url_for("stations.index", q=q)))
    for group in plugin_groups(q, user, per_kind):
        results.groups.append(group)
    return results


def plugin_groups(q: str, user: User, per_kind: int) -> list[Group]:
    """Groups from the plugins' ``liaison_search_results`` (``SearchResult`` items) — only plugins
    switched on somewhere in the user's scope (or that grant the user their pages) are asked;
    anything else is the plugin's error."""
    from ..plugins import accessible_for_user, host
    from . import SearchResult

    by_kind: dict[str, Group] = {}
    for plugin, answer in host().call("liaison_search_results", accessible_for_user(user), q=q, user=user):
        for result in (answer if isinstance(answer, (list, tuple)) else [answer]):
            if not isinstance(result, SearchResult):
                host().record_error(plugin, "liaison_search_results",
                                    TypeError(f"expected SearchResult, got {type(result).__name__}"))
                continue
            group = by_kind.setdefault(result.kind, Group(result.kind, result.group or result.kind))
            if len(group.items) < per_kind:
                group.items.append(result)
            else:
                group.more = True
            if result.more_url and not group.more_url:
                group.more_url = result.more_url
    return list(by_kind.values())
