"""Pages of the duplicates queue, the merge page and merge records (HQ and regional admins)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from ..models import Contact, db
from ..pagination import keyset_page
from ..privacy import masking
from . import matching, services
from .forms import BOTH_FIELDS, MERGED, SURVIVOR, ActionForm, merge_form_class

bp = Blueprint("duplicates", __name__, url_prefix="/duplicates")

# Names for the core's tables that reference contacts (others — plugins' — show their table name).
TABLE_LABELS = {
    "leads": _l("Talent leads"),
    "contact_consents": _l("Consent records"),
    "privacy_reveals": _l("Reveals of masked fields"),
    "privacy_access_log": _l("Access log entries"),
    "erasure_requests": _l("Erasure requests"),
    "contact_tags": _l("Tags"),
    "contact_languages": _l("Languages"),
    "import_rows": _l("Import rows"),
}


def table_label(name: str) -> str:
    return str(TABLE_LABELS.get(name, name))


@bp.route("/")
@login_required
def index():
    services.require_use(current_user)
    page = keyset_page(services.pairs_query(current_user), per_page=25)
    return render_template("duplicates/index.html", page=page, form=ActionForm(), describe=matching.describe)


@bp.route("/<int:pair_id>/dismiss", methods=["POST"])
@login_required
def dismiss(pair_id: int):
    services.require_use(current_user)
    pair = services.get_pair_or_404(pair_id, current_user)
    if ActionForm().validate_on_submit():
        if services.dismiss(pair, current_user):
            flash(_("The pair has been marked as two different people; it will not be suggested again."), "success")
        else:
            flash(_("This pair had already been marked as two different people."), "info")
    return redirect(url_for("duplicates.index"))


def _field_labels() -> dict[str, str]:
    from ..contacts.forms import ContactForm

    labels = {}
    for name in services.mergeable_fields():
        unbound = getattr(ContactForm, name, None)
        labels[name] = unbound.args[0] if unbound is not None and unbound.args else name
    return labels


@bp.route("/merge/<int:survivor_id>/<int:merged_id>", methods=["GET", "POST"])
@login_required
def merge(survivor_id: int, merged_id: int):
    services.require_use(current_user)
    survivor, merged = services.load_pair_contacts(survivor_id, merged_id, current_user)
    if survivor.id == merged.id:
        abort(404)
    fields = services.mergeable_fields()
    labels = _field_labels()
    defaults = {}
    for name in fields:
        mine, theirs = getattr(survivor, name), getattr(merged, name)
        defaults[f"field_{name}"] = MERGED if (mine in (None, "") and theirs not in (None, "")) else SURVIVOR
    form = merge_form_class(fields, labels)(data=defaults)
    if form.validate_on_submit():
        try:
            record = services.merge(survivor, merged, form.choices(), current_user)
        except services.MergeRefused as refusal:
            db.session.rollback()
            flash(str(refusal), "danger")
            return redirect(url_for("duplicates.merge", survivor_id=survivor_id, merged_id=merged_id))
        flash(_("The contacts have been merged. The merge can be undone from its record."), "success")
        return redirect(url_for("duplicates.merge_detail", merge_id=record.id))
    score, reasons = matching.score(survivor, merged)
    rows = [(name, labels[name], form[f"field_{name}"], getattr(survivor, name), getattr(merged, name)) for name in fields]
    return render_template("duplicates/merge.html", form=form, survivor=survivor, merged=merged, rows=rows,
                           score=score, reasons=matching.describe(reasons), both_fields=BOTH_FIELDS,
                           references=services.references_of([survivor.id, merged.id]), table_label=table_label)


@bp.route("/merges")
@login_required
def merges():
    services.require_use(current_user)
    page = keyset_page(services.merges_query(current_user), per_page=25)
    return render_template("duplicates/merges.html", page=page)


@bp.route("/merges/<int:merge_id>")
@login_required
def merge_detail(merge_id: int):
    services.require_use(current_user)
    record = services.get_merge_or_404(merge_id, current_user)
    labels = _field_labels()
    moved: dict[str, int] = {}
    for entry in record.moved or []:
        moved[entry["table"]] = moved.get(entry["table"], 0) + 1
    removed: dict[str, int] = {}
    for entry in record.removed or []:
        removed[entry["table"]] = removed.get(entry["table"], 0) + 1
    problems = services.undo_problems(record) if record.undone_at is None else []
    images = _masked_images(record, labels)
    return render_template("duplicates/merge_detail.html", record=record, labels=labels, moved=moved, removed=removed,
                           problems=problems, form=ActionForm(), table_label=table_label, images=images)


def _masked_images(record, labels) -> dict[str, tuple[str, str, str]]:
    """The before- and after-images as the viewer may see them: the masked fields go through the
    masking layer (in clear only for who sees the kept contact in clear, by role or a reveal)."""
    masker = masking.masker()
    survivor = db.session.get(Contact, record.survivor_id)
    clear = survivor is not None and masker.unmasked(survivor)
    images = {}
    for name in labels:
        values = [(image or {}).get(name) for image in (record.survivor_before, record.merged_before, record.survivor_after)]
        if masker.is_masked(name) and not clear:
            values = [masking.mask(name, value) if value not in (None, "") else "" for value in values]
        images[name] = tuple("" if value is None else str(value) for value in values)
    return images


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@login_required
def undo(merge_id: int):
    services.require_use(current_user)
    record = services.get_merge_or_404(merge_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            services.undo(record, current_user)
        except services.MergeRefused as refusal:
            db.session.rollback()
            flash(_("The merge was not undone: %(reason)s", reason=str(refusal)), "danger")
        else:
            flash(_("The merge has been undone: both contacts and their records are as they were."), "success")
    return redirect(url_for("duplicates.merge_detail", merge_id=merge_id))
