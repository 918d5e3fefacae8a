"""Which columns hold personal data, and how sensitive it is — declared once, here.

Every column of every table is classified (``"table.column"`` → ``Sensitivity``): the core's in
``CORE_FIELDS`` below, each plugin's through the ``liaison_personal_fields`` hook. Masking, the
subject access report, erasure, retention and the documentation read this declaration, and
``tests/test_privacy_classification.py`` fails when a mapped column is missing from it (a new
field cannot slip past) or when it names a column that no longer exists.

The rules used to classify:

* ``NONE`` — not about a person: ids and foreign keys (the personal data lives in the row they
  point to), codes and statuses, workflow dates, counts, the host organisations' and schools'
  names, technical tokens.
* ``NORMAL`` — identifies or describes a person: names in every script, contact details,
  organisation and position, where the person lives, languages, tags; the columns derived from
  them (search text and keys, sort keys, normalised e-mail and phone); free text written about
  people (notes, lead summaries, comments, the audit trail's details), which may name them.
* ``SENSITIVE`` — a leak would harm the person: credentials (password hashes, session tokens),
  identifiers of official documents (certificate numbers), the free notes about a contact (they
  may reveal health, beliefs or politics, which the law protects more strictly), and whole copies
  of contacts (a merge's and an import's before- and after-images, an uploaded file's rows).
"""
from __future__ import annotations

from flask import current_app, has_app_context

from ..models import Sensitivity

N, P, S = Sensitivity.NONE, Sensitivity.NORMAL, Sensitivity.SENSITIVE


def _table(table: str, /, **columns: Sensitivity) -> dict[str, Sensitivity]:
    return {f"{table}.{column}": sensitivity for column, sensitivity in columns.items()}


CORE_FIELDS: dict[str, Sensitivity] = {
    # People in the stations' networks -------------------------------------------------------
    **_table(
        "contacts",
        id=N, station_id=N, kind=N, name=P, name_zh=P, name_original=P, sort_key=P, organisation=P,
        position=P, field=P, country=P, city=P, email=P, email_normalized=P, phone=P, phone_e164=P,
        messaging=P, notes=S, submission_token=N, created_by_id=N, updated_by_id=N,
        search_text=P, erased_at=N, created_at=N, updated_at=N,
    ),
    **_table("contact_search_keys", contact_id=N, key=P),
    **_table("contact_tags", contact_id=N, tag=P, position=N),
    **_table("contact_languages", contact_id=N, language=P, position=N),
    # Duplicates and merges: name keys, and full copies of both contacts kept to undo a merge.
    **_table("contact_name_keys", contact_id=N, key=P),
    **_table(
        "duplicate_pairs",
        id=N, contact_a_id=N, contact_b_id=N, score=N, reasons=P, status=N, found_at=N, dismissed_at=N,
        dismissed_by_id=N,
    ),
    **_table(
        "contact_merges",
        id=N, created_at=N, actor_id=N, survivor_id=N, merged_id=N, survivor_station_id=N, merged_station_id=N,
        survivor_before=S, merged_before=S, survivor_after=S, moved=N, removed=P, plugin_data=P, undone_at=N,
        undone_by_id=N,
    ),
    # Imports: the uploaded file's rows and each imported row's before/after values.
    **_table(
        "imports",
        id=N, station_id=N, record_type=N, status=N, mode=N, filename=P, sha256=N, size=N, created_at=N,
        created_by_id=N, committed_at=N, reverted_at=N, reverted_by_id=N, header=N, mapping=N, rows=S, notices=P,
        total_rows=N, created_count=N, updated_count=N, skipped_count=N, error_count=N,
    ),
    **_table("import_rows", id=N, import_id=N, row_number=N, action=N, contact_id=N, before=S, after=S),
    # Talent leads: free text about the person ------------------------------------------------
    **_table(
        "leads",
        id=N, contact_id=N, station_id=N, submitter_id=N, category=N, field=P, summary=P, wants=P, offer=P,
        priority=N, status=N, reviewer_id=N, referral_target=N, landed_on=N, landing_kind=N, landing_note=P,
        submitted_at=N, status_changed_at=N, submission_token=N, version=N, search_text=P, created_at=N,
        updated_at=N, source_demand_id=N, source_event_id=N,
    ),
    **_table("lead_events", id=N, lead_id=N, actor_id=N, created_at=N, kind=N, from_status=N, to_status=N, text=P),
    **_table(
        "lead_attachments",
        id=N, lead_id=N, storage_key=N, filename=P, content_type=N, size=N, sha256=N, uploaded_by_id=N, created_at=N,
    ),
    # Stations, regions and the staff's accounts ----------------------------------------------
    **_table("regions", id=N, code=N, name=N, name_zh=N, created_at=N, updated_at=N),
    **_table(
        "stations",
        id=N, name=N, name_zh=N, sort_key=N, country=N, city=N, region_id=N, host_organisation=N, host_kind=N,
        established_on=N, status=N, contact_email=P, contact_phone=P, notes=P, created_at=N, updated_at=N,
        volunteers_may_export=N,
    ),
    **_table(
        "users",
        id=N, email=P, name=P, password_hash=S, role=N, active=N, locale=N, timezone=N, session_token=S,
        must_change_password=N, created_at=N, last_login_at=P,
    ),
    **_table("region_admins", user_id=N, region_id=N),
    **_table("station_memberships", user_id=N, station_id=N),
    # The audit trail and the plugin machinery ------------------------------------------------
    **_table(
        "audit_log",
        id=N, created_at=N, actor_id=N, action=N, object_type=N, object_id=N, region_id=N, station_id=N, details=P,
    ),
    # Reports: closed periods keep figures only.
    **_table(
        "report_periods",
        id=N, key=N, kind=N, starts_on=N, ends_on=N, closed=N, snapshot=N, closed_at=N, closed_by_id=N,
        reopened_at=N, reopened_by_id=N, reopen_reason=P,
    ),
    **_table("scorecard_weights", year=N, weights=N, updated_at=N, updated_by_id=N),
    **_table("lead_deadlines", status=N, days=N, reminder_days=N, updated_at=N, updated_by_id=N),
    # Notifications (their parameters may quote a contact's name) and the job queue.
    **_table(
        "notifications",
        id=N, user_id=N, kind=N, lead_id=N, station_id=N, actor_id=N, params=P, path=N, created_at=N, read_at=N,
        email_state=N,
    ),
    **_table("notification_preferences", user_id=N, kind=N, channel=N),
    # Policy notices (HQ's texts, not about people) and volunteers' appointments (about a volunteer).
    **_table(
        "policy_notices",
        id=N, slug=N, title=N, title_zh=N, body=N, body_zh=N, link=N, effective_from=N, effective_until=N,
        to_all=N, created_by_id=N, created_at=N,
    ),
    **_table("notice_targets", id=N, notice_id=N, kind=N, region_id=N, station_id=N, host_kind=N),
    **_table("notice_attachments", id=N, notice_id=N, position=N, label=N, url=N),
    **_table("notice_receipts", id=N, notice_id=N, user_id=N, read_at=N, acknowledged_at=N),
    **_table(
        "appointments",
        id=N, user_id=N, station_id=N, appointed_on=P, term_start=P, term_end=P, appointing_body=N,
        letter_number=P, created_by_id=N, created_at=N, ended_at=N,
    ),
    # Demands from home (liaison.demands): the organisation's texts are not about a person, its
    # contact person's name, phone and e-mail are; matches' notes and timeline notes may name people.
    **_table(
        "demands",
        id=N, title=N, organisation=N, source_kind=N, city=N, contact_name=P, contact_phone=P, contact_email=P,
        kind=N, requirements=N, salary_range=N, funding=N, policy_support=N, deadline=N, status=N,
        status_changed_at=N, created_by_id=N, search_text=N, version=N, created_at=N, updated_at=N,
    ),
    **_table("demand_fields", demand_id=N, field=N, folded=N, position=N),
    **_table("demand_regions", demand_id=N, region_id=N),
    **_table(
        "demand_matches",
        id=N, demand_id=N, contact_id=N, station_id=N, lead_id=N, event_id=N, stage=N, stage_changed_at=N, note=P,
        created_by_id=N, version=N, created_at=N, updated_at=N,
    ),
    **_table("demand_match_events", id=N, match_id=N, actor_id=N, created_at=N, from_stage=N, to_stage=N, note=P),
    **_table("event_demands", event_id=N, demand_id=N),
    # Events (liaison.events): the events themselves are not about a person (their notes may name
    # people); registrations hold the person's details as they gave them (public form, walk-in).
    **_table(
        "events",
        id=N, slug=N, kind=N, organiser=N, region_id=N, title=N, title_zh=N, description=N, starts_at=N, ends_at=N,
        timezone=N, venue=N, online_link=N, city=N, country=N, capacity=N, seats_taken=N, registration_opens_at=N,
        registration_closes_at=N, status=N, cancel_reason=P, participants=N, outcome_notes=P, created_by_id=N,
        version=N, created_at=N, updated_at=N,
    ),
    **_table("event_stations", event_id=N, station_id=N),
    **_table("event_target_fields", event_id=N, position=N, field=N),
    **_table("event_partners", event_id=N, position=N, name=N),
    **_table("event_photo_links", event_id=N, position=N, url=P),
    **_table(
        "event_registrations",
        id=N, event_id=N, contact_id=N, token=N, status=N, source=N, name=P, name_original=P, email=P,
        email_normalized=P, phone=P, phone_e164=P, organisation=P, field=P, country=P, search_text=P, sort_name=P,
        consent_given_at=N, consent_text_version=N, invited_at=N, invited_by_id=N, registered_at=N,
        checked_in_at=N, checked_in_by_id=N, created_at=N,
    ),
    # Saved views: a list's query string (its search text may name a person).
    **_table(
        "saved_views",
        id=N, user_id=N, endpoint=N, name=N, query=P, shared=N, region_id=N, created_at=N, updated_at=N,
    ),
    **_table(
        "job_runs",
        id=N, key=N, name=N, kwargs=P, status=N, attempts=N, last_error=P, created_at=N, updated_at=N,
        next_attempt_at=N, finished_at=N,
    ),
    # Assignment rules (liaison.assignment): who reviews what, no personal data.
    **_table(
        "assignment_rules",
        id=N, position=N, name=N, active=N, criterion=N, region_id=N, station_id=N, category=N, plugin=N,
        strategy=N, reviewer_id=N, last_user_id=N, created_at=N, created_by_id=N,
    ),
    **_table("assignment_rule_members", rule_id=N, user_id=N),
    # Exports: who exported what (the filters may hold a searched name) and how many rows per station.
    **_table("export_records", id=N, created_at=N, user_id=N, what=N, format=N, filters=P, rows=N, finished_at=N),
    **_table("export_stations", export_id=N, station_id=N, rows=N),
    **_table("plugin_errors", id=N, created_at=N, plugin=N, hook=N, error=P, traceback=P, path=N),
    **_table(
        "plugin_scopes",
        id=N, plugin=N, scope_key=N, region_id=N, station_id=N, enabled=N, settings=N, updated_at=N, updated_by_id=N,
    ),
    # Personal-data protection itself ---------------------------------------------------------
    **_table(
        "contact_consents",
        id=N, contact_id=N, purpose=N, basis=N, source=N, given_on=N, expires_on=N, evidence=P, text_version=N,
        recorded_by_id=N, recorded_at=N, withdrawn_at=N, withdrawn_by_id=N, withdrawal_note=P,
    ),
    **_table("privacy_reveals", id=N, user_id=N, contact_id=N, reason=N, note=P, created_at=N, expires_at=N),
    **_table(
        "privacy_access_log",
        id=N, created_at=N, user_id=N, contact_id=N, station_id=N, action=N, reason=N, note=P, record_count=N,
    ),
    **_table("privacy_access_log_fields", entry_id=N, field=N),
    **_table(
        "erasure_requests",
        id=N, contact_id=N, station_id=N, status=N, reason=P, requested_by_id=N, requested_at=N, decided_by_id=N,
        decided_at=N, decision_note=P, completed_at=N, reapplied_at=N, version=N,
    ),
    **_table("erasure_exceptions", id=N, erasure_id=N, plugin=N, record_type=N, record_id=N, reason=N),
    **_table(
        "erasure_flags", id=N, erasure_id=N, table_name=N, record_id=N, column_name=N, resolved_at=N, resolved_by_id=N,
    ),
    **_table("retention_runs", id=N, started_at=N, finished_at=N, dry_run=N, triggered_by_id=N),
    **_table("retention_run_counts", run_id=N, rule=N, count=N),
    # REST API (liaison.api): tokens (a hash of the secret, no personal data) and the stored answers of
    # creating requests, which may hold a created contact's fields.
    **_table(
        "api_tokens",
        id=N, user_id=N, name=N, prefix=N, secret_hash=N, access=N, expires_at=N, station_id=N, created_at=N,
        last_used_at=N, revoked_at=N, revoked_by_id=N,
    ),
    **_table("api_idempotency_keys", id=N, token_id=N, key=N, fingerprint=N, status_code=N, response=P, created_at=N),
}

CORE_TABLES: frozenset[str] = frozenset(name.split(".", 1)[0] for name in CORE_FIELDS)

_EXTENSION_KEY = "liaison_privacy_fields"


def _plugin_fields() -> tuple[dict[str, Sensitivity], dict[str, str]]:
    """The plugins' classifications, and which plugin declared each name. A result that is not
    a ``{"table.column": Sensitivity}`` dict is logged as the plugin's error and left out."""
    from ..plugins import host

    merged: dict[str, Sensitivity] = {}
    owners: dict[str, str] = {}
    for plugin, result in host().call("liaison_personal_fields", None):
        if not isinstance(result, dict):
            host().record_error(plugin, "liaison_personal_fields", TypeError("expected a dict of table.column: Sensitivity"))
            continue
        for name, value in result.items():
            try:
                sensitivity = Sensitivity(value)
            except ValueError:
                host().record_error(plugin, "liaison_personal_fields", ValueError(f"{name}: not a Sensitivity: {value!r}"))
                continue
            if not isinstance(name, str) or name.count(".") != 1:
                host().record_error(plugin, "liaison_personal_fields", ValueError(f"not a table.column name: {name!r}"))
                continue
            merged[name] = sensitivity
            owners[name] = plugin
    return merged, owners


def _merged() -> tuple[dict[str, Sensitivity], dict[str, str]]:
    if not has_app_context():
        return dict(CORE_FIELDS), {}
    cached = current_app.extensions.get(_EXTENSION_KEY)
    if cached is None:
        plugin_fields, owners = _plugin_fields()
        # A plugin cannot reclassify the core's columns (``problems`` reports the attempt).
        merged = {**{k: v for k, v in plugin_fields.items() if k not in CORE_FIELDS}, **CORE_FIELDS}
        cached = current_app.extensions[_EXTENSION_KEY] = (merged, owners)
    return cached


def fields() -> dict[str, Sensitivity]:
    """Every classified column, the core's and the installed plugins' (cached per app)."""
    return dict(_merged()[0])


def sensitivity(table: str, column: str) -> Sensitivity | None:
    """The classification of one column, ``None`` when it is not classified at all."""
    return _merged()[0].get(f"{table}.{column}")


def is_personal(name: str) -> bool:
    """``name`` is ``"table.column"``."""
    return _merged()[0].get(name, Sensitivity.NONE) != Sensitivity.NONE


def personal_columns(table: str) -> dict[str, Sensitivity]:
    """``{column: Sensitivity}`` of a table's personal columns (NORMAL or SENSITIVE)."""
    prefix = table + "."
    return {name[len(prefix):]: value for name, value in _merged()[0].items()
            if name.startswith(prefix) and value != Sensitivity.NONE}


def personal_fields() -> dict[str, Sensitivity]:
    """Every personal column, ``{"table.column": Sensitivity}`` (NORMAL or SENSITIVE)."""
    return {name: value for name, value in _merged()[0].items() if value != Sensitivity.NONE}


def text_columns_of_people(metadata=None) -> list[tuple[str, str]]:
    """``(table, column)`` of every personal column holding text (strings, text, JSON), in
    table order: what an erasure scans for a person's values and a subject report may quote."""
    from sqlalchemy import JSON, String

    from ..models import db

    metadata = metadata if metadata is not None else db.metadata
    personal = personal_fields()
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if f"{table.name}.{column.name}" in personal and isinstance(column.type, (String, JSON)):
                found.append((table.name, column.name))
    return found


def problems(metadata=None) -> list[str]:
    """What is wrong with the declaration against the mapped tables (empty when complete):
    unclassified columns, classifications of columns that do not exist, and plugins that try
    to reclassify a core column."""
    from ..models import db

    metadata = metadata if metadata is not None else db.metadata
    declared, owners = _merged()
    mapped = {f"{table.name}.{column.name}" for table in metadata.sorted_tables for column in table.columns}
    found = [f"not classified: {name}" for name in sorted(mapped - set(declared))]
    found += [f"classified but no such column: {name}" + (f" (plugin {owners[name]})" if name in owners else "")
              for name in sorted(set(declared) - mapped)]
    found += [f"plugin {owners[name]} may not reclassify the core's column {name}"
              for name in sorted(owners) if name in CORE_FIELDS]
    return found
