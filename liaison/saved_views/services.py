"""The rules of saved views.

* **What is stored**: only the lists of ``LISTS`` (the lead list, the review queue, the contact
  list) and, for each, its own filter and sort parameters — one value each, at most
  ``MAX_VALUE`` characters; anything else in the query string (a page cursor, an unknown
  parameter) is dropped. The stored text is re-encoded by ``urlencode``, so opening a view can
  only ever lead to that list with those parameters.
* **Who may use a list**: the lead and contact lists everyone; the review queue HQ.
* **Sharing**: a view is its owner's; a regional admin may share it with one of their regions
  (the region's volunteers and regional admins see it), HQ (reviewers and admins) with HQ.
  Volunteers keep their views private. Only the owner renames or deletes a view.
* **Scope**: a view is a query string; the list applies the viewer's scope as for any other
  query, so a shared view never shows anyone more than their own scope.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ..models import Region, SavedView, Sharing, Station, User, db, region_admin, station_membership

LEAD_PARAMS = ("q", "status", "region", "station", "category", "reviewer", "submitted_from", "submitted_to", "sort")
LISTS: dict[str, tuple] = {
    "leads.index": (_l("Leads"), LEAD_PARAMS),
    "review.queue": (_l("Review queue"), LEAD_PARAMS),
    "contacts.index": (_l("Contacts"), ("q", "station", "kind", "tag")),
}
MAX_VALUE = 100
MAX_PER_LIST = 50  # views one user keeps for one list


class Rejected(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def may_use(user: User, endpoint: str) -> bool:
    if endpoint not in LISTS:
        return False
    return endpoint != "review.queue" or user.is_hq


def clean_query(endpoint: str, pairs) -> str:
    """The allowed parameters of ``endpoint`` from ``pairs`` (a query string or (key, value)
    pairs), first value of each, in a fixed order, without empty values."""
    if isinstance(pairs, str):
        pairs = parse_qsl(pairs, keep_blank_values=False)
    allowed = LISTS[endpoint][1]
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in allowed and key not in values:
            value = "".join(c for c in str(value) if c.isprintable()).strip()
            if value:
                values[key] = value[:MAX_VALUE]
    return urlencode([(key, values[key]) for key in allowed if key in values])


def user_region_ids(user: User) -> list[int]:
    """Regions whose shared views the user sees: a regional admin's regions, a volunteer's
    stations' regions."""
    if user.is_regional_admin:
        stmt = select(region_admin.c.region_id).where(region_admin.c.user_id == user.id)
    else:
        stmt = (select(Station.region_id).join(station_membership, station_membership.c.station_id == Station.id)
                .where(station_membership.c.user_id == user.id))
    return sorted(set(db.session.scalars(stmt)))


def sharing_choices(user: User) -> list[tuple[str, str]]:
    """``(value, label)``: "private", "region:<id>" for a regional admin's regions, "hq" for HQ."""
    from ..i18n import display_name

    choices = [(Sharing.PRIVATE, _("Only me"))]
    if user.is_regional_admin:
        ids = user_region_ids(user)
        if ids:
            for region in db.session.scalars(select(Region).where(Region.id.in_(ids)).order_by(Region.code)):
                choices.append((f"region:{region.id}", _("Shared with region %(region)s", region=display_name(region))))
    if user.is_hq:
        choices.append((Sharing.HQ, _("Shared with HQ")))
    return choices


def _sharing(user: User, value: str | None) -> tuple[str, int | None]:
    value = value or Sharing.PRIVATE
    if value not in dict(sharing_choices(user)):
        raise Rejected("share", _("You may not share a view that way."))
    if value.startswith("region:"):
        return Sharing.REGION, int(value.split(":", 1)[1])
    return value, None


def visible_views(user: User, endpoint: str) -> list[SavedView]:
    """The user's own views of ``endpoint`` and those shared with them, own first, by name."""
    shared = []
    if user.is_hq:
        shared.append(SavedView.shared == Sharing.HQ)
    regions = user_region_ids(user) if not user.is_hq else []
    if regions:
        shared.append(and_(SavedView.shared == Sharing.REGION, SavedView.region_id.in_(regions)))
    stmt = (select(SavedView).where(SavedView.endpoint == endpoint, or_(SavedView.user_id == user.id, *shared))
            .order_by((SavedView.user_id != user.id), SavedView.name, SavedView.id).limit(200))
    return list(db.session.scalars(stmt))


def own_views(user: User) -> list[SavedView]:
    return list(db.session.scalars(select(SavedView).where(SavedView.user_id == user.id)
                                   .order_by(SavedView.endpoint, SavedView.name)))


def get_visible_or_none(user: User, view_id: int | None) -> SavedView | None:
    view = db.session.get(SavedView, view_id) if view_id else None
    if view is None or view not in visible_views(user, view.endpoint):
        return None
    return view


def _check_name(user: User, endpoint: str, name: str, exclude_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise Rejected("name", _("Give the view a name."))
    if len(name) > 100:
        raise Rejected("name", _("At most 100 characters."))
    taken = db.session.scalar(select(SavedView.id).where(SavedView.user_id == user.id, SavedView.endpoint == endpoint,
                                                         SavedView.name == name, SavedView.id != (exclude_id or 0)))
    if taken:
        raise Rejected("name", _("You already have a view of this list with that name."))
    return name


def save(user: User, endpoint: str, name: str, query: str, share: str | None) -> SavedView:
    if not may_use(user, endpoint):
        raise Rejected("list", _("This list cannot be saved as a view."))
    name = _check_name(user, endpoint, name)
    shared, region_id = _sharing(user, share)
    count = len(db.session.scalars(select(SavedView.id).where(SavedView.user_id == user.id,
                                                               SavedView.endpoint == endpoint)).all())
    if count >= MAX_PER_LIST:
        raise Rejected("name", _("You have %(n)d views of this list already: delete one first.", n=MAX_PER_LIST))
    view = SavedView(user_id=user.id, endpoint=endpoint, name=name, query=clean_query(endpoint, query or ""),
                     shared=shared, region_id=region_id)
    db.session.add(view)
    db.session.commit()
    return view


def rename(user: User, view: SavedView, name: str) -> None:
    if view.user_id != user.id:
        raise Rejected("name", _("Only the owner may rename a view."))
    view.name = _check_name(user, view.endpoint, name, exclude_id=view.id)
    db.session.commit()


def delete(user: User, view: SavedView) -> None:
    if view.user_id != user.id:
        raise Rejected("name", _("Only the owner may delete a view."))
    db.session.delete(view)
    db.session.commit()


def url_of(view: SavedView) -> str:
    """The list with the view's parameters (re-cleaned: the stored text is never trusted)."""
    from flask import url_for

    query = clean_query(view.endpoint, view.query) if view.endpoint in LISTS else ""
    return url_for(view.endpoint) + (f"?{query}" if query else "")


def list_title(endpoint: str):
    return LISTS[endpoint][0] if endpoint in LISTS else endpoint
