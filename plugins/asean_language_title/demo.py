"""Demo applications on the demo ASEAN contacts (``liaison/demo.py``), one story per state.

Idempotent: each story has a natural key (its submission token) and is added only if missing.
Stories go through the real workflow, then their timestamps are moved into the past. A story
the region's current settings would refuse (e.g. stricter rules) is skipped, not forced.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from liaison.models import Contact, PluginScope, Region, Role, Station, User, db, station_membership
from liaison.plugins import activation

from .choices import PLUGIN, Document, EventKind, Status
from .models import TitleApplication, TitleEvent
from .rules import Rules, route_for
from .workflow import IllegalMove, apply_move

log = logging.getLogger(__name__)

ALL_DOCUMENTS = [document.value for document in Document]
# The moves that bring a new draft to each state.
PATHS = {
    Status.DRAFT: [],
    Status.SUBMITTED: ["submit"],
    Status.MATERIALS_CHECK: ["submit", "start_check"],
    Status.RETURNED: ["submit", "start_check", "return_for_corrections"],
    Status.IN_EVALUATION: ["submit", "start_check", "send_to_evaluation"],
    Status.PASSED: ["submit", "start_check", "return_for_corrections", "resubmit", "start_check",
                    "send_to_evaluation", "record_pass"],
    Status.NOT_PASSED: ["submit", "start_check", "send_to_evaluation", "record_fail"],
}
COMMENTS = {
    "return_for_corrections": "请补充用人单位推荐信原件扫描件。 Please add a scan of the employer's signed recommendation.",
    "resubmit": "已补充推荐信。 Recommendation added.",
    "record_fail": "代表作数量不足，建议积累后再申报。 Not enough representative works yet.",
}


@dataclass(frozen=True)
class Story:
    key: str
    contact: str
    language: str
    level: str
    practice_years: int
    current_title: str | None
    since: date | None
    final: Status
    started: date  # when the draft was written
    decided: date | None = None
    certificate: str | None = None
    education: str = ""
    credentials: str = ""
    works: str = ""
    documents: list[str] = field(default_factory=lambda: list(ALL_DOCUMENTS))


STORIES = [
    Story("01", "Somchai Jaidee", "th", "translator", 11, "assistant", date(2012, 6, 1), Status.PASSED,
          date(2016, 9, 1), date(2017, 3, 1), "CICG-FY-2017-0112",
          "BA in Chinese, Chulalongkorn University, 2008", "CATTI level 2 (Thai)",
          "《东盟国家概况》泰文版 (2015)\nInterpreting at the China-ASEAN Expo, 2012-2016"),
    Story("02", "Nguyen Van An", "vi", "associate_senior", 12, "translator", date(2015, 7, 1), Status.PASSED,
          date(2021, 4, 12), date(2021, 11, 20), "GX-FYS-2021-0031",
          "MA in Chinese Linguistics, Vietnam National University, 2009", "CATTI level 1 (Vietnamese)",
          "《习近平谈治国理政》越南文版 (co-translator)\n越南通讯社中文专稿, 2010-2021"),
    # A draft still missing documents: its page and form say what stops the submission.
    Story("03", "Nguyen Van An", "vi", "senior", 15, "associate_senior", date(2021, 11, 20), Status.DRAFT,
          date(2025, 10, 5), education="MA in Chinese Linguistics, Vietnam National University, 2009",
          documents=[Document.ID_DOCUMENT.value, Document.DEGREE_CERTIFICATE.value, Document.TITLE_CERTIFICATE.value]),
    Story("04", "Somphone Vongsavanh", "lo", "senior", 20, "associate_senior", date(2016, 6, 1), Status.PASSED,
          date(2022, 3, 8), date(2022, 12, 15), "CICG-YS-2022-0007",
          "BA in Chinese, National University of Laos, 2001", "Lao National Radio, chief translator",
          "老挝国家电台中文节目 (2002-)\n《中老铁路》纪录片老挝语译制"),
    Story("05", "Somchai Jaidee", "th", "associate_senior", 15, "translator", date(2017, 3, 1),
          Status.IN_EVALUATION, date(2025, 2, 17),
          education="BA in Chinese, Chulalongkorn University, 2008", credentials="CATTI level 1 (Thai)"),
    Story("06", "Tran Thi Mai", "vi", "translator", 6, "assistant", date(2019, 9, 1), Status.MATERIALS_CHECK,
          date(2025, 6, 3), education="MA in Accounting, Vietnam National University, 2016"),
    Story("07", "Sengdeuane Keomany", "lo", "assistant", 1, None, None, Status.SUBMITTED, date(2025, 9, 12),
          education="BA in Chinese Language Teaching, Guangxi Normal University, 2024",
          documents=[d for d in ALL_DOCUMENTS if d != Document.TITLE_CERTIFICATE]),
    Story("08", "Bounmy Phommachanh", "lo", "translator", 5, "assistant", date(2020, 1, 10), Status.RETURNED,
          date(2025, 7, 21), education="BEng in Railway Engineering, Southwest Jiaotong University, 2018"),
    Story("09", "Piyanuch Srisuk", "th", "translator", 8, "assistant", date(2016, 5, 1), Status.NOT_PASSED,
          date(2023, 1, 9), date(2023, 6, 30), education="PhD in Economics, Chulalongkorn University"),
    Story("10", "Pham Minh Tuan", "vi", "assistant", 2, None, None, Status.IN_EVALUATION, date(2025, 8, 30),
          education="MEng in Civil Engineering, Guangxi University (in progress)",
          documents=[d for d in ALL_DOCUMENTS if d != Document.TITLE_CERTIFICATE]),
]


def load() -> None:
    region = db.session.scalar(select(Region).where(Region.code == "ASEAN"))
    if region is None:
        return
    admin = _first(select(User).where(User.role == Role.ADMIN))
    _switch_on(region, admin)
    reviewer = _first(select(User).where(User.role == Role.HQ_REVIEWER)) or admin
    if reviewer is None:
        return
    for story in STORIES:
        token = f"demo-asean-title-{story.key}"
        if db.session.scalar(select(TitleApplication.id).where(TitleApplication.submission_token == token)):
            continue
        contact = db.session.scalar(
            select(Contact).join(Station, Contact.station_id == Station.id)
            .where(Station.region_id == region.id, Contact.name == story.contact))
        if contact is None:
            continue
        try:
            with db.session.begin_nested():
                _tell(story, token, contact, reviewer)
        except IllegalMove as exc:
            log.warning("demo title application %s skipped: %s", token, exc)
    db.session.flush()


def _first(stmt):
    return db.session.scalar(stmt.order_by(User.id).limit(1))


def _switch_on(region: Region, admin: User | None) -> None:
    """On for the region unless someone has already switched it (on or off) there."""
    key = activation.scope_key(region_id=region.id)
    exists = db.session.scalar(select(PluginScope.id).where(PluginScope.plugin == PLUGIN, PluginScope.scope_key == key))
    if exists is None and admin is not None:
        activation.set_enabled(PLUGIN, True, admin, region_id=region.id)
        db.session.flush()


def _tell(story: Story, token: str, contact: Contact, reviewer: User) -> None:
    station = db.session.get(Station, contact.station_id)
    volunteer = _first(select(User).join(station_membership, station_membership.c.user_id == User.id)
                       .where(station_membership.c.station_id == station.id)) or reviewer
    when = datetime.combine(story.started, datetime.min.time()) + timedelta(hours=9)
    application = TitleApplication(
        contact_id=contact.id, station_id=station.id, created_by_id=volunteer.id, language=story.language,
        level=story.level, practice_years=story.practice_years, current_title=story.current_title,
        current_title_since=story.since, education=story.education or None, credentials=story.credentials or None,
        representative_works=story.works or None, documents=list(story.documents), status=Status.DRAFT,
        submission_token=token, created_at=when, updated_at=when, status_changed_at=when)
    application.station = station
    application.route = route_for(story.language, story.level, Rules.for_station(station.id))
    db.session.add(application)
    db.session.add(TitleEvent(application=application, actor_id=volunteer.id, kind=EventKind.CREATED,
                              to_value=Status.DRAFT, created_at=when, details={"route": application.route}))
    moves = PATHS[story.final]
    step_days = max(1, ((story.decided or story.started + timedelta(days=90)) - story.started).days // (len(moves) + 1))
    for step, move in enumerate(moves, 1):
        actor = volunteer if move in ("submit", "resubmit") else reviewer
        event = apply_move(application, move, actor, COMMENTS.get(move), certificate_number=story.certificate,
                           decision_date=story.decided)
        moment = when + timedelta(days=step * step_days, hours=step)
        if move in ("record_pass", "record_fail") and story.decided:
            moment = datetime.combine(story.decided, datetime.min.time()) + timedelta(hours=15)
        event.created_at = moment
        application.status_changed_at = moment
        if move == "submit":
            application.submitted_at = moment
    application.updated_at = application.status_changed_at
