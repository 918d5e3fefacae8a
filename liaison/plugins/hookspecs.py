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
def liaison_plugin_access(user):
    """Return ``True`` to give ``user`` the plugin's pages although no station in the user's scope
    has the plugin on (``None``: no opinion; the core's rule stands).

    For a grant the plugin keeps itself — e.g. a role-scoped group such as a home county's service
    team whose members have no station. Called (per request, cached) only for plugins switched on
    somewhere and not already active for the user. The plugin then also gets its navigation items
    and home widgets for the user. It opens the *pages* only: every view must still scope its data
    (``scoped(..., plugin=NAME, also=...)``) so the user sees exactly what the grant covers and
    nothing of other stations; a view that is not scoped so must refuse such a user.
    """


@hookspec
def liaison_export_columns(export):
    """Return ``ExportColumn`` entries to append to a spreadsheet export.

    ``export`` is ``"leads"`` or ``"contacts"``. ``value(record)`` is called per row; records
    of stations where the plugin is inactive get an empty cell. Load what ``value`` needs in
    bulk (e.g. in a dict built once), not one query per row.
    """


@hookspec
def liaison_report_sections(period, stations):
    """Return a ``ReportSection`` (``liaison.reports.sections``) or a list of them: the plugin's
    figures on the report page (``/reports/``), each table with its chart and CSV download.

    ``period`` is a ``liaison.reports.periods.Period`` (``first`` and ``last`` day, both included,
    in the bureau's time zone; ``utc_bounds()`` gives ``[start, end)`` in naive UTC as stored);
    ``stations`` the ids of the stations the report covers (the viewer's scope and filters) where
    the plugin is active — it is called only when there is at least one. Count in SQL (GROUP BY),
    restricted to ``stations``; never one query per row. ``ReportTable.rows`` are the table's
    cells, the first one the row's label; ``chart="bar"`` or ``"line"`` draws ``series`` (column
    indexes) from those same rows.
    """


@hookspec
def liaison_scorecard_figures(year, station_ids):
    """Return a ``ScorecardFigure`` (``liaison.scorecard.services``) or a list of them: the
    plugin's figures on the yearly station scorecard (``/reports/scorecard/``), shown beside the
    core's figures (not weighted) and exported with them.

    ``year`` is the calendar year (an int, the bureau's time zone: ``liaison.reports.periods.named(str(year))``
    gives its bounds); ``station_ids`` the stations on the page where the plugin is active — it is
    called only when there is at least one. ``values`` maps a station id to a number; count in
    SQL (GROUP BY station), never one query per station.
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
    ``SENSITIVE``. ``liaison.privacy.classification`` merges these with the core's declaration
    (once per app, for every installed plugin, active or not); a test fails when any mapped column
    is missing from it or a declared one no longer exists. A plugin cannot reclassify the core's
    columns.
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

    Called for every installed plugin, before the core anonymises the contact (its values are
    still there: ``liaison.privacy.erasure.values_of(contact)``; ``strip_columns`` replaces them
    in free text and returns the flags). Must be idempotent: ``flask --app liaison privacy
    reapply-erasures`` calls it again after a backup is restored. Never commit.
    """


@hookspec
def liaison_retention_reasons():
    """Return ``{code: label}`` for the retention-exception reasons the plugin records; the
    erasure's page shows the label (a lazy string) next to each record kept."""


@hookspec
def liaison_retention_rules():
    """Return ``RetentionRule`` entries (``liaison.privacy.retention``) for the plugin's records:
    which records have been kept long enough and how to erase them. ``flask --app liaison
    retention run`` applies them with the core's rules.

    Called for every installed plugin. ``find(now)`` returns a ``select`` of the due records'
    ids (indexed SQL: it is read in batches and counted for dry runs); ``apply(ids, run)``
    handles them, returns how many, keeps the counts reports show and leaves nothing that
    ``find`` would select again. A dry run never calls ``apply``.
    """


# Duplicates (called for every installed plugin, switched on or not) -------------------------

@hookspec
def liaison_merge_contacts(survivor, merged):
    """Called when HQ (or a regional admin) merges the contact ``merged`` into ``survivor``,
    inside the merge's transaction, before the core moves the references; both contacts still
    exist. Raising (or failing) refuses the whole merge: nothing is written.

    Implement it only for what the core cannot see. The core already moves *every* row of every
    table with a foreign key to ``contacts.id`` — the plugin's tables included — to the survivor,
    removing a row the survivor already has under a unique key, and restores them on undo
    (``liaison.duplicates.services``). Data keyed otherwise (a contact id in JSON, a file named
    after a contact) is the hook's job.

    Return ``None`` when nothing needs to be recorded. A non-``None`` result (JSON-serialisable)
    is stored in the merge record; such a merge cannot be undone automatically, and its undo is
    refused with the plugin's name as the reason.
    """


# Notifications -------------------------------------------------------------------------------

@hookspec
def liaison_event_kinds():
    """Return ``EventKind`` entries (``liaison.events.kinds``): kinds of event the plugin adds to
    the core's (symposium, matchmaking, roadshow …). Called for every installed plugin; name each
    ``<plugin>.<kind>`` (other names are ignored and logged as the plugin's error).
    """


@hookspec
def liaison_notification_kinds():
    """Return ``NotificationKind`` entries (``liaison.notifications``) for the plugin's events.

    Called for every installed plugin. Name each kind ``<plugin>.<kind>``; its ``message`` is a
    lazy gettext text whose ``%(name)s`` placeholders are filled from the ``params`` given to
    ``liaison.notifications.notify`` (rendered in each reader's language), ``default`` the
    channel of users who chose none (``Channel.APP``, ``EMAIL``, ``DIGEST`` or ``OFF``). Users
    choose per kind on their notification settings page. To notify, the plugin calls
    ``notify("<plugin>.<kind>", user_ids, station_id=..., params=..., path=url_for(...))`` and
    commits: the fan-out runs as a job after the commit and drops everyone who may not see the
    station's records.
    """


# Imports -------------------------------------------------------------------------------------

@hookspec
def liaison_import_types():
    """Return ``ImportType`` entries (``liaison.imports.types``): record types of the plugin that
    a station may import from a spreadsheet, besides the core's contacts.

    Called for every installed plugin. Each entry names its ``key`` (``<plugin>.<type>``), a
    ``label``, the ``targets`` (columns: ``Target(key, label, max_length)``; headers are
    recognised by the label in every interface language and by the key), the ``required``
    targets, and ``create(station, values, actor) -> int``: add one record from a row's values
    (a dict of texts) to the session and return its id, raising ``ValueError`` with a message
    for a row it refuses. ``create`` runs inside the import's transaction: any failure leaves
    nothing written. ``remove(ids)`` (optional) deletes records an import created, for a
    revert; without it the import of that type cannot be reverted.
    """


# Search --------------------------------------------------------------------------------------

@hookspec
def liaison_search_results(q, user):
    """Return ``SearchResult`` items (``liaison.find.SearchResult``): the plugin's records matching
    the global search's ``q`` (trimmed, at most 100 characters; match it literally, e.g. with
    ``liaison.search.contains``), at most a few (the page shows five per kind; use ``LIMIT``,
    never count all matches).

    Called for plugins switched on somewhere in ``user``'s scope. Scope the query yourself with
    ``liaison.scope.scoped(stmt, Model, user, plugin=NAME)``: a record of a station the user may
    not see, or where the plugin is off, must not be returned. Never put a contact's masked
    fields (e-mail, phone, notes, original-script name) in ``title`` or ``detail``.
    """


# REST API --------------------------------------------------------------------------------------

@hookspec
def liaison_api_resources():
    """Return ``ApiResource`` entries (``liaison.api.resources``): the plugin's record types that
    the REST API exposes, read-only, at ``/api/v1/p/<plugin>/<name>/`` and ``…/<id>``.

    Called once per app at start-up for every installed plugin. Each entry names the URL segment
    ``name``, the station-owned ``model``, the marshmallow ``schema`` of one record (unique class
    name: it appears in the OpenAPI document), loader ``options`` and the list's ``order_by``.
    The API scopes every query itself (the token user's scope, the plugin's activation, a
    station-restricted token's station). Refer to contacts by id; never put a contact's masked
    fields in the schema.
    """
