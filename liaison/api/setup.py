"""Wiring of the API into the app (``liaison.api.init_app``)."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api as SmorestApi

from . import auth, problems

API_TITLE = "Liaison API"
API_VERSION = "v1"


class Api(SmorestApi):
    """flask-smorest's ``Api`` without its own error handler and "default" error response: the
    app answers every API error as RFC 9457 problem+json (``liaison.api.problems``), documented
    per operation (``views.problem_responses``)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        problems.install(self._app)

    # The OpenAPI document is written when it is first read (``/api/v1/openapi.json``, the
    # documentation page, ``flask openapi``), not when the app is created: documenting every
    # operation deep-copies its schemas — ~0.1 s of each ``create_app``, which a worker pays once
    # and the test suite once per test. The routes themselves are registered at once, as before.

    @property
    def spec(self):
        pending = self.__dict__.get("_undocumented")
        if pending and not self.__dict__.get("_documenting"):
            self._documenting = True
            try:
                while pending:
                    blueprint, name, parameters = pending.pop(0)
                    blueprint.register_views_in_doc(self, self._app, self._spec, name=name, parameters=parameters)
                    self._spec.tag({"name": name, "description": blueprint.description})
            finally:
                self._documenting = False
        return self.__dict__.get("_spec")

    @spec.setter
    def spec(self, value):
        self._spec = value

    def register_blueprint(self, blp, *, parameters=None, **options):
        """flask-smorest's ``register_blueprint``, with the documentation deferred (see ``spec``)."""
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self.__dict__.setdefault("_undocumented", []).append((blp, name, parameters))


def init_app(app: Flask) -> None:
    from ..extensions import csrf
    from . import views

    app.config.setdefault("API_TITLE", API_TITLE)
    app.config.setdefault("API_VERSION", API_VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", problems.API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", "600 per minute")
    # Idempotency-Key answers: kept a day, then purged (jobs run-due); a key "in progress" this
    # long belongs to a request that died and is taken over (``liaison.api.common.Idempotent``).
    app.config.setdefault("API_IDEMPOTENCY_TTL", 24 * 3600)
    app.config.setdefault("API_IDEMPOTENCY_TAKEOVER", 120)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": "The liaison REST API: see docs/api.md. Every call needs a personal access token "
                                "(`Authorization: Bearer lia_…`), created on the profile's API tokens page. A method "
                                "a path does not list answers 405 (`MethodNotAllowed`); a body over the size limit "
                                "413; errors are `application/problem+json`."},
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            # A method a path does not list (405) is no operation of the path: documented once.
            "responses": {"MethodNotAllowed": {
                "description": "A method the path does not list: problem+json, with the methods it allows.",
                "headers": {"Allow": {"description": "The methods the path allows.", "required": True,
                                      "schema": {"type": "string"}}},
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }},
        },
        "security": [{"token": []}],
    })
    api = Api(app)
    app.extensions["liaison_api"] = api
    for blueprint in views.blueprints(app):
        csrf.exempt(blueprint)  # token-authenticated only: session cookies never authenticate
        api.register_blueprint(blueprint)
    csrf.exempt(app.blueprints["api-docs"])
    # Before every other before_request (CSRF, the temporary-password redirect, the limiter's key):
    # the token's user is the request's user.
    app.before_request_funcs.setdefault(None, []).insert(0, auth.authenticate)
    from .pages import bp as pages_bp

    app.register_blueprint(pages_bp)
