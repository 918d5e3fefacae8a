"""The plugin's fixed vocabularies, each with translated labels (stored as short strings that the
database checks, see ``models.one_of``).

``Status`` is only the list of an agreement's states; how an agreement moves between them is
decided in ``lifecycle.py`` (the core's ``liaison.workflow``) and nowhere else.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from liaison.models.choices import Labelled

NAME = "skills_alliance"  # plugin name: prefix of tables, endpoints, branch


class MemberKind(Labelled):
    TECHNICIAN_COLLEGE = "technician_college"
    VOCATIONAL_SCHOOL = "vocational_school"
    ENTERPRISE = "enterprise"
    HR_AGENCY = "hr_agency"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.TECHNICIAN_COLLEGE: _l("Technician college"),
            cls.VOCATIONAL_SCHOOL: _l("Vocational school or college"),
            cls.ENTERPRISE: _l("Enterprise"),
            cls.HR_AGENCY: _l("Human-resources service agency"),
            cls.OTHER: _l("Other member institution"),
        }


class MemberStatus(Labelled):
    ACTIVE = "active"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            cls.ACTIVE: _l("Active member"),
            cls.LAPSED: _l("Membership lapsed"),
            cls.WITHDRAWN: _l("Withdrawn"),
        }


class AgreementKind(Labelled):
    SCHOOL_ENTERPRISE = "school_enterprise"
    SCHOOL_SCHOOL = "school_school"

    @classmethod
    def _labels(cls):
        return {
            cls.SCHOOL_ENTERPRISE: _l("School–enterprise cooperation"),
            cls.SCHOOL_SCHOOL: _l("School–school cooperation"),
        }


class Area(Labelled):
    """Areas of cooperation; each kind of agreement has its own (``AREAS_BY_KIND``)."""

    MAJORS = "majors"
    INTERNSHIPS = "internships"
    TRAINING = "training"
    VISITS = "visits"
    STUDENT_EXCHANGE = "student_exchange"
    TEACHER_TRAINING = "teacher_training"
    SISTER_SCHOOLS = "sister_schools"

    @classmethod
    def _labels(cls):
        return {
            cls.MAJORS: _l("Building majors together"),
            cls.INTERNSHIPS: _l("Employment and internships"),
            cls.TRAINING: _l("Training skilled workers"),
            cls.VISITS: _l("School visits"),
            cls.STUDENT_EXCHANGE: _l("Student exchange"),
            cls.TEACHER_TRAINING: _l("Further training of teachers and managers"),
            cls.SISTER_SCHOOLS: _l("Sister schools"),
        }


AREAS_BY_KIND = {
    AgreementKind.SCHOOL_ENTERPRISE: (Area.MAJORS, Area.INTERNSHIPS, Area.TRAINING),
    AgreementKind.SCHOOL_SCHOOL: (Area.VISITS, Area.STUDENT_EXCHANGE, Area.TEACHER_TRAINING, Area.SISTER_SCHOOLS),
}


class Status(Labelled):
    PROPOSED = "proposed"
    NEGOTIATION = "negotiation"
    SIGNED = "signed"
    IN_FORCE = "in_force"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @classmethod
    def _labels(cls):
        return {
            cls.PROPOSED: _l("Proposed"),
            cls.NEGOTIATION: _l("Negotiation"),
            cls.SIGNED: _l("Signed"),
            cls.IN_FORCE: _l("In force"),
            cls.EXPIRED: _l("Expired"),
            cls.TERMINATED: _l("Terminated"),
        }

    @property
    def badge(self) -> str:
        return {"proposed": "secondary", "negotiation": "info", "signed": "primary", "in_force": "success",
                "expired": "warning", "terminated": "dark"}[self.value]


CLOSED = frozenset({Status.TERMINATED})


class DocumentKind(Labelled):
    AGREEMENT = "agreement"
    ANNEX = "annex"
    CERTIFICATE = "certificate"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.AGREEMENT: _l("Framework agreement"),
            cls.ANNEX: _l("Annex or work plan"),
            cls.CERTIFICATE: _l("Certificate"),
            cls.OTHER: _l("Other document"),
        }


class EventKind(Labelled):
    CREATED = "created"
    STATUS = "status"
    DOCUMENT_ADDED = "document_added"
    MILESTONE_ADDED = "milestone_added"
    MILESTONE_DONE = "milestone_done"
    EDITED = "edited"
    MILESTONE_EDITED = "milestone_edited"
    MILESTONE_REMOVED = "milestone_removed"
    DOCUMENT_EDITED = "document_edited"
    DOCUMENT_REMOVED = "document_removed"

    @classmethod
    def _labels(cls):
        return {
            cls.CREATED: _l("Agreement recorded"),
            cls.STATUS: _l("Status changed"),
            cls.DOCUMENT_ADDED: _l("Document added"),
            cls.MILESTONE_ADDED: _l("Milestone planned"),
            cls.MILESTONE_DONE: _l("Milestone completed"),
            cls.EDITED: _l("Details edited"),
            cls.MILESTONE_EDITED: _l("Milestone changed"),
            cls.MILESTONE_REMOVED: _l("Milestone removed"),
            cls.DOCUMENT_EDITED: _l("Document changed"),
            cls.DOCUMENT_REMOVED: _l("Document removed"),
        }


# The details an edit may change, as the timeline names them ("Details edited: title, parties").
EDITED_FIELDS = {
    "title": _l("title"),
    "kind": _l("kind"),
    "notes": _l("notes"),
    "areas": _l("areas of cooperation"),
    "parties": _l("parties"),
}


class DomesticKind(Labelled):
    """What an international qualification is recognised as at home."""

    QUALIFICATION = "qualification"
    TITLE = "title"

    @classmethod
    def _labels(cls):
        return {
            cls.QUALIFICATION: _l("Vocational qualification"),
            cls.TITLE: _l("Professional title"),
        }


class Level(Labelled):
    """The domestic level a recognised qualification corresponds to."""

    JUNIOR = "junior"
    INTERMEDIATE = "intermediate"
    SENIOR = "senior"
    TECHNICIAN = "technician"
    SENIOR_TECHNICIAN = "senior_technician"

    @classmethod
    def _labels(cls):
        return {
            cls.JUNIOR: _l("Junior"),
            cls.INTERMEDIATE: _l("Intermediate"),
            cls.SENIOR: _l("Senior"),
            cls.TECHNICIAN: _l("Technician"),
            cls.SENIOR_TECHNICIAN: _l("Senior technician"),
        }
