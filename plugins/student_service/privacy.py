"""The data subject's rights for students abroad (hooks ``liaison_personal_data``,
``liaison_erase_personal_data``, ``liaison_retention_reasons``, ``liaison_merge_contacts``).

Everything the plugin holds about a person hangs off their ``Student`` row: its timeline, the
service requests made for them (with their timelines), their roll-call answers and programme
applications. The access report lists all of it unmasked. An erasure deletes the student row and
with it everything linked (the database cascades): no record is kept as an exception — the
county's figures lose one student, and a roll call's record keeps its counts only for the
others. Merging two contacts who are both students keeps the survivor's student and moves the
other's timeline, requests, roll-call answers and applications to it (such a merge cannot be undone;
without any of those the core handles it alone and can undo it).
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from liaison.models import Contact, db

from .models import Application, RequestEvent, RollCallEntry, ServiceRequest, Student, StudentEvent

REASONS: dict = {}


def personal_data(contact: Contact):
    from liaison.privacy.subject import SubjectSection, row

    student = db.session.scalar(select(Student).where(Student.contact_id == contact.id))
    if student is None:
        return []
    record = row(student, skip=("version",))
    record["timeline"] = [row(e, skip=("student_id",)) for e in db.session.scalars(
        select(StudentEvent).where(StudentEvent.student_id == student.id).order_by(StudentEvent.id))]
    requests = []
    for request in db.session.scalars(select(ServiceRequest).where(ServiceRequest.student_id == student.id)
                                      .order_by(ServiceRequest.id)):
        item = row(request, skip=("version",))
        item["timeline"] = [row(e, skip=("request_id",)) for e in db.session.scalars(
            select(RequestEvent).where(RequestEvent.request_id == request.id).order_by(RequestEvent.id))]
        requests.append(item)
    record["service_requests"] = requests
    record["roll_calls"] = [row(e) for e in db.session.scalars(
        select(RollCallEntry).where(RollCallEntry.student_id == student.id).order_by(RollCallEntry.id))]
    record["programme_applications"] = [row(a) for a in db.session.scalars(
        select(Application).where(Application.student_id == student.id).order_by(Application.id))]
    return [SubjectSection(_l("Student abroad: study, services, roll calls and programmes"), [record])]


def erase_personal_data(contact: Contact, erasure):
    from liaison.privacy.erasure import ErasureOutcome

    student_ids = select(Student.id).where(Student.contact_id == contact.id)
    # Children first: the ORM-less deletes do not rely on the database's cascades (SQLite
    # enforces them only with foreign keys on).
    request_ids = select(ServiceRequest.id).where(ServiceRequest.student_id.in_(student_ids))
    db.session.execute(delete(RequestEvent).where(RequestEvent.request_id.in_(request_ids)))
    for model in (ServiceRequest, RollCallEntry, Application, StudentEvent):
        db.session.execute(delete(model).where(model.student_id.in_(student_ids)))
    db.session.execute(delete(Student).where(Student.contact_id == contact.id))
    return ErasureOutcome()


def retention_reasons():
    return REASONS


def merge_contacts(survivor: Contact, merged: Contact):
    """Only when both contacts are students: the core would drop the merged one's student row
    (a unique key) with everything hanging off it. Move those to the survivor's student first."""
    keep = db.session.scalar(select(Student).where(Student.contact_id == survivor.id))
    gone = db.session.scalar(select(Student).where(Student.contact_id == merged.id))
    if keep is None or gone is None:
        return None  # the core moves the one student row there is
    linked = [select(model.id).where(model.student_id == gone.id).limit(1)
              for model in (ServiceRequest, RollCallEntry, Application, StudentEvent)]
    if not any(db.session.scalar(stmt) for stmt in linked):
        return None  # nothing hangs off it: the core drops the duplicate row (a unique key) and can undo
    db.session.execute(update(ServiceRequest).where(ServiceRequest.student_id == gone.id)
                       .values(student_id=keep.id, station_id=keep.station_id))
    for model, unique in ((RollCallEntry, RollCallEntry.roll_call_id), (Application, Application.programme_id)):
        taken = select(unique).where(model.student_id == keep.id)
        db.session.execute(delete(model).where(model.student_id == gone.id, unique.in_(taken)))
        db.session.execute(update(model).where(model.student_id == gone.id)
                           .values(student_id=keep.id, station_id=keep.station_id))
    db.session.execute(update(StudentEvent).where(StudentEvent.student_id == gone.id).values(student_id=keep.id))
    db.session.execute(delete(Student).where(Student.id == gone.id))
    return {"student_service": {"kept_student": keep.id, "merged_student": gone.id}}
