"""The global search (``liaison_search_results``): members by name (English or Chinese) or
certificate number, agreements by title, and recognitions by either name, the issuer or the
domestic qualification (folded, ``liaison.search.fold``) — scoped to the stations the user sees
where the plugin is on."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l

from liaison.find import SearchResult
from liaison.models import db
from liaison.search import contains

from . import services
from .choices import NAME
from .models import Agreement, Member

LIMIT = 5


def results(q: str, user) -> list[SearchResult]:
    q = q.strip()
    if not q:
        return []
    found = []
    members = db.session.scalars(services.visible_members(user).where(
        contains(q, Member.name, Member.name_zh, Member.certificate_no)).order_by(Member.id.desc()).limit(LIMIT))
    found += [SearchResult(kind=f"{NAME}_members", group=_l("Alliance members"), title=m.display,
                           url=url_for(f"{NAME}.member", member_id=m.id), detail=m.certificate_no,
                           more_url=url_for(f"{NAME}.members", q=q)) for m in members]
    agreements = db.session.scalars(services.visible_agreements(user).where(contains(q, Agreement.title))
                                    .order_by(Agreement.id.desc()).limit(LIMIT))
    found += [SearchResult(kind=f"{NAME}_agreements", group=_l("Framework agreements"), title=a.title,
                           url=url_for(f"{NAME}.agreement", agreement_id=a.id), detail=a.kind_label,
                           more_url=url_for(f"{NAME}.agreements", q=q)) for a in agreements]
    recognitions = db.session.scalars(services.recognitions(user, services.RecognitionFilters(q=q)).limit(LIMIT))
    found += [SearchResult(kind=f"{NAME}_recognitions", group=_l("Recognised qualifications"),
                           title=f"{r.name_zh} · {r.name_original}",
                           url=url_for(f"{NAME}.recognitions", q=r.name_original),
                           detail=f"→ {r.domestic_name}", more_url=url_for(f"{NAME}.recognitions", q=q))
              for r in recognitions]
    return found
