"""The plugin's vocabularies: languages, title levels, routes, statuses, documents.

Stored values are short codes; labels are lazy gettext strings rendered in the viewer's language.
Languages are open-ended (a region may add one in the settings): they are ISO 639 codes named from
the CLDR locale data (``liaison.i18n.language_name``, which applies the glossary's 印尼语 and
柬埔寨语（高棉语）); the rest are closed enums.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from liaison.i18n import language_name
from liaison.models.choices import Labelled

PLUGIN = "asean_language_title"

# ISO 639 codes of the ASEAN minor languages, in the order the forms list them.
KNOWN_LANGUAGES = ("vi", "id", "th", "lo", "km", "my", "ms", "fil")


def language_label(code: str | None):
    """A language's name in the viewer's language, from the locale data."""
    return language_name(code)


def language_choices(codes) -> list[tuple[str, object]]:
    return [(code, language_label(code)) for code in codes]


class Level(Labelled):
    """Title levels of the translation series (翻译系列), lowest first: the order is the rank."""

    ASSISTANT = "assistant"
    TRANSLATOR = "translator"
    ASSOCIATE_SENIOR = "associate_senior"
    SENIOR = "senior"

    @classmethod
    def _labels(cls):
        return {
            cls.ASSISTANT: _l("Assistant Translator"),
            cls.TRANSLATOR: _l("Translator"),
            cls.ASSOCIATE_SENIOR: _l("Associate Senior Translator"),
            cls.SENIOR: _l("Senior Translator"),
        }

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def previous(self) -> Level | None:
        """The title one must hold before applying for this one."""
        return list(Level)[self.rank - 1] if self.rank else None

    @classmethod
    def at_least(cls, level: str) -> list[str]:
        """The codes of ``level`` and every higher level."""
        return [member.value for member in cls if member.rank >= cls(level).rank]


class Route(Labelled):
    LOCAL = "local"  # the region's own evaluation panel
    ENTRUSTED = "entrusted"  # 委托评审: the national body evaluates on the province's behalf

    @classmethod
    def _labels(cls):
        return {
            cls.LOCAL: _l("Regional panel"),
            cls.ENTRUSTED: _l("Entrusted evaluation"),
        }


class Status(Labelled):
    """Application states; the moves between them live in ``workflow``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    MATERIALS_CHECK = "materials_check"
    RETURNED = "returned"
    IN_EVALUATION = "in_evaluation"
    PASSED = "passed"
    NOT_PASSED = "not_passed"

    @classmethod
    def _labels(cls):
        return {
            cls.DRAFT: _l("Draft"),
            cls.SUBMITTED: _l("Submitted"),
            cls.MATERIALS_CHECK: _l("Materials check"),
            cls.RETURNED: _l("Returned for corrections"),
            cls.IN_EVALUATION: _l("In evaluation"),
            cls.PASSED: _l("Passed"),
            cls.NOT_PASSED: _l("Not passed"),
        }

    @property
    def badge(self) -> str:
        """Bootstrap colour of the status badge."""
        return STATUS_BADGES[self]


FINAL_STATUSES = frozenset({Status.PASSED, Status.NOT_PASSED})
OPEN_STATUSES = tuple(status for status in Status if status not in FINAL_STATUSES)
# The station may change the application only while it is in its hands.
EDITABLE_STATUSES = frozenset({Status.DRAFT, Status.RETURNED})
# Once the panel or the national body has the file, its route is fixed.
ROUTE_FIXED_STATUSES = frozenset({Status.IN_EVALUATION, Status.PASSED, Status.NOT_PASSED})

STATUS_BADGES = {
    Status.DRAFT: "secondary",
    Status.SUBMITTED: "primary",
    Status.MATERIALS_CHECK: "info",
    Status.RETURNED: "warning",
    Status.IN_EVALUATION: "info",
    Status.PASSED: "success",
    Status.NOT_PASSED: "danger",
}


class Document(Labelled):
    """The documents checklist of an application (what the station has collected)."""

    ID_DOCUMENT = "id_document"
    DEGREE_CERTIFICATE = "degree_certificate"
    TITLE_CERTIFICATE = "title_certificate"
    WORK_SAMPLES = "work_samples"
    EMPLOYER_RECOMMENDATION = "employer_recommendation"
    LANGUAGE_CERTIFICATE = "language_certificate"

    @classmethod
    def _labels(cls):
        return {
            cls.ID_DOCUMENT: _l("Identity document"),
            cls.DEGREE_CERTIFICATE: _l("Degree certificate"),
            cls.TITLE_CERTIFICATE: _l("Certificate of the current title"),
            cls.WORK_SAMPLES: _l("Work samples"),
            cls.EMPLOYER_RECOMMENDATION: _l("Employer's recommendation"),
            cls.LANGUAGE_CERTIFICATE: _l("Language or translation certificate (e.g. CATTI)"),
        }


class EventKind(Labelled):
    CREATED = "created"
    EDITED = "edited"
    STATUS = "status"
    ROUTE = "route"

    @classmethod
    def _labels(cls):
        return {
            cls.CREATED: _l("Created"),
            cls.EDITED: _l("Edited"),
            cls.STATUS: _l("Status changed"),
            cls.ROUTE: _l("Route changed"),
        }
