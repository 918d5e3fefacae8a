"""Retention that runs: rules per record kind, applied once a day by ``flask --app liaison jobs
run-due`` (the ``privacy.retention`` job, keyed by the date) or by hand with ``flask --app liaison
retention run``.

A ``RetentionRule`` says which records have been kept long enough (``find(now)``: a select of
their ids, in indexed SQL) and what to do with them (``apply(ids, run)``: returns how many it
handled). The core has two rules; plugins add theirs through the ``liaison_retention_rules``
hook (every installed plugin, whether or not it is switched on anywhere: its records exist either
way).

* ``core.inactive_contacts`` — contacts with no activity for ``RETENTION_CONTACT_YEARS`` (default
  5): the contact was not edited, none of its leads changed, no lawful basis was recorded for it
  and it has no open lead and no pending erasure request. They are anonymised as a system erasure
  (``liaison.privacy.erasure.anonymise_contact``): the same erasure as the two-person one, with
  its retention exceptions, so the report figures do not change.
* ``core.closed_leads`` — leads closed without landing (rejected, withdrawn, closed as lost) whose
  status has not changed for ``RETENTION_REJECTED_LEAD_YEARS`` (default 3): the personal free text
  goes (summary replaced by a placeholder, wants, offer, field and the landing note emptied, the
  texts of the timeline emptied, attached files deleted); the lead, its status, category, station
  and dates stay, so every count stays.

``run(dry_run)`` applies every rule in batches (never loading a whole table) and stores a
``RetentionRun`` with one ``RetentionRunCount`` per rule: how many records matched (a dry run,
which changes nothing else) or were handled (a run). A rule that fails is logged (a plugin's on
the Plugins page) and the others go on.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, or_, select, update

from .. import jobs
from ..models import (
    Contact,
    ContactConsent,
    ErasureRequest,
    ErasureStatus,
    LeadAttachment,
    LeadEvent,
    LeadEventKind,
    LeadStatus,
    RetentionRun,
    RetentionRunCount,
    TalentLead,
    User,
    db,
    utcnow,
)
from ..models.choices import OPEN_LEAD_STATUSES
from ..search import lead_search_text
from .erasure import PLACEHOLDER as ERASED_PLACEHOLDER  # a lead its contact's erasure stripped

log = logging.getLogger(__name__)

BATCH_SIZE = 200
HOOK = "liaison_retention_rules"

# Leads closed without landing: the closed statuses other than LANDED.
CLOSED_NOT_LANDED = (LeadStatus.REJECTED, LeadStatus.WITHDRAWN, LeadStatus.CLOSED_LOST)

# What a handled lead's summary becomes (stored once, in both languages: it is data, not UI).
LEAD_PLACEHOLDER = "[已按保存期限删除 · Removed after the retention period]"
LEAD_NOTE = "已按保存期限删除线索的个人文字和附件 · Personal text and files removed after the retention period"

INACTIVE_CONTACT_REASON = "retention:inactive_contact"


@dataclass(frozen=True)
class RetentionRule:
    """One retention rule.

    ``code`` identifies it in the run counts (a plugin's is stored as ``<plugin>.<code>``);
    ``label`` and ``record_kind`` are shown on the retention page and printed by the command;
    ``describe`` says what it does, with its settings, in a sentence; ``find(now)`` returns a
    ``select`` of one column, the ids of the records due at ``now`` (naive UTC); ``apply(ids,
    run)`` handles those records (the ``RetentionRun`` in progress: ``run.triggered_by_id`` is
    the user who started it, ``None`` for cron) and returns how many it handled; it may append
    the ids it could not handle to ``run.failed_ids`` (they are counted and logged, and the run
    goes on). ``apply`` may commit; the runner commits after each batch. ``settings`` lists
    ``(configuration key, value)`` pairs for the page.
    """

    code: str
    label: Any
    record_kind: Any
    describe: Any
    find: Callable[[datetime], Select]
    apply: Callable[[list[int], RetentionRun], int]
    settings: tuple[tuple[str, Any], ...] = ()
    plugin: str = "core"

    @property
    def key(self) -> str:
        """The name stored in ``RetentionRunCount.rule``."""
        if self.plugin == "core" or self.code.startswith(self.plugin + "."):
            return self.code[:80]
        return f"{self.plugin}.{self.code}"[:80]


@dataclass
class RuleResult:
    rule: RetentionRule
    matched: int = 0
    handled: int = 0
    failed: int = 0  # records ``apply`` could not handle (e.g. an erasure that raised)
    error: str | None = None  # the rule itself failed


# The core's rules -------------------------------------------------------------------------

def years_ago(now: datetime, years: int) -> datetime:
    """``now`` minus whole calendar years (29 February becomes 28 February)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def _years(key: str) -> int:
    value = int(current_app.config[key])
    if value < 1:
        raise ValueError(f"{key} must be at least 1 (years)")
    return value


def inactive_contacts(now: datetime) -> Select:
    """Contacts untouched for RETENTION_CONTACT_YEARS, without an open or recently changed lead,
    without a recently recorded basis and without a pending erasure request."""
    cutoff = years_ago(now, _years("RETENTION_CONTACT_YEARS"))
    lead_activity = exists().where(
        TalentLead.contact_id == Contact.id,
        or_(TalentLead.status.in_([s.value for s in OPEN_LEAD_STATUSES]), TalentLead.updated_at >= cutoff),
    )
    recent_basis = exists().where(ContactConsent.contact_id == Contact.id,
                                  or_(ContactConsent.recorded_at >= cutoff, ContactConsent.withdrawn_at >= cutoff))
    pending_erasure = exists().where(ErasureRequest.contact_id == Contact.id,
                                     ErasureRequest.status == ErasureStatus.REQUESTED)
    return select(Contact.id).where(
        Contact.erased_at.is_(None), Contact.updated_at < cutoff,
        ~lead_activity, ~recent_basis, ~pending_erasure,
    )


def anonymise_contacts(ids: list[int], run: RetentionRun) -> int:
    """Anonymise each contact as a system erasure, one transaction per contact."""
    from . import erasure

    actor = db.session.get(User, run.triggered_by_id) if run.triggered_by_id else None
    handled = 0
    for contact_id in ids:
        contact = db.session.get(Contact, contact_id)
        if contact is None or contact.erased_at is not None:
            continue
        try:
            erasure.anonymise_contact(contact, actor=actor, reason_code=INACTIVE_CONTACT_REASON)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("retention: contact %s could not be anonymised", contact_id)
            run.failed_ids.append(contact_id)
            continue
        handled += 1
    return handled


def closed_leads(now: datetime) -> Select:
    """Leads closed without landing whose status last changed before the cutoff, not yet handled.

    ``status IN (…)`` is the first column of ``ix_leads_report``."""
    cutoff = years_ago(now, _years("RETENTION_REJECTED_LEAD_YEARS"))
    return select(TalentLead.id).where(
        TalentLead.status.in_([s.value for s in CLOSED_NOT_LANDED]),
        TalentLead.status_changed_at < cutoff,
        # Not yet handled: neither by this rule nor by the erasure of the lead's contact.
        TalentLead.summary.not_in([LEAD_PLACEHOLDER, ERASED_PLACEHOLDER]),
    )


def strip_closed_leads(ids: list[int], run: RetentionRun) -> int:
    """Erase the personal free text and the files of the leads ``ids``; keep the rest.

    Set-based: one UPDATE of the leads (``updated_at`` kept as it was, so that the erasure is no
    "activity" of the contact; ``version`` moved on, so that an edit form open on one of them
    is refused), one of their timeline texts, one DELETE of their attachments' rows, one
    timeline entry per lead; the files go after the commit."""
    from ..leads import files

    if not ids:
        return 0
    leads = TalentLead.__table__
    events = LeadEvent.__table__
    handled = list(db.session.scalars(
        update(leads).where(leads.c.id.in_(ids), leads.c.summary.not_in([LEAD_PLACEHOLDER, ERASED_PLACEHOLDER]))
        .values(summary=LEAD_PLACEHOLDER, wants=None, offer=None, field=None, landing_note=None,
                search_text=lead_search_text(LEAD_PLACEHOLDER, None),
                updated_at=leads.c.updated_at, version=leads.c.version + 1)
        .returning(leads.c.id)
    ))
    if not handled:
        db.session.rollback()
        return 0
    keys = db.session.scalars(select(LeadAttachment.storage_key).where(LeadAttachment.lead_id.in_(handled))).all()
    db.session.execute(update(events).where(events.c.lead_id.in_(handled), events.c.text.is_not(None))
                       .values(text=None))
    db.session.execute(delete(LeadAttachment.__table__).where(LeadAttachment.__table__.c.lead_id.in_(handled)))
    now = utcnow()
    db.session.execute(events.insert(), [
        {"lead_id": lead_id, "actor_id": run.triggered_by_id, "created_at": now, "kind": LeadEventKind.EDITED.value,
         "text": LEAD_NOTE} for lead_id in handled
    ])
    db.session.commit()
    files.discard(path for path in map(files.path_of, keys) if path is not None)
    return len(handled)


def core_rules() -> list[RetentionRule]:
    contact_years = current_app.config["RETENTION_CONTACT_YEARS"]
    lead_years = current_app.config["RETENTION_REJECTED_LEAD_YEARS"]
    return [
        RetentionRule(
            code="core.inactive_contacts",
            label=_l("Inactive contacts"),
            record_kind=_l("Contacts"),
            describe=_l("Contacts with no activity for %(years)s years (not edited, no lead changed, no lawful basis "
                        "recorded), no open lead and no pending erasure request are anonymised like an erasure; "
                        "landed leads are kept as retention exceptions and every count stays.", years=contact_years),
            find=inactive_contacts,
            apply=anonymise_contacts,
            settings=(("RETENTION_CONTACT_YEARS", contact_years),),
        ),
        RetentionRule(
            code="core.closed_leads",
            label=_l("Leads closed without landing"),
            record_kind=_l("Talent leads"),
            describe=_l("Rejected, withdrawn and lost leads whose status has not changed for %(years)s years lose "
                        "their personal free text (summary, wants, offer, field, timeline texts) and their files; "
                        "the lead, its status, category, station and dates stay, so every count stays.",
                        years=lead_years),
            find=closed_leads,
            apply=strip_closed_leads,
            settings=(("RETENTION_REJECTED_LEAD_YEARS", lead_years),),
        ),
    ]


# All the rules ------------------------------------------------------------------------------

def plugin_rules() -> list[RetentionRule]:
    """The rules of every installed plugin (``liaison_retention_rules``); anything that is not a
    ``RetentionRule``, or repeats another rule's code, is recorded as the plugin's error."""
    from ..plugins.manager import host

    rules: list[RetentionRule] = []
    for plugin, result in host().call(HOOK, active=None):
        for item in result if isinstance(result, (list, tuple)) else [result]:
            if not isinstance(item, RetentionRule):
                host().record_error(plugin, HOOK, TypeError(f"expected RetentionRule, got {type(item).__name__}"))
                continue
            rules.append(dataclasses.replace(item, plugin=plugin))
    return rules


def rules() -> list[RetentionRule]:
    from ..plugins.manager import host

    found: list[RetentionRule] = []
    seen: set[str] = set()
    for rule in core_rules() + plugin_rules():
        if rule.key in seen:
            host().record_error(rule.plugin, HOOK, ValueError(f"a retention rule {rule.key!r} exists already"))
            continue
        seen.add(rule.key)
        found.append(rule)
    return found


def _batches(rule: RetentionRule, now: datetime) -> Iterator[list[int]]:
    """The ids ``rule.find(now)`` selects, in ascending batches (a keyset on the id)."""
    last = 0
    while True:
        found = rule.find(now).subquery()
        id_ = found.c[0]
        ids = list(db.session.scalars(select(id_).where(id_ > last).order_by(id_).limit(BATCH_SIZE)))
        db.session.rollback()  # end the read: no transaction stays open between batches
        if not ids:
            return
        yield ids
        last = ids[-1]


def count_matching(rule: RetentionRule, now: datetime) -> int:
    return db.session.scalar(select(func.count()).select_from(rule.find(now).subquery())) or 0


def run(dry_run: bool, actor: User | None = None, *, now: datetime | None = None) -> RetentionRun:
    """Apply every rule (``dry_run``: only count what each would handle) and store the run.

    Returns the stored ``RetentionRun``; ``run.results`` holds a ``RuleResult`` per rule (what
    the command prints: matched, handled, failed records, the rule's error)."""
    from ..plugins.manager import host

    now = now or utcnow()
    retention_run = RetentionRun(started_at=utcnow(), dry_run=dry_run,
                                 triggered_by_id=actor.id if actor is not None else None)
    retention_run.failed_ids = []
    db.session.add(retention_run)
    db.session.commit()
    run_id = retention_run.id
    results: list[RuleResult] = []
    for rule in rules():
        result = RuleResult(rule)
        results.append(result)
        try:
            result.matched = count_matching(rule, now)
            if not dry_run and result.matched:
                failures = retention_run.failed_ids = []
                # The keyset moves past every batch, so a record that failed is not tried again.
                for ids in _batches(rule, now):
                    result.handled += int(rule.apply(ids, retention_run) or 0)
                    db.session.commit()
                result.failed = len(set(failures))
        except Exception as exc:
            db.session.rollback()
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            if rule.plugin == "core":
                log.exception("retention rule %s failed", rule.key)
            else:
                host().record_error(rule.plugin, HOOK, exc)
        db.session.rollback()
    failed_ids = retention_run.failed_ids
    retention_run = db.session.get(RetentionRun, run_id)  # the same object, reloaded
    retention_run.failed_ids = failed_ids
    retention_run.finished_at = utcnow()
    for result in results:
        # A rule that failed has no count, unless it had handled records before it failed.
        if result.error is None or (not dry_run and result.handled):
            db.session.add(RetentionRunCount(run_id=run_id, rule=result.rule.key,
                                             count=result.matched if dry_run else result.handled))
    db.session.commit()
    retention_run.results = results
    return retention_run


def recent_runs(limit: int = 20) -> list[RetentionRun]:
    from sqlalchemy.orm import selectinload

    return list(db.session.scalars(
        select(RetentionRun).options(selectinload(RetentionRun.counts))
        .order_by(RetentionRun.started_at.desc(), RetentionRun.id.desc()).limit(limit)
    ))


# The daily job (``jobs run-due``) -----------------------------------------------------------

def _problems(done: RetentionRun) -> list[str]:
    problems = []
    for result in done.results:
        if result.error:
            problems.append(f"{result.rule.key}: {result.error}")
        elif result.failed:
            problems.append(f"{result.rule.key}: {result.failed} record(s) could not be handled")
    return problems


@jobs.scheduled("privacy.retention")
def queue_daily_run() -> int:
    """Every ``jobs run-due``: the day's retention run, once a day (its key is the date). Off
    with ``RETENTION_DAILY = False`` (then run ``flask --app liaison retention run`` yourself)."""
    if not current_app.config.get("RETENTION_DAILY", True):
        return 0
    today = utcnow().date().isoformat()
    jobs.enqueue("privacy.retention", key=f"retention:{today}", day=today)
    return 1


@jobs.job("privacy.retention")
def retention_job(day: str | None = None) -> dict[str, int]:
    """Apply every rule (a stored run, as the command's). A rule or record that failed fails the
    job: it is retried with the backoff, then listed with its error at *Background jobs* for an
    admin to retry. Each batch is committed as it is handled (a large run is not one
    transaction): a retry handles what is left, as a second run would."""
    done = run(False)
    problems = _problems(done)
    if problems:
        raise RuntimeError(f"retention run #{done.id}: " + "; ".join(problems))
    return {result.rule.key: result.handled for result in done.results}


# The command --------------------------------------------------------------------------------

@click.group("retention")
def retention_cli():
    """Retention rules (docs/privacy.md)."""


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only count what each rule would handle; change nothing.")
@with_appcontext
def retention_run_command(dry_run: bool):
    """Apply the retention rules (for cron) and print, per rule, how many records matched and
    how many were handled. Exits with status 1 when a rule, or a record, failed (cron mails it)."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        done = run(dry_run)
        title = _("Retention run (dry run: nothing was changed)") if dry_run else _("Retention run")
        click.echo(f"{title} #{done.id}")
        failed = False
        for result in done.results:
            line = _("%(label)s [%(code)s]: %(matched)s matched, %(handled)s handled",
                     label=result.rule.label, code=result.rule.key, matched=result.matched,
                     handled=result.handled)
            if result.failed:
                line += " · " + _("%(num)s could not be handled (see the log)", num=result.failed)
                failed = True
            if result.error:
                line += " · " + _("failed: %(error)s", error=result.error)
                failed = True
            click.echo(line)
    if failed:
        raise SystemExit(1)
