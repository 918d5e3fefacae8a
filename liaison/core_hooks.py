"""The core's own hook implementations: the core uses the plugin API it offers.

Registered as plugin ``core``, which is always active.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .i18n import country_name, display_name, phone_display
from .models import LandingKind, LeadCategory, LeadStatus, Priority, Role
from .plugins.hookspecs import hookimpl
from .plugins.types import ExportColumn, NavItem, PluginInfo

plugin_info = PluginInfo(
    name="core",
    title=_l("Core"),
    version="built-in",
    description=_l("Stations, contacts, talent leads and review."),
)


@hookimpl
def liaison_nav_items(user):
    items = [
        NavItem(_l("Stations"), "stations.index", order=10),
        NavItem(_l("Contacts"), "contacts.index", order=20),
        NavItem(_l("Leads"), "leads.index", order=30),
        NavItem(_l("Reports"), "reports.index", order=45),
        NavItem(_l("Scorecard"), "scorecard.index", order=46),
        NavItem(_l("Notices"), "notices.index", order=47),
        NavItem(_l("Events"), "events.index", order=35),
        NavItem(_l("Demands"), "demands.index", order=36),
        NavItem(_l("Appointments"), "appointments.index", order=76),
    ]
    if user.is_hq:
        items.append(NavItem(_l("Review queue"), "review.queue", order=40))
        items.append(NavItem(_l("Assignment"), "assignment.rules", order=41))
    if user.role in (Role.ADMIN, Role.REGIONAL_ADMIN):
        items.append(NavItem(_l("Users"), "admin.users", order=80))
        items.append(NavItem(_l("Plugins"), "plugins_admin.index", order=90))
    if user.is_admin:
        items.append(NavItem(_l("Regions"), "admin.regions", order=85))
        items.append(NavItem(_l("API tokens"), "api_tokens.admin_index", order=86))
    if user.is_hq or user.is_regional_admin:
        items.append(NavItem(_l("Duplicates"), "duplicates.index", order=50))
    if not user.is_hq or user.is_admin:
        items.append(NavItem(_l("Data subjects"), "rights.index", order=60))
    if user.is_admin or user.is_regional_admin:
        items.append(NavItem(_l("Access log"), "privacy_log.log", order=70))
        items.append(NavItem(_l("Exports"), "exports.index", order=75))
    return items


def _name(user) -> str:
    return user.name if user is not None else ""


@hookimpl
def liaison_export_columns(export):
    """Expects leads loaded with contact, station and reviewer; contacts with station, tag rows
    and language rows."""
    if export == "leads":
        return [
            ExportColumn("id", _l("Lead no."), lambda lead: lead.id),
            ExportColumn("status", _l("Status"), lambda lead: str(LeadStatus.label_of(lead.status))),
            ExportColumn("category", _l("Category"), lambda lead: str(LeadCategory.label_of(lead.category))),
            ExportColumn("priority", _l("Priority"), lambda lead: str(Priority(lead.priority).label)),
            ExportColumn("station", _l("Station"), lambda lead: display_name(lead.station)),
            ExportColumn("contact", _l("Contact"), lambda lead: lead.contact.name),
            ExportColumn("contact_zh", _l("Chinese name"), lambda lead: lead.contact.name_zh or ""),
            ExportColumn("field", _l("Field"), lambda lead: lead.field or ""),
            ExportColumn("summary", _l("Summary"), lambda lead: lead.summary),
            ExportColumn("submitted_at", _l("Submitted on"), lambda lead: lead.submitted_at),
            ExportColumn("reviewer", _l("Reviewer"), lambda lead: _name(lead.reviewer)),
            ExportColumn("referral_target", _l("Referred to"), lambda lead: lead.referral_target or ""),
            ExportColumn("landed_on", _l("Landed on"), lambda lead: lead.landed_on),
            ExportColumn("landing_kind", _l("What landed"), lambda lead: str(LandingKind.label_of(lead.landing_kind)) if lead.landing_kind else ""),
        ]
    if export == "contacts":
        return [
            ExportColumn("id", _l("Contact no."), lambda c: c.id),
            ExportColumn("name", _l("Name"), lambda c: c.name),
            ExportColumn("name_zh", _l("Chinese name"), lambda c: c.name_zh or ""),
            ExportColumn("name_original", _l("Name in original script"), lambda c: c.name_original or ""),
            ExportColumn("station", _l("Station"), lambda c: display_name(c.station)),
            ExportColumn("organisation", _l("Organisation"), lambda c: c.organisation or ""),
            ExportColumn("position", _l("Position"), lambda c: c.position or ""),
            ExportColumn("field", _l("Field"), lambda c: c.field or ""),
            ExportColumn("country", _l("Country"), lambda c: country_name(c.country)),
            ExportColumn("city", _l("City"), lambda c: c.city or ""),
            ExportColumn("email", _l("E-mail"), lambda c: c.email or ""),
            ExportColumn("phone", _l("Phone"), lambda c: phone_display(c.phone)),
            ExportColumn("languages", _l("Languages"), lambda c: c.languages or ""),
            ExportColumn("tags", _l("Tags"), lambda c: c.tags or ""),
        ]
    return None


@hookimpl
def liaison_panels(page, record, user):
    """The core areas' panels on a record's page: on a contact's, the demands from home that fit
    the contact and the contact's matches (``liaison.demands``)."""
    panels = []
    if page == "contact":
        from .demands.views import contact_panel

        panels.append(contact_panel(record, user))
    return [panel for panel in panels if panel is not None]


@hookimpl
def liaison_report_sections(period, stations):
    """The core areas' sections of the report page (called by ``liaison.reports.services``):
    demands and matches (``liaison.demands.reports``)."""
    from .demands.reports import section as demands_section
    from .events.reports import section as events_section

    return [events_section(period, stations), demands_section(period, stations)]


@hookimpl
def liaison_personal_data(contact):
    """The core areas' records about a person beyond contacts and leads: event registrations."""
    from .events.reports import subject_section

    return subject_section(contact)


@hookimpl
def liaison_erase_personal_data(contact, erasure):
    """Event registrations of the person are anonymised (the counts stay)."""
    from .events.reports import erase

    return erase(contact, erasure)
