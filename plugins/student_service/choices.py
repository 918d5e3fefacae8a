"""The plugin's fixed vocabularies, each with translated labels (stored as short strings that the
database checks, see ``models.one_of``).

``Stage`` and ``RequestStatus`` are only the lists of states: how a student or a service request
moves between them is decided in ``workflow.py`` and nowhere else.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from liaison.models.choices import Labelled

NAME = "student_service"  # plugin name: prefix of tables, endpoints, branch


class Stage(Labelled):
    PROSPECTIVE = "prospective"
    ABROAD = "abroad"
    RETURNED = "returned"
    FOUNDED_COMPANY = "founded_company"
    EMPLOYED_AT_HOME = "employed_at_home"

    @classmethod
    def _labels(cls):
        return {
            cls.PROSPECTIVE: _l("Prospective student"),
            cls.ABROAD: _l("Studying abroad"),
            cls.RETURNED: _l("Returned"),
            cls.FOUNDED_COMPANY: _l("Founded a company"),
            cls.EMPLOYED_AT_HOME: _l("Employed at home"),
        }


STAGE_BADGES = {
    Stage.PROSPECTIVE: "secondary",
    Stage.ABROAD: "primary",
    Stage.RETURNED: "info",
    Stage.FOUNDED_COMPANY: "success",
    Stage.EMPLOYED_AT_HOME: "success",
}


class Level(Labelled):
    SECONDARY = "secondary"
    BACHELOR = "bachelor"
    MASTER = "master"
    DOCTORATE = "doctorate"
    VOCATIONAL = "vocational"
    LANGUAGE = "language"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.SECONDARY: _l("Secondary school"),
            cls.BACHELOR: _l("Bachelor's degree"),
            cls.MASTER: _l("Master's degree"),
            cls.DOCTORATE: _l("Doctorate"),
            cls.VOCATIONAL: _l("Vocational programme"),
            cls.LANGUAGE: _l("Language course"),
            cls.OTHER: _l("Other"),
        }


class Phase(Labelled):
    BEFORE = "before"
    DURING = "during"
    AFTER = "after"

    @classmethod
    def _labels(cls):
        return {cls.BEFORE: _l("Before study"), cls.DURING: _l("During study"), cls.AFTER: _l("After return")}


class ServiceKind(Labelled):
    POLICY_CONSULTATION = "policy_consultation"
    EXIT_ENTRY_TRAINING = "exit_entry_training"
    FIRST_AID_TRAINING = "first_aid_training"
    HEALTH_CONSULTATION = "health_consultation"
    COUNSELLING = "counselling"
    EMERGENCY_HELP = "emergency_help"
    FAMILY_CARE = "family_care"
    INTERNSHIP = "internship"
    JOB = "job"
    STARTUP_SUPPORT = "startup_support"
    POLICY_BENEFITS = "policy_benefits"

    @classmethod
    def _labels(cls):
        return {
            cls.POLICY_CONSULTATION: _l("Policy consultation"),
            cls.EXIT_ENTRY_TRAINING: _l("Exit-entry training"),
            cls.FIRST_AID_TRAINING: _l("First-aid training"),
            cls.HEALTH_CONSULTATION: _l("Online health consultation"),
            cls.COUNSELLING: _l("Counselling"),
            cls.EMERGENCY_HELP: _l("Emergency help"),
            cls.FAMILY_CARE: _l("Care for the family at home"),
            cls.INTERNSHIP: _l("Internship"),
            cls.JOB: _l("Job"),
            cls.STARTUP_SUPPORT: _l("Start-up support"),
            cls.POLICY_BENEFITS: _l("Policy benefits (政策兑现)"),
        }

    @property
    def phase(self) -> Phase:
        return PHASE_OF[self]

    @classmethod
    def grouped_choices(cls):
        """For a select with one group per phase."""
        return [(str(phase.label), [(k.value, k.label) for k in cls if k.phase is phase]) for phase in Phase]


PHASE_OF = {
    ServiceKind.POLICY_CONSULTATION: Phase.BEFORE,
    ServiceKind.EXIT_ENTRY_TRAINING: Phase.BEFORE,
    ServiceKind.FIRST_AID_TRAINING: Phase.BEFORE,
    ServiceKind.HEALTH_CONSULTATION: Phase.DURING,
    ServiceKind.COUNSELLING: Phase.DURING,
    ServiceKind.EMERGENCY_HELP: Phase.DURING,
    ServiceKind.FAMILY_CARE: Phase.DURING,
    ServiceKind.INTERNSHIP: Phase.AFTER,
    ServiceKind.JOB: Phase.AFTER,
    ServiceKind.STARTUP_SUPPORT: Phase.AFTER,
    ServiceKind.POLICY_BENEFITS: Phase.AFTER,
}


class RequestStatus(Labelled):
    OPEN = "open"
    REFERRED = "referred"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DECLINED = "declined"

    @classmethod
    def _labels(cls):
        return {
            cls.OPEN: _l("Open"),
            cls.REFERRED: _l("Referred"),
            cls.IN_PROGRESS: _l("In progress"),
            cls.DONE: _l("Done"),
            cls.DECLINED: _l("Declined"),
        }


CLOSED_REQUEST_STATUSES = frozenset({RequestStatus.DONE, RequestStatus.DECLINED})
OPEN_REQUEST_STATUSES = frozenset(set(RequestStatus) - CLOSED_REQUEST_STATUSES)


class Mark(Labelled):
    """A student's answer in a roll call."""

    PENDING = "pending"
    REACHED = "reached"
    SAFE = "safe"
    NEEDS_HELP = "needs_help"
    NOT_REACHED = "not_reached"

    @classmethod
    def _labels(cls):
        return {
            cls.PENDING: _l("Not yet tried"),
            cls.REACHED: _l("Reached"),
            cls.SAFE: _l("Safe"),
            cls.NEEDS_HELP: _l("Needs help"),
            cls.NOT_REACHED: _l("Not reached"),
        }


MARK_BADGES = {Mark.PENDING: "secondary", Mark.REACHED: "info", Mark.SAFE: "success",
               Mark.NEEDS_HELP: "danger", Mark.NOT_REACHED: "warning"}
# A student counts as reached once someone spoke to them (whatever they said).
REACHED_MARKS = frozenset({Mark.REACHED, Mark.SAFE, Mark.NEEDS_HELP})


class Channel(Labelled):
    PHONE = "phone"
    WECHAT = "wechat"
    EMAIL = "email"
    IN_PERSON = "in_person"
    FAMILY = "family"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.PHONE: _l("Phone"),
            cls.WECHAT: _l("WeChat"),
            cls.EMAIL: _l("E-mail"),
            cls.IN_PERSON: _l("In person"),
            cls.FAMILY: _l("Through the family"),
            cls.OTHER: _l("Other channel"),
        }


class ProgrammeKind(Labelled):
    INTERNSHIP = "internship"
    SUMMER_CAMP = "summer_camp"
    LECTURE = "lecture"

    @classmethod
    def _labels(cls):
        return {
            cls.INTERNSHIP: _l("Summer internship (海燕云集结)"),
            cls.SUMMER_CAMP: _l("Summer camp"),
            cls.LECTURE: _l("Lecture (留学那些事儿)"),
        }


class ApplicationStatus(Labelled):
    APPLIED = "applied"
    MATCHED = "matched"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            cls.APPLIED: _l("Applied"),
            cls.MATCHED: _l("Place given"),
            cls.DECLINED: _l("Not given a place"),
            cls.WITHDRAWN: _l("Withdrawn"),
        }



def labels(vocabulary: type[Labelled]) -> dict[str, str]:
    """``{value: translated label}`` of a vocabulary: what every row of a list shares, translated
    once per language (the core's ``translated_labels``)."""
    from liaison.templating import translated_labels

    return translated_labels(vocabulary)
