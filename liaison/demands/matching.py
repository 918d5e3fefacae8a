"""Which talent fits a demand, and which demands fit a contact — ranked and explained, in SQL.

For a demand, each of its fields (``demand_fields``, as typed and folded) is a **term**; a
contact in the user's scope, at a station of one of the demand's target regions, scores

* ``field`` (4): the contact's field contains the term ("new-energy vehicles" ⊇ "new-energy"),
  both folded by ``fold`` in Python (accents, case, full width) as ``for_contact`` does: the
  distinct fields of the stations are read once and the matching ones compared by equality;
* ``tag`` (3): the contact has the term as a tag — ``contact_tags.tag IN (the term's spellings)``,
  served by ``ix_contact_tags_tag``;
* ``lead`` (2): one of the contact's open leads mentions the term in its summary or field —
  the leads' trigram index (``liaison.search``: FTS5 on SQLite, ``pg_trgm`` on PostgreSQL) for
  terms of three characters or more, the folded ``search_text`` otherwise;
* ``text`` (1): the contact's organisation or names contain the term (the contacts' trigram
  index, terms of three characters or more).

Every hit is one row of a ``UNION ALL`` (contact, lead, kind, term, weight); one ``GROUP BY``
ranks the contacts and keeps the best ``limit``; a second query over the same hits of those
contacts only gives the explanations ("field: 新能源汽车; tag: battery"). Nothing loads every
contact into Python. The field match is the one unindexed condition: it reads the distinct
fields of the contacts of the stations in scope and in the target regions (one query).

For a contact, the active demands (open or matching) the user may see that target the contact's
region and whose fields fit the contact's tags (``demand_fields.folded IN …``, indexed) or field
(the folded field contains the demand's field).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Integer, String, cast, func, literal, select, union_all
from sqlalchemy.orm import selectinload

from ..models import OPEN_LEAD_STATUSES, Contact, ContactTag, Station, TalentLead, User, db
from ..models.contact import split_list
from ..scope import station_filter, visible_demands_condition
from ..search import MIN_TRIGRAM, _trigram_ids, contact_ids_matching, escape_like, fold
from .models import ACTIVE_STATUSES, Demand, DemandField, DemandMatch, DemandRegion

WEIGHTS = {"field": 4, "tag": 3, "lead": 2, "text": 1}
MAX_TERMS = 12
LIMIT = 20


@dataclass
class Reason:
    kind: str
    term: str
    lead_id: int | None = None

    def __str__(self) -> str:
        labels = {"field": _("field"), "tag": _("tag"), "text": _("organisation or name")}
        if self.kind == "lead":
            return f"{_('lead #%(id)s', id=self.lead_id)}: {self.term}"
        return f"{labels[self.kind]}: {self.term}"


@dataclass
class Suggestion:
    record: object  # a Contact (for a demand) or a Demand (for a contact)
    score: int
    reasons: list[Reason] = field(default_factory=list)
    match: DemandMatch | None = None

    @property
    def explanation(self) -> str:
        return "; ".join(str(reason) for reason in self.reasons)

    @property
    def lead_id(self) -> int | None:
        return next((r.lead_id for r in self.reasons if r.lead_id), None)


def spellings(term: str) -> list[str]:
    """How a tag equal to ``term`` may have been typed (the tag index compares exactly)."""
    return sorted({term, term.lower(), term.upper(), term.title(), term.capitalize(), fold(term)})


def _row(contact_id, lead_id, kind: str, index: int):
    return (contact_id.label("contact_id"), cast(lead_id, Integer).label("lead_id"),
            cast(literal(kind), String).label("kind"), cast(literal(index), Integer).label("term"),
            cast(literal(WEIGHTS[kind]), Integer).label("weight"))


def _fields_containing(terms: list[tuple[str, str]], stations, live) -> list[list[str]]:
    """For each term, the contact fields (as stored) of ``stations`` whose folded form contains
    the folded term — folded here by ``fold``, exactly as ``for_contact`` folds a contact's field,
    so both directions agree ("Énergie nouvelle" ⊇ "énergie", "ＡＩ" ⊇ "ai"). One query for the
    distinct fields (a station's network repeats a few hundred fields), then plain equality."""
    stored = db.session.scalars(select(Contact.field).where(
        Contact.station_id.in_(stations), live, Contact.field.is_not(None)).distinct()).all()
    folded_fields = [(value, fold(value)) for value in stored]
    return [sorted(value for value, folded_field in folded_fields if folded and folded in folded_field)
            for _term, folded in terms]


def _hits(terms: list[tuple[str, str]], stations):
    """The ``UNION ALL`` of every hit of ``terms`` among the contacts of ``stations``."""
    live = Contact.erased_at.is_(None)
    branches = []
    fields = _fields_containing(terms, stations, live)
    for index, (term, folded) in enumerate(terms):
        if fields[index]:
            branches.append(select(*_row(Contact.id, literal(None), "field", index)).where(
                Contact.station_id.in_(stations), live, Contact.field.in_(fields[index])))
        branches.append(select(*_row(ContactTag.contact_id, literal(None), "tag", index))
                        .join(Contact, Contact.id == ContactTag.contact_id)
                        .where(ContactTag.tag.in_(spellings(term)), Contact.station_id.in_(stations), live))
        if len(folded) >= MIN_TRIGRAM:
            text = TalentLead.id.in_(_trigram_ids(TalentLead, "leads_fts", folded))
        else:
            text = TalentLead.search_text.like(f"%{escape_like(folded)}%", escape="\\")
        branches.append(select(*_row(TalentLead.contact_id, func.min(TalentLead.id), "lead", index))
                        .where(TalentLead.station_id.in_(stations), TalentLead.status.in_(list(OPEN_LEAD_STATUSES)),
                               text)
                        .group_by(TalentLead.contact_id))
        if len(folded) >= MIN_TRIGRAM:
            branches.append(select(*_row(Contact.id, literal(None), "text", index)).where(
                Contact.id.in_(contact_ids_matching(folded)), Contact.station_id.in_(stations), live))
    return union_all(*branches).subquery("hits")


def for_demand(demand: Demand, user: User, *, limit: int = LIMIT) -> list[Suggestion]:
    """Contacts in ``user``'s scope, at stations of the demand's target regions, that fit the
    demand, best first (``demand.field_rows`` and ``region_rows`` loaded)."""
    terms = [(row.field, row.folded) for row in demand.field_rows if row.folded][:MAX_TERMS]
    if not terms or not demand.region_rows:
        return []
    stations = select(Station.id).where(Station.region_id.in_(demand.region_ids), station_filter(Station.id, user))
    hits = _hits(terms, stations)
    score = func.sum(hits.c.weight).label("score")
    ranked = db.session.execute(select(hits.c.contact_id, score).group_by(hits.c.contact_id)
                                .order_by(score.desc(), hits.c.contact_id).limit(limit)).all()
    if not ranked:
        return []
    ids = [contact_id for contact_id, _score in ranked]
    reasons: dict[int, list[Reason]] = {i: [] for i in ids}
    for contact_id, lead_id, kind, index, _weight in db.session.execute(
            select(hits).where(hits.c.contact_id.in_(ids)).order_by(hits.c.contact_id, hits.c.weight.desc(),
                                                                     hits.c.term)):
        reasons[contact_id].append(Reason(kind, terms[index][0], lead_id))
    contacts = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids)).options(
        selectinload(Contact.station), selectinload(Contact.tag_rows)))}
    matches = {m.contact_id: m for m in db.session.scalars(select(DemandMatch).where(
        DemandMatch.demand_id == demand.id, DemandMatch.contact_id.in_(ids)))}
    return [Suggestion(contacts[i], int(s), reasons[i], matches.get(i)) for i, s in ranked if i in contacts]


def for_contact(contact: Contact, user: User, *, limit: int = 10) -> list[Suggestion]:
    """The active demands ``user`` may see that target the contact's region and fit its tags or
    field, best first (``contact.station`` loaded)."""
    tags = {fold(tag)[:100] for tag in split_list(contact.tag_list)} - {""}
    folded_field = fold(contact.field)
    conditions = []
    if tags:
        conditions.append((DemandField.folded.in_(sorted(tags)), "tag"))
    if folded_field:
        conditions.append((literal(folded_field).contains(DemandField.folded), "field"))
    if not conditions:
        return []
    targeted = DemandField.demand_id.in_(select(DemandRegion.demand_id).where(
        DemandRegion.region_id == contact.station.region_id))
    visible = DemandField.demand_id.in_(select(Demand.id).where(Demand.status.in_(ACTIVE_STATUSES),
                                                                visible_demands_condition(user)))
    branches = [select(DemandField.demand_id.label("demand_id"), DemandField.field.label("term"),
                       cast(literal(kind), String).label("kind"),
                       cast(literal(WEIGHTS[kind]), Integer).label("weight"))
                .where(condition, targeted, visible) for condition, kind in conditions]
    hits = union_all(*branches).subquery("hits")
    score = func.sum(hits.c.weight).label("score")
    ranked = db.session.execute(select(hits.c.demand_id, score).group_by(hits.c.demand_id)
                                .order_by(score.desc(), hits.c.demand_id.desc()).limit(limit)).all()
    if not ranked:
        return []
    ids = [demand_id for demand_id, _score in ranked]
    reasons: dict[int, list[Reason]] = {i: [] for i in ids}
    for demand_id, term, kind, _weight in db.session.execute(
            select(hits).where(hits.c.demand_id.in_(ids)).order_by(hits.c.demand_id, hits.c.weight.desc(),
                                                                   hits.c.term)):
        reasons[demand_id].append(Reason(kind, term))
    demands = {d.id: d for d in db.session.scalars(select(Demand).where(Demand.id.in_(ids)))}
    matches = {m.demand_id: m for m in db.session.scalars(select(DemandMatch).where(
        DemandMatch.contact_id == contact.id, DemandMatch.demand_id.in_(ids)))}
    return [Suggestion(demands[i], int(s), reasons[i], matches.get(i)) for i, s in ranked if i in demands]


__all__ = ["Reason", "Suggestion", "for_contact", "for_demand", "spellings", "WEIGHTS"]
