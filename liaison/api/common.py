"""What every API resource shares: UTC timestamps, cursor pages, ETags and ``If-Match``,
``Idempotency-Key``, and the pages' WTForms rules applied to JSON bodies."""
from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import timedelta, timezone
from typing import Sequence

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Text, cast, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import MultiDict

from .. import jobs
from ..models import db, utcnow
from ..pagination import keyset_page
from .auth import current_token
from .models import ApiIdempotencyKey
from .problems import ApiError

MAX_LIMIT = 100


class StrictParser(FlaskParser):
    """webargs' parser, with unknown query parameters refused like unknown body fields: each
    arguments schema's own ``unknown`` (marshmallow's ``RAISE``) decides, not webargs' ``EXCLUDE``
    for query strings — ``?staton_id=3`` is a 422 naming ``staton_id``, not a silently wider list."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}


class ApiBlueprint(SmorestBlueprint):
    """The API's blueprints (core and plugin resources): flask-smorest's, with ``StrictParser``."""

    ARGUMENTS_PARSER = StrictParser()


class UtcDateTime(fields.DateTime):
    """Stored timestamps are naive UTC: written as ISO 8601 with ``Z``."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class PageArgs(Schema):
    after = fields.String(validate=validate.Length(max=1024), metadata={
        "description": "The `next_cursor` of the previous page."})
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=MAX_LIMIT))


class PageMeta(Schema):
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "Pass as `after` for the next page; null on the last page."})
    limit = fields.Integer(required=True)


def page_of(stmt, args: dict) -> tuple[list, dict]:
    """One keyset page (``liaison.pagination``) of ``stmt``: its items and the ``page`` object."""
    page = keyset_page(stmt, per_page=args.get("limit") or 25, args={"after": args.get("after")}, count=False)
    return page.items, {"next_cursor": page.next_cursor if page.has_next else None, "limit": page.per_page}


# ETags and If-Match ---------------------------------------------------------------------------

def etag_of(version) -> str:
    return f'"{version}"'


def with_etag(response, version):
    response.headers["ETag"] = etag_of(version)
    return response


def if_match(current_version) -> int:
    """The version the client's ``If-Match`` names; 428 without one, 412 if it is not current.

    Returned to the service as ``expected_version``, which checks it again inside the
    transaction (a race lost at commit time is 412 too)."""
    header = request.headers.get("If-Match")
    if not header:
        raise ApiError(428)
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if "*" in wanted:
        return current_version
    if etag_of(current_version) not in wanted:
        raise ApiError(412)
    return current_version


# Idempotency-Key -----------------------------------------------------------------------------

IDEMPOTENCY_WAIT = 10.0  # seconds a repeat waits for the first request to finish
# Defaults of the settings (``liaison.api.setup``): stored answers are kept a day
# (``API_IDEMPOTENCY_TTL``, seconds), then purged by ``jobs run-due``; a key still "in progress"
# after ``API_IDEMPOTENCY_TAKEOVER`` seconds belongs to a request that died (a killed worker) and
# is taken over by the next request with it.
IDEMPOTENCY_TTL = 24 * 3600
IDEMPOTENCY_TAKEOVER = 120


class Idempotent:
    """``with Idempotent() as once:`` around a creating request.

    Without an ``Idempotency-Key`` header it does nothing. With one, the first request with that key
    (per token) claims it — one row, committed before the work starts, so a concurrent twin
    fails its INSERT on the unique ``(token_id, key)`` — and stores its answer; a repeat gets the
    stored answer (``once.replay``), a repeat with another body 422, a repeat while the first is
    still running waits for it (409 after ``IDEMPOTENCY_WAIT``). A failed first request frees the key;
    a claim older than ``API_IDEMPOTENCY_TAKEOVER`` seconds without an answer (its request died) is
    taken over — by one request only: the take-over is a conditional UPDATE of the claim.
    """

    def __init__(self):
        self.key = request.headers.get("Idempotency-Key")
        self.replay = None
        self.row_id = None

    def fingerprint(self) -> str:
        body = request.get_data(cache=True) or b""
        return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + body).hexdigest()

    def __enter__(self):
        if self.key is None:
            return self
        if not 1 <= len(self.key) <= 200:
            raise ApiError(400, _l("An Idempotency-Key has 1 to 200 characters."),
                           errors=[{"field": "Idempotency-Key", "message": str(_l("1 to 200 characters."))}])
        token = current_token()
        fingerprint = self.fingerprint()
        row = ApiIdempotencyKey(token_id=token.id, key=self.key, fingerprint=fingerprint, created_at=utcnow())
        db.session.add(row)
        try:
            db.session.commit()
            self.row_id = row.id
            return self
        except IntegrityError:
            db.session.rollback()
        deadline = time.monotonic() + IDEMPOTENCY_WAIT
        takeover = timedelta(seconds=current_app.config.get("API_IDEMPOTENCY_TAKEOVER", IDEMPOTENCY_TAKEOVER))
        while True:
            existing = db.session.scalar(select(ApiIdempotencyKey).where(
                ApiIdempotencyKey.token_id == token.id, ApiIdempotencyKey.key == self.key)
                .execution_options(populate_existing=True))
            if existing is None:  # the first one failed and freed the key: try again
                return self.__enter__()
            if existing.fingerprint != fingerprint:
                raise ApiError(422, _l("This Idempotency-Key was used for another request."),
                               errors=[{"field": "Idempotency-Key", "message": str(_l("Already used for another request."))}])
            if existing.status_code is not None:
                self.replay = existing.response, existing.status_code
                db.session.rollback()
                return self
            if existing.created_at <= utcnow() - takeover and self._take_over(existing):
                return self
            db.session.rollback()
            if time.monotonic() > deadline:
                raise ApiError(409, _l("A request with this Idempotency-Key is still being processed."))
            time.sleep(0.05)

    def _take_over(self, stale: ApiIdempotencyKey) -> bool:
        """Claim a key whose request died: only if nobody answered or took it over meanwhile."""
        claimed = db.session.execute(
            update(ApiIdempotencyKey)
            .where(ApiIdempotencyKey.id == stale.id, ApiIdempotencyKey.status_code.is_(None),
                   ApiIdempotencyKey.created_at == stale.created_at)
            .values(created_at=utcnow()).execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed:
            self.row_id = stale.id
        return bool(claimed)

    def respond(self, body: dict, status: int, headers: dict | None = None):
        """The response, stored for repeats."""
        if self.row_id is not None:
            db.session.execute(
                update(ApiIdempotencyKey).where(ApiIdempotencyKey.id == self.row_id)
                .values(status_code=status, response={"body": body, "headers": headers or {}})
                .execution_options(synchronize_session=False))
            db.session.commit()
        return json_response(body, status, headers)

    def replayed(self):
        stored, status = self.replay
        response = json_response(stored["body"], status, stored.get("headers"))
        response.headers["Idempotent-Replayed"] = "true"
        return response

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.row_id is not None:
            db.session.rollback()
            db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id == self.row_id,
                                                               ApiIdempotencyKey.status_code.is_(None)))
            db.session.commit()
        return False


@jobs.scheduled("api.idempotency_keys")
def purge_idempotency_keys(now=None) -> int:
    """Delete the stored answers older than ``API_IDEMPOTENCY_TTL`` seconds (they may hold a
    created contact's personal fields): run by ``flask --app liaison jobs run-due`` (cron)."""
    ttl = timedelta(seconds=current_app.config.get("API_IDEMPOTENCY_TTL", IDEMPOTENCY_TTL))
    result = db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.created_at < (now or utcnow()) - ttl))
    return result.rowcount or 0


def _mentions(stored, contact_id: int, values: Sequence[str]) -> bool:
    """Does a stored answer name the contact: its URL, its id as the record's contact, or one of
    the person's values (``liaison.privacy.erasure.values_of``) anywhere in it?"""
    from ..privacy.erasure import scrub

    stored = stored if isinstance(stored, dict) else {}
    body = stored.get("body")
    location = str((stored.get("headers") or {}).get("Location") or "")
    if re.search(rf"/contacts/{contact_id}(?![0-9])", location):
        return True
    if isinstance(body, dict):
        contact = body.get("contact")
        if body.get("contact_id") == contact_id or (isinstance(contact, dict) and contact.get("id") == contact_id):
            return True
    text = json.dumps(stored, ensure_ascii=False)
    return bool(values) and scrub(text, values) != text


def forget_contact(contact_id: int, values: Sequence[str]) -> int:
    """Delete the stored answers (``api_idempotency_keys.response``) that mention the contact —
    called by the erasure (``liaison.privacy.erasure``) in its transaction; nothing committed.
    A repeat of such a request is then treated as a new one."""
    from ..search import escape_like

    column = cast(ApiIdempotencyKey.response, Text)
    terms = [column.like(f"%{contact_id}%")]
    for value in values:  # JSON may store non-ASCII text escaped
        for form in {value, json.dumps(value)[1:-1]}:
            terms.append(column.ilike(f"%{escape_like(form)}%", escape="\\"))
    rows = db.session.execute(select(ApiIdempotencyKey.id, ApiIdempotencyKey.response).where(
        ApiIdempotencyKey.response.is_not(None), or_(*terms))).all()
    doomed = [row.id for row in rows if _mentions(row.response, contact_id, values)]
    if doomed:
        db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id.in_(doomed)))
    return len(doomed)


def json_response(body, status: int = 200, headers: dict | None = None):
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), status=status,
                                          mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


# The pages' form rules on JSON bodies ---------------------------------------------------------

def formdata(payload: dict) -> MultiDict:
    """A JSON object as the pages' forms receive it: each value as text, lists one entry each."""
    data = MultiDict()
    for key, value in payload.items():
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data.add(key, "y")
        elif isinstance(value, (list, tuple)):
            data.add(key, ", ".join(str(v) for v in value))
        else:
            data.add(key, str(value))
    return data


def validate_form(form, fields_: tuple[str, ...]) -> None:
    """422 with the form's field messages, for the fields the API accepts."""
    if not form.validate():
        errors = [{"field": name, "message": str(message)} for name in fields_ if name in form
                  for message in form[name].errors]
        errors += [{"field": None, "message": str(message)} for message in getattr(form, "form_errors", [])]
        if errors:
            raise ApiError(422, errors=errors)

