"""Is this the same person? One module for the contact forms, imports, the HQ queue and merges.

What is compared:

* **E-mail**: trimmed and lower-cased (``contacts.email_normalized``).
* **Phone**: E.164 through ``phonenumbers`` (``contacts.phone_e164``); a number typed without
  "+" is read in the station's country (``liaison.forms.normalise_phone``).
* **Names across scripts**: every name column (``name``, ``name_zh``, ``name_original``) becomes
  a list of Latin tokens — Chinese characters through pinyin (``pypinyin``; the surname
  character's surname reading too: 曾 zeng, 单 shan), everything else folded by
  ``liaison.search.fold`` (case, spacing, full-width forms, Vietnamese and other diacritics). The
  tokens are joined without spaces in three orders — as written, first word moved to the end,
  last word moved to the front — so 王小明, "Wang Xiaoming", "WANG Xiao Ming" and "Xiaoming Wang"
  share the key ``wangxiaoming``. A single word says too little and makes no key.
* **Organisation**, folded: adds to the score, never finds a candidate by itself.

Candidates are found through indexes only — ``contacts.email_normalized``, ``contacts.phone_e164``
and ``contact_name_keys.key`` — at most ``CANDIDATE_LIMIT`` per key, never by comparing all pairs.
Each candidate gets a score (0–100) and its reasons, stored as codes with parameters and put
into words in the reader's language by ``describe``.

The HQ queue's pairs (``duplicate_pairs``) and the name keys are kept up to date on every insert
and update of a contact (ORM events in ``liaison.models.duplicates`` call ``refresh_contact``), so
forms, imports, the CLI and merges need nothing else. Bulk ``insert()``s bypass the ORM:
``rebuild`` recomputes everything (``flask --app liaison duplicates scan``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import delete, insert, or_, select, update

from ..forms import normalise_phone
from ..search import fold

SCORES = {"email": 50, "phone": 40, "name": 35, "same_name": 35, "organisation": 10}
CANDIDATE_LIMIT = 50  # per key: a very common name must not flood a form or the queue
# Another station's contact is mentioned on a form only for more than a shared common name.
ELSEWHERE_MIN_SCORE = 40
NAME_KEY_LENGTH = 200

# Surnames read otherwise than the character's everyday reading (pypinyin gives the latter).
SURNAME_READINGS = {
    "曾": ("zeng",), "单": ("shan",), "解": ("xie",), "仇": ("qiu",), "区": ("ou",), "查": ("zha",),
    "朴": ("piao",), "盖": ("ge",), "乐": ("yue", "le"), "翟": ("zhai",), "覃": ("qin",), "种": ("chong",),
    "秘": ("bi",), "缪": ("miao",), "尉": ("yu",), "召": ("shao",), "长": ("chang",), "华": ("hua",),
    "句": ("gou",), "黑": ("he",), "折": ("she",), "员": ("yun",), "宁": ("ning",), "重": ("chong",),
}
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_TOKENS = re.compile(r"[^\W_]+")
_NAME_COLUMNS = ("name", "name_zh", "name_original")
COLUMNS = ("id", "station_id", "name", "name_zh", "name_original", "organisation", "email_normalized",
           "phone_e164")


# --- pure functions -------------------------------------------------------------------------------

def normalise_email(email: str | None) -> str | None:
    value = (email or "").strip().lower()
    return value or None


def normalise_phone_number(raw: str | None, region: str | None) -> str | None:
    """E.164, reading a number without "+" in ``region`` (the station's country)."""
    return normalise_phone((raw or "").strip() or None, region)


def _pinyin_forms(text: str) -> list[list[str]]:
    """Token lists of a text with Chinese characters: the pinyin, and the surname's other readings."""
    from pypinyin import lazy_pinyin

    syllables = [s.replace("v", "u") for s in lazy_pinyin(text)]  # lv → lu, as "Lü" folds
    base = _TOKENS.findall(fold(" ".join(syllables)))
    forms = [base]
    readings = SURNAME_READINGS.get(text.strip()[:1], ())
    if base:
        forms += [[reading, *base[1:]] for reading in readings if reading != base[0]]
    return forms


def name_tokens(text: str | None) -> list[list[str]]:
    """The Latin token lists a name can be read as (several for some Chinese surnames)."""
    if not text or not text.strip():
        return []
    if _CJK.search(text):
        return _pinyin_forms(text)
    return [_TOKENS.findall(fold(text))]


def name_keys(*names: str | None) -> set[str]:
    """Keys of ``contact_name_keys`` for a contact's name columns (see the module docstring)."""
    keys: set[str] = set()
    for text in names:
        for tokens in name_tokens(text):
            if len(tokens) < 2:
                continue
            for order in (tokens, tokens[1:] + tokens[:1], tokens[-1:] + tokens[:-1]):
                key = "".join(order)[:NAME_KEY_LENGTH]
                if len(key) >= 3:
                    keys.add(key)
    return keys


def _name_reason(a: Any, b: Any) -> list | None:
    """``["same_name", {...}]`` or ``["name", {"a": 王小明, "b": Wang Xiaoming}]`` when a name of
    ``a`` and one of ``b`` share a key; ``None`` otherwise."""
    parts_a = [(t, name_keys(t)) for t in (getattr(a, c, None) for c in _NAME_COLUMNS) if t]
    parts_b = [(t, name_keys(t)) for t in (getattr(b, c, None) for c in _NAME_COLUMNS) if t]
    found = None
    for text_a, keys_a in parts_a:
        for text_b, keys_b in parts_b:
            if keys_a & keys_b:
                if fold(text_a) == fold(text_b):
                    return ["same_name", {"name": text_b}]
                found = found or ["name", {"a": text_a, "b": text_b}]
    return found


def score(a: Any, b: Any) -> tuple[int, list]:
    """The score (0–100) of ``a`` and ``b`` being one person, and the reasons."""
    reasons: list = []
    if a.email_normalized and a.email_normalized == b.email_normalized:
        reasons.append(["email", {}])
    if a.phone_e164 and a.phone_e164 == b.phone_e164:
        reasons.append(["phone", {}])
    name = _name_reason(a, b)
    if name:
        reasons.append(name)
    if reasons and fold(a.organisation) and fold(a.organisation) == fold(b.organisation):
        reasons.append(["organisation", {}])
    return min(100, sum(SCORES[code] for code, _params in reasons)), reasons


def describe(reasons: Iterable, *, with_names: bool = True) -> list[str]:
    """The reasons in the reader's language, e.g. ["same phone", "王小明 = Wang Xiaoming"];
    ``with_names=False`` leaves the names out ("same name")."""
    words = []
    for code, params in reasons or ():
        if code == "email":
            words.append(_("same e-mail address"))
        elif code == "phone":
            words.append(_("same phone number"))
        elif code in ("same_name", "name") and not with_names:
            words.append(_("same name"))
        elif code == "same_name":
            words.append(_("same name: %(name)s", name=params.get("name", "")))
        elif code == "name":
            words.append(f"{params.get('a', '')} = {params.get('b', '')}")
        elif code == "organisation":
            words.append(_("same organisation"))
    return words


# --- candidates (indexed queries; ``executor`` is a Session or a Connection) ----------------------

@dataclass
class Probe:
    """The matching fields of a contact being typed, imported or stored."""

    id: int | None = None
    station_id: int | None = None
    name: str | None = None
    name_zh: str | None = None
    name_original: str | None = None
    organisation: str | None = None
    email_normalized: str | None = None
    phone_e164: str | None = None


@dataclass
class Candidate:
    id: int
    station_id: int
    score: int
    reasons: list = field(default_factory=list)
    contact: Any = None  # the Contact, where a page shows it

    @property
    def reason_text(self) -> list[str]:
        return describe(self.reasons)


def probe_from(data: dict, region: str | None, station_id: int | None = None, contact_id: int | None = None) -> Probe:
    """A probe from form or import data (``email``, ``phone`` as typed; ``region`` reads the phone)."""
    return Probe(id=contact_id, station_id=station_id, name=data.get("name"), name_zh=data.get("name_zh"),
                 name_original=data.get("name_original"), organisation=data.get("organisation"),
                 email_normalized=normalise_email(data.get("email")),
                 phone_e164=normalise_phone_number(data.get("phone"), region))


def _tables():
    from ..models import Contact, contact_name_keys

    return Contact.__table__, contact_name_keys


def find(executor, probe: Any, *, exclude_id: int | None = None, limit: int = CANDIDATE_LIMIT) -> list[Candidate]:
    """Contacts that may be ``probe``, best first."""
    contacts, keys_table = _tables()
    keys = name_keys(*(getattr(probe, c, None) for c in _NAME_COLUMNS))
    lookups = []
    if probe.email_normalized:
        lookups.append(select(contacts.c.id).where(contacts.c.email_normalized == probe.email_normalized))
    if probe.phone_e164:
        lookups.append(select(contacts.c.id).where(contacts.c.phone_e164 == probe.phone_e164))
    if keys:
        lookups.append(select(keys_table.c.contact_id).distinct().where(keys_table.c.key.in_(sorted(keys))))
    ids: set[int] = set()
    for lookup in lookups:
        ids.update(executor.execute(lookup.limit(limit)).scalars())
    ids.discard(exclude_id)
    if not ids:
        return []
    rows = executor.execute(select(*(contacts.c[name] for name in COLUMNS))
                            .where(contacts.c.id.in_(sorted(ids)), contacts.c.erased_at.is_(None))).all()
    found = []
    for row in rows:
        points, reasons = score(probe, row)
        if points:
            found.append(Candidate(row.id, row.station_id, points, reasons))
    return sorted(found, key=lambda c: (-c.score, c.id))


@dataclass
class FormCheck:
    """What a contact form shows before saving: candidates of its own station (in full) and the
    number of other stations where HQ knows a likely match (nothing else about them)."""

    in_station: list[Candidate]
    elsewhere: int

    def __bool__(self) -> bool:
        return bool(self.in_station or self.elsewhere)

    @property
    def contacts(self) -> list:
        return [candidate.contact for candidate in self.in_station]

    def reasons_of(self, contact_id: int) -> list[str]:
        return next((describe(c.reasons, with_names=False) for c in self.in_station if c.id == contact_id), [])


def check_form(station, data: dict, *, contact_id: int | None = None) -> FormCheck:
    """Candidates for a contact form of ``station`` (``contact_id``: the contact being edited).

    On an edit, pairs already dismissed are not raised again, and another station's contact
    already in HQ's queue is not mentioned again."""
    from ..contacts.services import phone_region
    from ..models import Contact, DuplicatePair, PairStatus, db

    probe = probe_from(data, phone_region(station, (data.get("country") or "").upper() or None), station.id, contact_id)
    candidates = find(db.session, probe, exclude_id=contact_id)
    known: dict[int, str] = {}
    if contact_id is not None and candidates:
        pairs = db.session.execute(select(DuplicatePair.contact_a_id, DuplicatePair.contact_b_id, DuplicatePair.status)
                                   .where(or_(DuplicatePair.contact_a_id == contact_id,
                                              DuplicatePair.contact_b_id == contact_id))).all()
        known = {(a if b == contact_id else b): status for a, b, status in pairs}
    mine = [c for c in candidates if c.station_id == station.id and known.get(c.id) != PairStatus.DISMISSED]
    others = {c.station_id for c in candidates
              if c.station_id != station.id and c.score >= ELSEWHERE_MIN_SCORE and c.id not in known}
    if mine:
        loaded = {c.id: c for c in db.session.scalars(select(Contact).where(Contact.id.in_([m.id for m in mine])))}
        for candidate in mine:
            candidate.contact = loaded.get(candidate.id)
        mine = [c for c in mine if c.contact is not None][:10]
    return FormCheck(mine, len(others))


# --- keeping name keys and pairs up to date ------------------------------------------------------

def refresh_contact(connection, contact_id: int, *, new: bool = False) -> None:
    """Recompute one contact's name keys and candidate pairs (inside the caller's transaction).

    Open pairs that no longer match are removed; dismissed pairs are kept (remembered)."""
    from ..models import DuplicatePair, PairStatus, utcnow

    contacts, keys_table = _tables()
    pairs = DuplicatePair.__table__
    row = connection.execute(select(*(contacts.c[name] for name in COLUMNS), contacts.c.erased_at)
                             .where(contacts.c.id == contact_id)).one_or_none()
    if not new:
        connection.execute(delete(keys_table).where(keys_table.c.contact_id == contact_id))
    if row is None:
        return
    candidates: list[Candidate] = []
    if row.erased_at is None:
        keys = name_keys(row.name, row.name_zh, row.name_original)
        if keys:
            connection.execute(insert(keys_table), [{"contact_id": contact_id, "key": key} for key in sorted(keys)])
        candidates = find(connection, row, exclude_id=contact_id)
    for candidate in candidates:
        if candidate.id < contact_id:  # reasons read from contact_a to contact_b
            candidate.reasons = [[code, {"a": params["b"], "b": params["a"]} if code == "name" else params]
                                 for code, params in candidate.reasons]
    found = {c.id: c for c in candidates}
    existing = connection.execute(select(pairs.c.id, pairs.c.contact_a_id, pairs.c.contact_b_id, pairs.c.status)
                                  .where(or_(pairs.c.contact_a_id == contact_id, pairs.c.contact_b_id == contact_id))).all()
    seen = set()
    for pair in existing:
        other = pair.contact_b_id if pair.contact_a_id == contact_id else pair.contact_a_id
        seen.add(other)
        candidate = found.get(other)
        if candidate is None:
            # An answer is remembered, except for an erased person (their reasons quote names).
            if pair.status == PairStatus.OPEN or row.erased_at is not None:
                connection.execute(delete(pairs).where(pairs.c.id == pair.id))
        else:
            connection.execute(update(pairs).where(pairs.c.id == pair.id)
                               .values(score=candidate.score, reasons=candidate.reasons))
    new_pairs = [{"contact_a_id": min(contact_id, c.id), "contact_b_id": max(contact_id, c.id), "score": c.score,
                  "reasons": c.reasons, "status": PairStatus.OPEN, "found_at": utcnow()}
                 for c in candidates if c.id not in seen]
    if new_pairs:
        connection.execute(insert(pairs), new_pairs)


def rebuild(connection, *, batch: int = 500) -> int:
    """Recompute every contact's name keys and pairs (after bulk inserts, or to start the queue
    on an existing database). Dismissed pairs are kept. Returns the number of contacts."""
    contacts, _keys = _tables()
    last, done = 0, 0
    while True:
        ids = connection.execute(select(contacts.c.id).where(contacts.c.id > last)
                                 .order_by(contacts.c.id).limit(batch)).scalars().all()
        if not ids:
            return done
        for contact_id in ids:
            refresh_contact(connection, contact_id)
        done += len(ids)
        last = ids[-1]
