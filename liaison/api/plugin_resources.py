"""Blueprints for the plugins' records (``liaison_api_resources``), built per app."""
from __future__ import annotations

import logging
import re

from marshmallow import Schema, fields
from sqlalchemy import select

from ..scope import get_or_404, scoped, station_column
from . import auth
from .common import ApiBlueprint as Blueprint
from .common import PageArgs, PageMeta, page_of
from .resources import ApiResource

log = logging.getLogger(__name__)
SEGMENT = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def plugin_blueprints(app) -> list[Blueprint]:
    from ..plugins import host

    found = []
    for plugin, resources in host(app).startup_results("liaison_api_resources"):
        for resource in resources or ():
            if not isinstance(resource, ApiResource) or not SEGMENT.match(resource.name):
                host(app).record_error(plugin, "liaison_api_resources",
                                       ValueError(f"not an ApiResource with a valid name: {resource!r}"))
                continue
            found.append(_blueprint(plugin, resource))
    return found


_BUILT: dict[tuple, Blueprint] = {}


def _blueprint(plugin: str, resource: ApiResource) -> Blueprint:
    """The resource's blueprint, built once per process (a blueprint may serve several apps, as
    the core's do): building one decorates its views with deep copies of the schemas."""
    from .views import rate_limited

    key = (plugin, resource.name, resource.model, resource.schema, resource.description,
           tuple(map(str, resource.order_by or ())))
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = rate_limited(_build(plugin, resource))
    return built


def _build(plugin: str, resource: ApiResource) -> Blueprint:
    from .views import READ_PROBLEMS, problem_responses

    blp = Blueprint(f"api_p_{plugin}_{resource.name}".replace("-", "_"), __name__,
                    url_prefix=f"/api/v1/p/{plugin}/{resource.name}",
                    description=resource.description or f"{plugin}: {resource.name} (read).")
    model, schema = resource.model, resource.schema
    page_schema = Schema.from_dict({"items": fields.List(fields.Nested(schema), required=True),
                                    "page": fields.Nested(PageMeta, required=True)},
                                   name=f"{schema.__name__}Page")
    order = resource.order_by or (model.id,)

    @blp.route("/")
    @blp.doc(summary=f"{resource.name} records ({plugin}) in your scope, where the plugin is on.")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema)
    @problem_responses(*READ_PROBLEMS)
    def list_records(args):
        stmt = scoped(select(model), model, plugin=plugin).options(*resource.options).order_by(*order)
        items, page = page_of(auth.restrict(stmt, station_column(model)), args)
        return {"items": items, "page": page}

    @blp.route("/<int:record_id>")
    @blp.doc(summary=f"One {resource.name} record ({plugin}).")
    @blp.response(200, schema)
    @problem_responses(*READ_PROBLEMS)
    def get_record(record_id):
        record = get_or_404(model, record_id, *resource.options, plugin=plugin)
        auth.check_station(getattr(record, station_column(model).key))
        return record

    return blp
