"""Fixed vocabularies of the domain, each with translated labels.

Values are stored as short strings; labels are lazy gettext strings so that they render in the
viewer's language. ``Kind.choices()`` feeds WTForms select fields.
"""
from __future__ import annotations

from enum import IntEnum, StrEnum

from flask_babel import lazy_gettext as _l


class LabelMixin:
    """Members carry a translated label (see ``_labels``)."""

    @classmethod
    def _labels(cls) -> dict:  # pragma: no cover - every subclass overrides it
        raise TypeError(f"{cls.__name__} must define _labels()")

    @property
    def label(self):
        return type(self)._labels()[self]

    @classmethod
    def choices(cls) -> list[tuple[str, object]]:
        return [(member.value, member.label) for member in cls]

    @classmethod
    def label_of(cls, value: str | None):
        """The label of a stored value, or the value itself if it is not (or no longer) known."""
        try:
            return cls(value).label
        except ValueError:
            return value or ""


class Labelled(LabelMixin, StrEnum):
    """A string enum with labels."""


class Role(Labelled):
    VOLUNTEER = "volunteer"
    REGIONAL_ADMIN = "regional_admin"
    HQ_REVIEWER = "hq_reviewer"
    ADMIN = "admin"

    @classmethod
    def _labels(cls):
        return {
            cls.VOLUNTEER: _l("Liaison volunteer"),
            cls.REGIONAL_ADMIN: _l("Regional admin"),
            cls.HQ_REVIEWER: _l("HQ reviewer"),
            cls.ADMIN: _l("Administrator"),
        }


class HostKind(Labelled):
    CHINESE_ASSOCIATION = "chinese_association"
    ALUMNI_ASSOCIATION = "alumni_association"
    CHAMBER_OF_COMMERCE = "chamber_of_commerce"
    UNIVERSITY = "university"
    ENTERPRISE = "enterprise"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.CHINESE_ASSOCIATION: _l("Overseas Chinese association"),
            cls.ALUMNI_ASSOCIATION: _l("Alumni association"),
            cls.CHAMBER_OF_COMMERCE: _l("Chamber of commerce"),
            cls.UNIVERSITY: _l("University"),
            cls.ENTERPRISE: _l("Enterprise"),
            cls.OTHER: _l("Other"),
        }


class StationStatus(Labelled):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"

    @classmethod
    def _labels(cls):
        return {
            cls.ACTIVE: _l("Active"),
            cls.SUSPENDED: _l("Suspended"),
            cls.CLOSED: _l("Closed"),
        }


class ContactKind(Labelled):
    SCHOLAR = "scholar"
    RESEARCHER = "researcher"
    ENTREPRENEUR = "entrepreneur"
    PROFESSIONAL = "professional"
    STUDENT = "student"
    ORGANISATION = "organisation"

    @classmethod
    def _labels(cls):
        return {
            cls.SCHOLAR: _l("Scholar"),
            cls.RESEARCHER: _l("Researcher"),
            cls.ENTREPRENEUR: _l("Entrepreneur"),
            cls.PROFESSIONAL: _l("Professional"),
            cls.STUDENT: _l("Student"),
            cls.ORGANISATION: _l("Organisation"),
        }


class LeadCategory(Labelled):
    RETURN_STARTUP = "return_startup"
    EMPLOYMENT = "employment"
    FLEXIBLE = "flexible"
    PROJECT = "project"
    EXPERT_POOL = "expert_pool"
    INTERNSHIP = "internship"
    REFERRAL = "referral"

    @classmethod
    def _labels(cls):
        return {
            cls.RETURN_STARTUP: _l("Return to start a business"),
            cls.EMPLOYMENT: _l("Employment"),
            cls.FLEXIBLE: _l("Flexible engagement"),
            cls.PROJECT: _l("Project cooperation"),
            cls.EXPERT_POOL: _l("Expert for the expert pool"),
            cls.INTERNSHIP: _l("Student internship"),
            cls.REFERRAL: _l("Talent referral"),
        }


class Priority(LabelMixin, IntEnum):
    # Stored as a small integer so that "sort by priority" uses an index.
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @classmethod
    def _labels(cls):
        return {
            cls.LOW: _l("Low"),
            cls.NORMAL: _l("Normal"),
            cls.HIGH: _l("High"),
            cls.URGENT: _l("Urgent"),
        }


class LandingKind(Labelled):
    COMPANY_REGISTERED = "company_registered"
    HIRED = "hired"
    PROJECT_SIGNED = "project_signed"
    SERVICE_AGREEMENT = "service_agreement"

    @classmethod
    def _labels(cls):
        return {
            cls.COMPANY_REGISTERED: _l("Company registered"),
            cls.HIRED: _l("Hired"),
            cls.PROJECT_SIGNED: _l("Project signed"),
            cls.SERVICE_AGREEMENT: _l("Service agreement signed"),
        }


class LeadStatus(Labelled):
    """The states of a talent lead. The moves between them live in ``liaison.leads.workflow``."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    NEEDS_INFO = "needs_info"
    ACCEPTED = "accepted"
    REFERRED = "referred"
    LANDED = "landed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CLOSED_LOST = "closed_lost"

    @classmethod
    def _labels(cls):
        return {
            cls.DRAFT: _l("Draft"),
            cls.SUBMITTED: _l("Submitted"),
            cls.UNDER_REVIEW: _l("Under review"),
            cls.NEEDS_INFO: _l("Needs more information"),
            cls.ACCEPTED: _l("Accepted"),
            cls.REFERRED: _l("Referred"),
            cls.LANDED: _l("Landed"),
            cls.REJECTED: _l("Rejected"),
            cls.WITHDRAWN: _l("Withdrawn"),
            cls.CLOSED_LOST: _l("Closed (lost)"),
        }

    @property
    def is_open(self) -> bool:
        return self in OPEN_LEAD_STATUSES


OPEN_LEAD_STATUSES = frozenset(
    {
        LeadStatus.DRAFT,
        LeadStatus.SUBMITTED,
        LeadStatus.UNDER_REVIEW,
        LeadStatus.NEEDS_INFO,
        LeadStatus.ACCEPTED,
        LeadStatus.REFERRED,
    }
)


class LeadEventKind(Labelled):
    CREATED = "created"
    EDITED = "edited"
    STATUS = "status"
    COMMENT = "comment"
    ASSIGNED = "assigned"
    FILE_ADDED = "file_added"
    FILE_REMOVED = "file_removed"

    @classmethod
    def _labels(cls):
        return {
            cls.CREATED: _l("Created"),
            cls.EDITED: _l("Edited"),
            cls.STATUS: _l("Status changed"),
            cls.COMMENT: _l("Comment"),
            cls.ASSIGNED: _l("Reviewer assigned"),
            cls.FILE_ADDED: _l("File attached"),
            cls.FILE_REMOVED: _l("File removed"),
        }
