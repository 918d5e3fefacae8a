"""The plugin's fixed vocabularies, each with translated labels (stored as short strings).

``Stage`` is only the list of stages; how a partnership moves between them is decided in
``stages.py`` and nowhere else.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from liaison.models.choices import Labelled

NAME = "europe_school_partnership"  # plugin name: prefix of tables, endpoints, branch


class HomeKind(Labelled):
    """The Chinese side of a partnership."""

    VOCATIONAL_COLLEGE = "vocational_college"
    TECHNICIAN_COLLEGE = "technician_college"
    UNIVERSITY_SCHOOL = "university_school"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.VOCATIONAL_COLLEGE: _l("Vocational college"),
            cls.TECHNICIAN_COLLEGE: _l("Technician college"),
            cls.UNIVERSITY_SCHOOL: _l("University school"),
            cls.OTHER: _l("Other institution"),
        }


class PartnerKind(Labelled):
    """The European side."""

    UNIVERSITY = "university"
    VOCATIONAL_INSTITUTE = "vocational_institute"
    ART_DESIGN_SCHOOL = "art_design_school"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.UNIVERSITY: _l("University"),
            cls.VOCATIONAL_INSTITUTE: _l("Vocational or technical institute"),
            cls.ART_DESIGN_SCHOOL: _l("Art, design or fashion school"),
            cls.OTHER: _l("Other organisation"),
        }


class ProgrammeKind(Labelled):
    JOINT_3_2 = "joint_3_2"
    JOINT_2_1_1 = "joint_2_1_1"
    TEACHER_EXCHANGE = "teacher_exchange"
    STUDENT_EXCHANGE = "student_exchange"
    FLEXIBLE_TEACHERS = "flexible_teachers"
    SHORT_TRAINING = "short_training"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.JOINT_3_2: _l("3+2 joint training"),
            cls.JOINT_2_1_1: _l("2+1+1 joint training"),
            cls.TEACHER_EXCHANGE: _l("Teacher exchange"),
            cls.STUDENT_EXCHANGE: _l("Student exchange"),
            cls.FLEXIBLE_TEACHERS: _l("Flexible engagement of teachers"),
            cls.SHORT_TRAINING: _l("Short-term or summer training"),
            cls.OTHER: _l("Other cooperation"),
        }


class DocumentKind(Labelled):
    MOU = "mou"
    AGREEMENT = "agreement"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.MOU: _l("Memorandum of understanding"),
            cls.AGREEMENT: _l("Agreement"),
            cls.OTHER: _l("Other document"),
        }


class Stage(Labelled):
    FIRST_CONTACT = "first_contact"
    INTENT = "intent"
    NEGOTIATION = "negotiation"
    MOU_SIGNED = "mou_signed"
    AGREEMENT_SIGNED = "agreement_signed"
    ACTIVE = "active"
    CONCLUDED = "concluded"
    DROPPED = "dropped"

    @classmethod
    def _labels(cls):
        return {
            cls.FIRST_CONTACT: _l("First contact"),
            cls.INTENT: _l("Intent"),
            cls.NEGOTIATION: _l("Negotiation"),
            cls.MOU_SIGNED: _l("MoU signed"),
            cls.AGREEMENT_SIGNED: _l("Agreement signed"),
            cls.ACTIVE: _l("Programme active"),
            cls.CONCLUDED: _l("Concluded"),
            cls.DROPPED: _l("Dropped"),
        }

    @property
    def is_closed(self) -> bool:
        return self in CLOSED_STAGES

    @property
    def badge(self) -> str:
        """Bootstrap colour of the stage's badge."""
        return STAGE_BADGES[self]


CLOSED_STAGES = frozenset({Stage.CONCLUDED, Stage.DROPPED})
OPEN_STAGES = frozenset(set(Stage) - CLOSED_STAGES)

STAGE_BADGES = {
    Stage.FIRST_CONTACT: "secondary",
    Stage.INTENT: "info",
    Stage.NEGOTIATION: "primary",
    Stage.MOU_SIGNED: "warning",
    Stage.AGREEMENT_SIGNED: "success",
    Stage.ACTIVE: "success",
    Stage.CONCLUDED: "dark",
    Stage.DROPPED: "light",
}


class EventKind(Labelled):
    CREATED = "created"
    STAGE = "stage"
    EDITED = "edited"
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_REMOVED = "document_removed"
    NEXT_STEP = "next_step"
    NEXT_STEP_DONE = "next_step_done"
    NEXT_STEP_CLOSED = "next_step_closed"  # closed with the partnership
    DOCUMENT_WAIVED = "document_waived"  # a signing recorded without its document, with a reason

    @classmethod
    def _labels(cls):
        return {
            cls.CREATED: _l("Partnership recorded"),
            cls.STAGE: _l("Stage changed"),
            cls.EDITED: _l("Details edited"),
            cls.DOCUMENT_ADDED: _l("Document added"),
            cls.DOCUMENT_REMOVED: _l("Document removed"),
            cls.NEXT_STEP: _l("Next step set"),
            cls.NEXT_STEP_DONE: _l("Next step done"),
            cls.NEXT_STEP_CLOSED: _l("Next step closed with the partnership"),
            cls.DOCUMENT_WAIVED: _l("Signing recorded without its document"),
        }
