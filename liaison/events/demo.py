"""Demo events drawn from the seed documents: the 2019 Milan symposium with 40+ invited Wenzhou
PhDs, scholars and entrepreneurs (figures recorded, a lead from an attendee); a China–ASEAN Expo
roadshow of the Hanoi and Bangkok stations with public registrations, check-ins and a walk-in; and
a Jiashan-style summer camp for returning students ("海燕云集结"), open for registration.
Idempotent: events are found by their English title. Called from ``liaison.demo.load``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..models import Contact, Station, TalentLead, User, db, utcnow
from .models import (AttendanceStatus, Event, EventPartner, EventRegistration, EventStation, EventTargetField,
                     RegistrationSource)

A = AttendanceStatus


def _station(city: str) -> Station | None:
    return db.session.scalar(select(Station).where(Station.city == city))


def _event(title: str, **values) -> tuple[Event, bool]:
    existing = db.session.scalar(select(Event).where(Event.title == title))
    if existing is not None:
        return existing, False
    event = Event(title=title, seats_taken=0, **values)
    db.session.add(event)
    db.session.flush()
    return event, True


def load(created: dict) -> None:
    created.setdefault("events", 0)
    milan, hanoi, bangkok = _station("Milan"), _station("Hanoi"), _station("Bangkok")
    if milan is None or hanoi is None or bangkok is None:
        return
    organiser = db.session.scalar(select(User).where(User.role == "volunteer").order_by(User.id))
    _milan_symposium(milan, organiser, created)
    _roadshow(hanoi, bangkok, organiser, created)
    _summer_camp(created)
    db.session.commit()


def _milan_symposium(milan: Station, organiser: User | None, created: dict) -> None:
    event, new = _event(
        "Symposium with Wenzhou talent in Italy", title_zh="在意温籍人才座谈会", kind="symposium", organiser="stations",
        region_id=milan.region_id, starts_at=datetime(2019, 11, 8, 14), ends_at=datetime(2019, 11, 8, 17),
        timezone="Europe/Rome", venue="Chinese-Italian Youth Association", city="Milan", country="IT",
        status="figures_recorded", participants=46, capacity=60,
        outcome_notes="The visiting delegation met 40+ Wenzhou PhDs, scholars and young entrepreneurs.",
        organising=[EventStation(station_id=milan.id)],
        target_fields=[EventTargetField(position=0, field="intelligent manufacturing"),
                       EventTargetField(position=1, field="biomedicine")],
        partners=[EventPartner(position=0, name="温州大学米兰校友会")])
    if not new:
        return
    created["events"] += 1
    now = utcnow()
    # The station's contacts of today were among the guests; the rest of the 2019 paper list was
    # never confirmed as contacts (their rows wait for a volunteer, like public registrations).
    known = list(db.session.scalars(select(Contact).where(Contact.station_id == milan.id).order_by(Contact.id)))
    first = known[0] if known else None
    for n in range(1, 43):
        contact = known[n - 1] if n <= len(known) else None
        status = A.ATTENDED if n <= 38 else (A.DECLINED if n <= 40 else A.NO_SHOW)
        db.session.add(EventRegistration(
            event_id=event.id, contact_id=contact.id if contact else None, status=status,
            source=RegistrationSource.INVITATION, name=contact.name if contact else f"Wenzhou guest {n:02d}",
            name_original=(contact.name_zh if contact else f"温籍嘉宾{n:02d}"), invited_at=datetime(2019, 10, 20),
            registered_at=datetime(2019, 10, 25) if status != A.DECLINED else None,
            checked_in_at=datetime(2019, 11, 8, 14) if status == A.ATTENDED else None))
        if status != A.DECLINED:
            event.seats_taken += 1
    if first is not None and organiser is not None:
        db.session.add(TalentLead(contact_id=first.id, station_id=milan.id, submitter_id=organiser.id,
                                  category="return_startup", field="intelligent manufacturing",
                                  summary="Met at the 2019 Milan symposium: plans a robotics start-up in Wenzhou.",
                                  status="draft", source_event_id=event.id, status_changed_at=now))


def _roadshow(hanoi: Station, bangkok: Station, organiser: User | None, created: dict) -> None:
    event, new = _event(
        "China–ASEAN Expo talent roadshow", title_zh="中国—东盟博览会人才路演", kind="roadshow", organiser="stations",
        region_id=hanoi.region_id, starts_at=datetime(2025, 9, 17, 1), ends_at=datetime(2025, 9, 17, 9),
        timezone="Asia/Shanghai", venue="Nanning International Convention and Exhibition Center", city="Nanning",
        country="CN", status="held", capacity=200,
        organising=[EventStation(station_id=hanoi.id), EventStation(station_id=bangkok.id)],
        partners=[EventPartner(position=0, name="China–ASEAN Expo Secretariat")])
    if not new:
        return
    created["events"] += 1
    people = [("Nguyen Thi Lan", "Nguyễn Thị Lan", "VN"), ("Tran Quoc Bao", "Trần Quốc Bảo", "VN"),
              ("Somchai Preecha", "สมชาย ปรีชา", "TH"), ("Kanya Wongsa", "กัญญา วงศา", "TH"),
              ("Le Minh Chau", "Lê Minh Châu", "VN"), ("Pham Duc Huy", "Phạm Đức Huy", "VN"),
              ("Anan Chaiyaporn", "อนันต์ ชัยพร", "TH"), ("Do Thu Trang", "Đỗ Thu Trang", "VN"),
              ("Niran Suksan", "นิรันดร์ สุขสันต์", "TH"), ("Vu Hoang Nam", "Vũ Hoàng Nam", "VN")]
    for n, (name, original, country) in enumerate(people):
        attended = n < 7
        db.session.add(EventRegistration(
            event_id=event.id, status=A.ATTENDED if attended else A.REGISTERED, source=RegistrationSource.PUBLIC,
            name=name, name_original=original, email=f"roadshow{n}@example.org",
            email_normalized=f"roadshow{n}@example.org", country=country, field="new energy",
            consent_given_at=datetime(2025, 9, 1), consent_text_version="events-2026-11",
            registered_at=datetime(2025, 9, 1), checked_in_at=datetime(2025, 9, 17, 1, 30) if attended else None))
        event.seats_taken += 1
    db.session.add(EventRegistration(event_id=event.id, status=A.ATTENDED, source=RegistrationSource.WALK_IN,
                                     name="Wang Min", name_original="王敏", organisation="Guangxi University",
                                     checked_in_at=datetime(2025, 9, 17, 2)))


def _summer_camp(created: dict) -> None:
    event, new = _event(
        "Summer camp for returning students (Jiashan style)", title_zh="“海燕云集结”留学生暑期夏令营",
        kind="summer_camp", organiser="hq", region_id=None, starts_at=datetime(2027, 7, 10, 1),
        ends_at=datetime(2027, 7, 20, 9), timezone="Asia/Shanghai", venue="归谷园区", city="Jiashan", country="CN",
        status="registration_open", capacity=300,
        description="Ten days at home for students abroad: enterprise visits, internships, a start-up salon.")
    if new:
        created["events"] += 1
