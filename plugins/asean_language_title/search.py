"""The global search (``liaison_search_results``): title applications by their translator's name
(any script, pinyin) through the core's indexed contact search, scoped to the stations the user
sees where the plugin is on."""
from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, union
from sqlalchemy.orm import selectinload

from liaison.find import SearchResult
from liaison.find.services import pinyin_contact_ids
from liaison.models import db
from liaison.scope import scoped
from liaison.search import contact_ids_matching

from .choices import PLUGIN, Level, language_label
from .models import TitleApplication

LIMIT = 6


def results(q: str, user) -> list[SearchResult]:
    parts = [s for s in (contact_ids_matching(q), pinyin_contact_ids(q)) if s is not None]
    if not parts:
        return []
    ids = parts[0] if len(parts) == 1 else union(*parts)
    stmt = (scoped(select(TitleApplication), TitleApplication, user, plugin=PLUGIN)
            .where(TitleApplication.contact_id.in_(ids))
            .options(selectinload(TitleApplication.contact))
            .order_by(TitleApplication.id.desc()).limit(LIMIT))
    return [SearchResult(kind=PLUGIN, group=_l("Translator titles"),
                         title=f"{application.contact.name} · {language_label(application.language)}",
                         url=url_for(f"{PLUGIN}.detail", application_id=application.id),
                         detail=Level.label_of(application.level), more_url=url_for(f"{PLUGIN}.index"))
            for application in db.session.scalars(stmt)]
