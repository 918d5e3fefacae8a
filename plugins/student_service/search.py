"""The global search (``liaison_search_results``): students by school, field or city of study —
never by the contact's masked fields — scoped like every list of the plugin (station or home team)."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from liaison.find import SearchResult
from liaison.models import db
from liaison.search import contains

from . import access
from .choices import NAME
from .models import Student

LIMIT = 6


def results(q: str, user) -> list[SearchResult]:
    q = q.strip()
    if not q:
        return []
    stmt = (access.scoped(select(Student), Student, user)
            .where(contains(q, Student.school, Student.field, Student.city))
            .options(selectinload(Student.contact)).order_by(Student.id.desc()).limit(LIMIT))
    return [SearchResult(kind=NAME, group=_l("Students abroad"), title=f"{s.contact.name} — {s.school}",
                         url=url_for(f"{NAME}.student", student_id=s.id), detail=f"{s.field} · {s.city}",
                         more_url=url_for(f"{NAME}.index", q=q))
            for s in db.session.scalars(stmt)]
