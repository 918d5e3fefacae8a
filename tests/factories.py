"""Test data: a small world with every role, built through the real models and workflow."""
from __future__ import annotations

from dataclasses import dataclass, field

from liaison.demo import PATHS
from liaison.leads.workflow import apply_move
from liaison.models import (
    Contact,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    Region,
    Role,
    Station,
    TalentLead,
    User,
    db,
)


@dataclass
class World:
    regions: dict[str, int] = field(default_factory=dict)
    stations: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    consents: dict[str, int] = field(default_factory=dict)  # "hanoi_pass_to_hq" -> id


STATIONS = {
    # key: (name, region, country, city)
    "hanoi": ("Hanoi station", "ASEAN", "VN", "Hanoi"),
    "bangkok": ("Bangkok station", "ASEAN", "TH", "Bangkok"),
    "milan": ("Milan station", "EUROPE", "IT", "Milan"),
}

USERS = {
    # key: (role, regions or stations)
    "admin": (Role.ADMIN, ()),
    "hq": (Role.HQ_REVIEWER, ()),
    "hq2": (Role.HQ_REVIEWER, ()),
    "asean_admin": (Role.REGIONAL_ADMIN, ("ASEAN",)),
    "europe_admin": (Role.REGIONAL_ADMIN, ("EUROPE",)),
    "vol_hanoi": (Role.VOLUNTEER, ("hanoi",)),
    "vol_bangkok": (Role.VOLUNTEER, ("bangkok",)),
    "vol_milan": (Role.VOLUNTEER, ("milan",)),
}

CONTACTS = {
    "hanoi": ("Nguyen Van An", "阮文安", "Nguyễn Văn An", "an@example.org", "+84 24 3825 1234"),
    "bangkok": ("Somchai Jaidee", "颂猜", "สมชาย ใจดี", "somchai@example.org", "+66 2 123 4567"),
    "milan": ("Marco Rossi", "马可·罗西", None, "marco@example.org", "+39 02 1234 5678"),
}


def build_world(password: str) -> World:
    world = World()
    regions = {code: Region(code=code, name=code.title(), name_zh={"ASEAN": "东盟", "EUROPE": "欧洲"}[code])
               for code in ("ASEAN", "EUROPE")}
    db.session.add_all(regions.values())
    db.session.flush()
    stations = {}
    for key, (name, region, country, city) in STATIONS.items():
        stations[key] = Station(name=name, name_zh=f"{city}联络站", region_id=regions[region].id, country=country,
                                city=city, host_organisation=f"{city} Chinese Association", host_kind="chinese_association")
    db.session.add_all(stations.values())
    db.session.flush()
    users = {}
    for key, (role, scope) in USERS.items():
        user = User(email=f"{key}@example.org", name=key.replace("_", " ").title(), role=role,
                    regions=[regions[s] for s in scope if s in regions] if role == Role.REGIONAL_ADMIN else [],
                    stations=[stations[s] for s in scope if s in stations] if role == Role.VOLUNTEER else [])
        user.set_password(password)
        users[key] = user
    db.session.add_all(users.values())
    db.session.flush()
    contacts = {}
    for key, (name, name_zh, original, email, phone) in CONTACTS.items():
        from liaison.forms import normalise_phone

        contacts[key] = Contact(station_id=stations[key].id, kind="scholar", name=name, name_zh=name_zh,
                                name_original=original, email=email, email_normalized=email, phone=phone,
                                phone_e164=normalise_phone(phone), organisation=f"{key.title()} University",
                                created_by_id=users["admin"].id)
    db.session.add_all(contacts.values())
    db.session.flush()
    bases = give_basis(contacts.values(), users["admin"].id)
    db.session.commit()
    world.regions = {k: v.id for k, v in regions.items()}
    world.stations = {k: v.id for k, v in stations.items()}
    world.users = {k: v.id for k, v in users.items()}
    world.emails = {k: v.email for k, v in users.items()}
    world.contacts = {k: v.id for k, v in contacts.items()}
    keys = {contact_id: key for key, contact_id in world.contacts.items()}
    world.consents = {f"{keys[b.contact_id]}_{b.purpose}": b.id for b in bases}
    for key in STATIONS:
        world.leads[f"{key}_draft"] = make_lead(world, key, LeadStatus.DRAFT)
        world.leads[f"{key}_submitted"] = make_lead(world, key, LeadStatus.SUBMITTED)
    return world


def give_basis(contacts, recorded_by_id: int | None = None,
               purposes=("pass_to_hq", "keep_in_touch")) -> list:
    """A valid lawful basis (consent given by form a year ago, no expiry) for ``purposes`` of each
    contact: without one for ``pass_to_hq`` a lead cannot be submitted (liaison.privacy.consent)."""
    from datetime import date, timedelta

    from liaison.models import ContactConsent

    given = date.today() - timedelta(days=365)
    bases = [ContactConsent(contact_id=contact.id, purpose=purpose, basis="consent", source="form",
                            given_on=given, evidence="Signed the station's contact form",
                            text_version="2025-01", recorded_by_id=recorded_by_id)
             for contact in contacts for purpose in purposes]
    db.session.add_all(bases)
    db.session.flush()
    return bases


def make_lead(world: World, station: str, status: LeadStatus, **fields) -> int:
    """A lead of ``station`` brought to ``status`` through the workflow itself."""
    volunteer = db.session.get(User, world.users[f"vol_{station}"])
    reviewer = db.session.get(User, world.users["hq"])
    contact = db.session.get(Contact, world.contacts[station])
    lead = TalentLead(contact_id=contact.id, station_id=contact.station_id, submitter_id=volunteer.id,
                      category=fields.pop("category", "employment"), summary=fields.pop("summary", f"Lead of {station}"),
                      priority=fields.pop("priority", 2), status=LeadStatus.DRAFT, **fields)
    lead.station = db.session.get(Station, contact.station_id)
    db.session.add(lead)
    db.session.add(LeadEvent(lead=lead, actor_id=volunteer.id, kind=LeadEventKind.CREATED, to_status=LeadStatus.DRAFT))
    from datetime import date

    for move in PATHS[LeadStatus(status)]:
        actor = volunteer if move in ("submit", "answer", "withdraw") else reviewer
        apply_move(lead, move, actor, "because", referral_target="Talent office",
                   landed_on=date(2025, 5, 1), landing_kind="hired")
    db.session.commit()
    return lead.id
