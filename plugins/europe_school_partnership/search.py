"""The global search (``liaison_search_results``): partnerships by the home institution's name (in
English or Chinese), the partner's name or city — a small table, ``contains`` — scoped to the
stations the user sees where the plugin is on."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from liaison.find import SearchResult
from liaison.models import db
from liaison.scope import scoped
from liaison.search import contains

from .models import Partnership

PLUGIN = "europe_school_partnership"
LIMIT = 6


def results(q: str, user) -> list[SearchResult]:
    if not q.strip():
        return []
    stmt = (scoped(select(Partnership), Partnership, user, plugin=PLUGIN)
            .where(contains(q.strip(), Partnership.home_name, Partnership.home_name_zh, Partnership.partner_name,
                            Partnership.partner_city))
            .order_by(Partnership.id.desc()).limit(LIMIT))
    return [SearchResult(kind=PLUGIN, group=_l("School partnerships"),
                         title=f"{p.home_name} – {p.partner_name}",
                         url=url_for(f"{PLUGIN}.detail", partnership_id=p.id),
                         detail=p.partner_city or "", more_url=url_for(f"{PLUGIN}.index", q=q.strip()))
            for p in db.session.scalars(stmt)]
