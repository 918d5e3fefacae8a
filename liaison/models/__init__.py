"""The core's data model. Plugins define their own models in their packages."""
from .assignment import AssignmentRule, RuleCriterion, RuleStrategy, assignment_rule_members
from .appointments import Appointment
from .attachment import LeadAttachment
from .audit import AuditEntry
from .base import Base, TimestampMixin, db, utcnow
from .choices import (
    OPEN_LEAD_STATUSES,
    ContactKind,
    HostKind,
    LandingKind,
    LeadCategory,
    LeadEventKind,
    LeadStatus,
    Priority,
    Role,
    StationStatus,
)
from .contact import Contact, ContactLanguage, ContactTag
from .exports import ExportRecord, ExportStation
from .duplicates import ContactMerge, DuplicatePair, PairStatus, contact_name_keys
from .imports import ImportBatch, ImportRow
from .lead import LeadEvent, TalentLead
from .notices import NoticeAttachment, NoticeReceipt, NoticeTarget, NoticeTargetKind, PolicyNotice
from .notifications import Channel, EmailState, JobRun, JobStatus, Notification, NotificationPreference
from .plugin import PluginError, PluginScope
from .privacy import (
    AccessAction,
    AccessLogEntry,
    AccessLogField,
    ConsentSource,
    ContactConsent,
    ErasureFlag,
    ErasureRequest,
    ErasureStatus,
    LawfulBasis,
    Purpose,
    RetentionException,
    RetentionRun,
    RetentionRunCount,
    RevealGrant,
    RevealReason,
    Sensitivity,
)
from .reports import ReportPeriod
from .saved_views import SavedView, Sharing
from .scorecard import ScorecardWeights
from .deadlines import LeadDeadline
from .station import Region, Station
from .user import User, region_admin, station_membership
from ..events.models import Event, EventRegistration, EventStation  # noqa: E402  (events' tables)
from ..api.models import ApiIdempotencyKey, ApiToken, TokenAccess  # noqa: E402  (the REST API's tables)
from ..demands.models import Demand, DemandField, DemandMatch, DemandMatchEvent, DemandRegion  # noqa: E402  (demands' tables)

__all__ = [
    "AuditEntry", "Base", "Contact", "ContactKind", "ContactLanguage", "ContactTag", "ImportBatch", "ImportRow", "HostKind", "LandingKind", "LeadCategory",
    "LeadAttachment", "LeadEvent", "LeadEventKind", "LeadStatus", "OPEN_LEAD_STATUSES", "PluginError", "PluginScope", "Priority", "Region", "Role",
    "Station", "StationStatus", "TalentLead", "TimestampMixin", "User", "db", "region_admin",
    "station_membership", "utcnow",
    "AccessAction", "AccessLogEntry", "AccessLogField", "ConsentSource", "ContactConsent", "ErasureFlag",
    "ErasureRequest", "ErasureStatus", "LawfulBasis", "Purpose", "RetentionException", "RetentionRun",
    "RetentionRunCount", "RevealGrant", "RevealReason", "Sensitivity",
    "ReportPeriod", "ScorecardWeights", "LeadDeadline",
    "ContactMerge", "DuplicatePair", "PairStatus", "contact_name_keys",
    "ExportRecord", "ExportStation",
    "Channel", "EmailState", "JobRun", "JobStatus", "Notification", "NotificationPreference",
    "SavedView", "Sharing",
    "AssignmentRule", "RuleCriterion", "RuleStrategy", "assignment_rule_members",
]
