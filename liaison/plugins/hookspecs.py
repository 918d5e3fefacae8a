"""Every hook a liaison plugin can implement.

Plugin authors write::

    from liaison import hookimpl

    @hookimpl
    def liaison_nav_items(user):
        return [NavItem(_l("Title assessments"), "asean_language_title.index")]

Names start with ``liaison_``; event hooks with ``liaison_event_``. pluggy passes only the
arguments an implementation asks for, so a hook can gain arguments without breaking plugins.

Two kinds of hook:

* **Start-up hooks** (blueprints, CLI commands, migration and translation directories) are
  called once when the app is created, for every installed plugin: routes and tables exist
  whether or not a plugin is switched on, so switching needs no restart.
* **Request hooks** (everything else) are called only for plugins *active* for the record or the
  user at hand (station → region → global → off, see ``liaison.plugins.activation``). Each
  implementation runs inside its own guard: an exception is logged with the plugin's name,
  listed on the admin's Plugins page, and the page renders without that contribution.

Hooks are called through pluggy (``PluginHost.call``), so ``firstresult`` hookspecs, hook
wrappers and pluggy's call monitoring work; ``LIAISON_TRACE_PLUGINS=1`` logs every call.

The reference documentation is ``docs/plugins.md``; a test fails when a hook is missing there.
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("liaison")
hookimpl = pluggy.HookimplMarker("liaison")


# Start-up -------------------------------------------------------------------------------

@hookspec
def liaison_blueprints():
    """Return the plugin's Flask blueprints (an iterable of ``flask.Blueprint``).

    Called once in ``create_app``. Name each blueprint after the plugin (its endpoints are then
    ``<plugin>.<view>``) and mount it under ``/p/<plugin>``. The core answers 404 for every
    route of a blueprint whose plugin is inactive for the current user; views showing one
    record must still check activation for that record — load it with
    ``liaison.scope.get_or_404(Model, id, plugin=NAME)`` (404 out of scope or where the plugin
    is off) and lists with ``scoped(stmt, Model, plugin=NAME)``.
    """


@hookspec
def liaison_cli_commands():
    """Return click commands or groups to add to ``flask --app liaison``.

    Called once in ``create_app``. Prefix group names with the plugin's name.
    """


@hookspec
def liaison_migration_dirs():
    """Return directories holding the plugin's Alembic revisions (its own branch).

    Called when Alembic is configured. The branch label must be the plugin's name and the
    first revision should ``depends_on`` the core revision its tables refer to. The
    README's ``flask --app liaison db upgrade heads`` applies every branch.
    """


@hookspec
def liaison_translation_dirs():
    """Return directories holding the plugin's gettext catalogs (``<dir>/<locale>/LC_MESSAGES/messages.po``).

    Called once in ``create_app``; the catalogs are merged with the core's.
    """


@hookspec
def liaison_demo_data(app):
    """Add the plugin's demo records after the core's (``flask --app liaison demo load``).

    Must be idempotent: find records by natural keys and add only what is missing. A plugin
    may also switch itself on for the regions it suits here (only where no switch exists yet).
    """


# Forms ------------------------------------------------------------------------------------

@hookspec
def liaison_form_fields(form, station):
    """Return extra fields for a core form, as ``{name: unbound WTForms field}``.

    ``form`` is ``"lead"`` or ``"contact"``; ``station`` is the station the record belongs
    to. The core builds a subclass of its form class for this request only (the core class is
    never changed) and prefixes each name with ``<plugin>__``. Validators of the fields run
    with the core's; errors are shown next to the fields.
    """


@hookspec
def liaison_form_data(form, record):
    """Return ``{name: value}`` to prefill the plugin's extra fields when ``record`` is edited.

    ``form`` is ``"lead"`` or ``"contact"``; names are the plugin's own, without prefix.
    """


@hookspec
def liaison_form_saved(form, record, data, user):
    """Store the plugin's extra field values after the core saved ``record``.

    ``data`` holds this plugin's fields only, names without prefix. Called inside the core's
    transaction within a savepoint: if the plugin fails, its part is rolled back and logged,
    and the core record is still saved.
    """


@hookspec
def liaison_validate_lead(lead, action):
    """Return a list of problems (strings) that stop ``action`` on ``lead``.

    ``action`` is ``"save"`` (a draft is saved) or ``"submit"`` (the station submits it to HQ).
    An empty list, or ``None``, means no objection. A plugin that raises does not block the
    action: its error is logged instead.
    """


# Pages --------------------------------------------------------------------------------------

@hookspec
def liaison_panels(page, record, user):
    """Return a ``Panel`` or a list of them for a record's page.

    ``page`` is ``"lead"``, ``"contact"`` or ``"station"`` and ``record`` the record shown
    (in the viewer's scope). ``Panel.body`` is escaped unless it is ``markupsafe.Markup``
    (e.g. the result of ``render_template``).
    """


@hookspec
def liaison_nav_items(user):
    """Return ``NavItem`` entries for the main navigation of ``user``."""


@hookspec
def liaison_home_widgets(user):
    """Return ``Widget`` cards for the home page of ``user``."""


@hookspec
def liaison_export_columns(export):
    """Return ``ExportColumn`` entries to append to a spreadsheet export.

    ``export`` is ``"leads"`` or ``"contacts"``. ``value(record)`` is called per row; records
    of stations where the plugin is inactive get an empty cell. Load what ``value`` needs in
    bulk (e.g. in a dict built once), not one query per row.
    """


# Events (after commit) ------------------------------------------------------------------

@hookspec
def liaison_event_lead_created(lead, user):
    """Called after a new lead (a draft) has been committed."""


@hookspec
def liaison_event_lead_submitted(lead, user):
    """Called after a lead has been submitted (or resubmitted) to HQ and committed."""


@hookspec
def liaison_event_lead_status_changed(lead, event, user):
    """Called after any status change of a lead has been committed; ``event`` is its ``LeadEvent``."""


@hookspec
def liaison_event_contact_created(contact, user):
    """Called after a new contact has been committed."""


@hookspec
def liaison_event_station_created(station, user):
    """Called after a new station has been committed."""


# Personal data (called for every installed plugin, switched on or not) ---------------------
# A person's data must be classified, reported and erased wherever it is, including in plugins
# that a region has since switched off. See docs/privacy.md.

@hookspec
def liaison_personal_fields():
    """Classify every column of the plugin's tables: return ``{"table.column": Sensitivity}``.

    ``Sensitivity`` (``liaison.models.Sensitivity``) is ``NONE`` (not personal), ``NORMAL`` or
    ``SENSITIVE``. ``liaison.privacy.classification`` merges these with the core's declaration;
    a test fails when any mapped column is missing from it.
    """


@hookspec
def liaison_personal_data(contact):
    """Return ``SubjectSection`` entries (``liaison.privacy.subject``) with what the plugin holds
    about ``contact``, for the person's subject access report (HTML and JSON).

    Include every record linked to the contact, with its personal fields unmasked: the report is
    for the person themself.
    """


@hookspec
def liaison_erase_personal_data(contact, erasure):
    """Erase or anonymise what the plugin holds about ``contact``; ``erasure`` is the approved
    ``ErasureRequest``. Runs inside the erasure's transaction: raising aborts the whole erasure.

    Return an ``ErasureOutcome`` (``liaison.privacy.erasure``) listing the records kept as
    retention exceptions (with a reason code the plugin labels through
    ``liaison_retention_reasons``) and the free-text fields flagged for review. Never keep the
    erased values anywhere, not even in the plugin's own history tables.
    """


@hookspec
def liaison_retention_reasons():
    """Return ``{code: label}`` for the retention-exception reasons the plugin records."""


@hookspec
def liaison_retention_rules():
    """Return ``RetentionRule`` entries (``liaison.privacy.retention``) for the plugin's records:
    which records have been kept long enough and how to erase them. ``flask --app liaison
    retention run`` applies them with the core's rules.
    """
