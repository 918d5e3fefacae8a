"""Eligibility, completeness and routing — the rules a region sets in the plugin's settings.

Every rule is a typed plugin setting (``SETTINGS``), resolved per station → region → global →
default by ``liaison.plugins.activation.settings``. The defaults follow the usual progression of
the translation title series: one year of practice for an Assistant Translator, then a minimum
time in each title before the next.

Routing: the region's own panel is competent per language *and* level. For each language the
setting ``panel_level_<code>`` says the highest title the panel awards in it (or none); an
application up to that level goes to the panel (``local``), any other to entrusted evaluation by
the national body (委托评审). The defaults follow the Guangxi seed: the panel evaluates 7
languages, Thai among them, yet the senior (副高级 and 正高级) titles in Lao, Thai and Khmer were
entrusted in 2022 — so in those three the panel awards up to Translator, in Vietnamese,
Indonesian, Burmese and Malay up to Senior Translator, and Filipino is entrusted at every level.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.lists import format_list
from flask_babel import LazyString, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from liaison.plugins import Setting
from liaison.plugins import activation

from .choices import KNOWN_LANGUAGES, PLUGIN, Document, Level, Route, language_label

DEFAULT_MIN_PRACTICE_YEARS = {
    Level.ASSISTANT: 1,
    Level.TRANSLATOR: 4,
    Level.ASSOCIATE_SENIOR: 9,
    Level.SENIOR: 14,
}
# Minimum years in the title one level below the one applied for.
DEFAULT_MIN_TITLE_YEARS = {
    Level.TRANSLATOR: 2,
    Level.ASSOCIATE_SENIOR: 5,
    Level.SENIOR: 5,
}
# The highest level the region's panel awards, per language (None: the panel does not evaluate it).
DEFAULT_PANEL_LEVELS: dict[str, Level | None] = {
    "vi": Level.SENIOR, "id": Level.SENIOR, "my": Level.SENIOR, "ms": Level.SENIOR,
    "th": Level.TRANSLATOR, "lo": Level.TRANSLATOR, "km": Level.TRANSLATOR,
    "fil": None,
}
NOT_EVALUATED = "none"  # the stored choice for "the panel does not evaluate this language"
DEFAULT_REQUIRED_DOCUMENTS = [
    Document.ID_DOCUMENT.value, Document.DEGREE_CERTIFICATE.value, Document.WORK_SAMPLES.value,
    Document.EMPLOYER_RECOMMENDATION.value,
]
MAX_YEARS = 60
LEVEL_CODES = frozenset(level.value for level in Level)
DOCUMENT_CODES = frozenset(document.value for document in Document)


def practice_setting(level: Level) -> str:
    return f"min_practice_years_{level.value}"


def title_setting(level: Level) -> str:
    return f"min_title_years_{level.value}"


def panel_setting(language: str) -> str:
    return f"panel_level_{language}"


PANEL_LEVEL_CHOICES = ((NOT_EVALUATED, _l("Not evaluated by the panel: entrusted at every level")),
                       *((level.value, _l("Up to %(level)s", level=level.label)) for level in Level))


SETTINGS = (
    Setting("languages", "list", list(KNOWN_LANGUAGES), _l("Languages of applications"),
            help=_l("Language codes (ISO 639), one per line: vi, id, th, lo, km, my, ms, fil. "
                    "Add a code to accept applications in a further language.")),
    *(Setting(panel_setting(language), "choice", highest.value if highest else NOT_EVALUATED,
              _l("%(language)s: highest level the region's own panel awards", language=LazyString(language_label, language)),
              help=_l("Applications for a higher level, or in a language the panel does not evaluate, are "
                      "routed to entrusted evaluation."),
              choices=PANEL_LEVEL_CHOICES)
      for language, highest in DEFAULT_PANEL_LEVELS.items()),
    Setting("entrusted_body", "str", "", _l("Body in charge of entrusted evaluation"),
            help=_l("Leave blank for China International Communications Group (中国外文局).")),
    *(Setting(practice_setting(level), "int", years,
              _l("%(level)s: minimum years of translation practice", level=level.label), min=0, max=MAX_YEARS)
      for level, years in DEFAULT_MIN_PRACTICE_YEARS.items()),
    *(Setting(title_setting(level), "int", years,
              _l("%(level)s: minimum years in the title %(previous)s", level=level.label, previous=level.previous.label),
              min=0, max=MAX_YEARS)
      for level, years in DEFAULT_MIN_TITLE_YEARS.items()),
    Setting("required_documents", "list", DEFAULT_REQUIRED_DOCUMENTS, _l("Documents required before submission"),
            help=_l("Document codes, one per line: %(codes)s. The certificate of the current title is "
                    "always required from an applicant who holds a title.",
                    codes=", ".join(document.value for document in Document))),
)


def _int(value: Any, default: int) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def _codes(value: Any, default: list[str]) -> list[str]:
    if not isinstance(value, (list, tuple)):
        return list(default)
    return [str(item).strip() for item in value if str(item).strip()]


@dataclass(frozen=True)
class Rules:
    """The settings in effect for one station, typed."""

    languages: tuple[str, ...]
    panel_levels: dict[str, Level]  # the highest level the panel awards, per language it evaluates
    entrusted_body: str
    min_practice_years: dict[Level, int]
    min_title_years: dict[Level, int]
    required_documents: frozenset[str]

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> Rules:
        panel_levels = {}
        for language, default in DEFAULT_PANEL_LEVELS.items():
            value = values.get(panel_setting(language), default.value if default else NOT_EVALUATED)
            if value in LEVEL_CODES:
                panel_levels[language] = Level(value)
        return cls(
            languages=tuple(dict.fromkeys(_codes(values.get("languages"), list(KNOWN_LANGUAGES)))),
            panel_levels=panel_levels,
            entrusted_body=str(values.get("entrusted_body") or "").strip(),
            min_practice_years={level: _int(values.get(practice_setting(level)), default)
                                for level, default in DEFAULT_MIN_PRACTICE_YEARS.items()},
            min_title_years={level: _int(values.get(title_setting(level)), default)
                             for level, default in DEFAULT_MIN_TITLE_YEARS.items()},
            required_documents=frozenset(
                code for code in _codes(values.get("required_documents"), DEFAULT_REQUIRED_DOCUMENTS)
                if code in DOCUMENT_CODES),
        )

    @classmethod
    def for_station(cls, station_id: int) -> Rules:
        return cls.from_settings(activation.settings(PLUGIN, station_id=station_id))

    @property
    def panel_languages(self) -> frozenset[str]:
        """The languages the panel evaluates at some level."""
        return frozenset(self.panel_levels)

    def required_for(self, application) -> frozenset[str]:
        """The codes of the documents this application needs (the others, e.g. CATTI, are optional)."""
        return frozenset(document.value for document in required_documents(Candidate.of(application), self))

    @property
    def entrusted_body_label(self) -> str:
        return self.entrusted_body or _("China International Communications Group (中国外文局)")


# Routing -----------------------------------------------------------------------------------

def route_for(language: str, level: str, rules: Rules) -> Route:
    """Where an application is evaluated, unless an admin overrides it."""
    highest = rules.panel_levels.get(language)
    if highest is not None and Level(level).rank <= highest.rank:
        return Route.LOCAL
    return Route.ENTRUSTED


# Eligibility and completeness ----------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """What the rules look at, from an application or from a form being filled in."""

    level: str
    practice_years: int | None
    current_title: str | None = None
    current_title_since: date | None = None
    documents: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, application) -> Candidate:
        return cls(application.level, application.practice_years, application.current_title,
                   application.current_title_since, frozenset(application.documents or ()))


@dataclass(frozen=True)
class Problem:
    """An unmet rule: the form field it concerns and what to tell the user."""

    field: str
    message: str


def full_years(since: date, today: date) -> int:
    """Completed years between two dates (a title held since 2020-09-01 counts 3 on 2023-08-31)."""
    return today.year - since.year - ((today.month, today.day) < (since.month, since.day))


def eligibility_problems(candidate: Candidate, rules: Rules, today: date) -> list[Problem]:
    """Each rule of the level applied for that the candidate does not meet, explained."""
    try:
        level = Level(candidate.level)
    except ValueError:
        return []
    problems = []
    minimum = rules.min_practice_years[level]
    if candidate.practice_years is not None and candidate.practice_years < minimum:
        problems.append(Problem("practice_years", ngettext(
            "%(level)s requires at least %(num)d year of translation practice; %(given)d given.",
            "%(level)s requires at least %(num)d years of translation practice; %(given)d given.",
            minimum, level=level.label, given=candidate.practice_years)))
    held = Level(candidate.current_title) if candidate.current_title in LEVEL_CODES else None
    if held is not None and held.rank >= level.rank:
        problems.append(Problem("level", _(
            "The applicant already holds the title %(title)s: apply for a higher level.", title=held.label)))
        return problems
    previous = level.previous
    if previous is None:
        return problems
    if held is not previous:
        problems.append(Problem("current_title", _(
            "%(level)s is open to holders of the title %(previous)s; the applicant has no title yet.",
            level=level.label, previous=previous.label) if held is None else _(
            "%(level)s is open to holders of the title %(previous)s; the applicant holds %(title)s.",
            level=level.label, previous=previous.label, title=held.label)))
        return problems
    if candidate.current_title_since is None:
        problems.append(Problem("current_title_since", _("Give the date the current title was obtained.")))
        return problems
    minimum = rules.min_title_years[level]
    held_years = max(0, full_years(candidate.current_title_since, today))
    if held_years < minimum:
        problems.append(Problem("current_title_since", ngettext(
            "%(level)s requires at least %(num)d year as %(previous)s; %(held)d so far.",
            "%(level)s requires at least %(num)d years as %(previous)s; %(held)d so far.",
            minimum, level=level.label, previous=previous.label, held=held_years)))
    return problems


def required_documents(candidate: Candidate, rules: Rules) -> list[Document]:
    required = set(rules.required_documents)
    if candidate.current_title:
        required.add(Document.TITLE_CERTIFICATE.value)
    return [document for document in Document if document.value in required]


def missing_documents(candidate: Candidate, rules: Rules) -> list[Document]:
    return [document for document in required_documents(candidate, rules)
            if document.value not in candidate.documents]


def submission_problems(candidate: Candidate, rules: Rules, today: date) -> list[Problem]:
    """Everything that stops a submission: unmet eligibility rules and missing documents."""
    problems = eligibility_problems(candidate, rules, today)
    missing = missing_documents(candidate, rules)
    if missing:
        problems.append(Problem("documents", _(
            "Missing before submission: %(documents)s.",
            documents=format_list([str(document.label) for document in missing], locale=get_locale()))))
    return problems


def by_field(problems: list[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        grouped.setdefault(problem.field, []).append(problem.message)
    return grouped
