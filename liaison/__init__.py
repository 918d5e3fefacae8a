"""liaison — a plugin-based web app for overseas talent-liaison stations."""
from __future__ import annotations

import os
from typing import Any

from flask import Flask

from .plugins.hookspecs import hookimpl

__version__ = "0.1.0"
__all__ = ["create_app", "hookimpl", "__version__"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory: builds a fully configured app; nothing happens at import time."""
    # LIAISON_INSTANCE_PATH moves the instance folder (config and SQLite database) elsewhere.
    app = Flask(__name__, instance_path=os.environ.get("LIAISON_INSTANCE_PATH") or None,
                instance_relative_config=True)

    from .config import load_config
    from .params import IdConverter

    load_config(app, config)
    app.url_map.converters["int"] = IdConverter  # before any route is added

    from . import cli, database, errors, i18n, plugins, security, static_files, templating
    from .extensions import csrf, db, limiter, login_manager, migrate

    static_files.init_compression(app)  # first registered: runs after every other after_request
    db.init_app(app)
    database.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    plugins.init_app(app)  # before i18n and migrations: plugins add catalogs and branches
    i18n.init_app(app)
    # The migrations live beside the package, not in the working directory.
    migrate.init_app(app, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    from . import jobs, notifications

    jobs.init_app(app)
    notifications.init_app(app)
    _register_blueprints(app)
    from . import api

    api.init_app(app)  # after the error handlers: API paths answer problem+json
    cli.init_app(app)
    static_files.init_static(app)  # after the blueprints: their static folders too
    if app.config.get("QUERY_COUNT_HEADER"):
        from . import querycount

        querycount.init_app(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .auth.views import bp as auth_bp
    from .contacts.views import bp as contacts_bp
    from .exports.views import bp as exports_bp
    from .leads.views import bp as leads_bp
    from .main.views import bp as main_bp
    from .plugins.views import bp as plugins_bp
    from .privacy.views import bp as privacy_bp
    from .review.views import bp as review_bp
    from .stations.views import bp as stations_bp

    for blueprint in (main_bp, auth_bp, stations_bp, contacts_bp, leads_bp, review_bp, exports_bp, admin_bp, plugins_bp,
                      privacy_bp):
        app.register_blueprint(blueprint)
    from .privacy.log_views import bp as privacy_log_bp

    app.register_blueprint(privacy_log_bp)
    from .privacy.rights_views import bp as rights_bp

    app.register_blueprint(rights_bp)
    from .privacy.consent_views import bp as consent_bp

    app.register_blueprint(consent_bp)
    from .reports.views import bp as reports_bp

    app.register_blueprint(reports_bp)
    from .scorecard.views import bp as scorecard_bp

    app.register_blueprint(scorecard_bp)
    from .duplicates.views import bp as duplicates_bp

    app.register_blueprint(duplicates_bp)
    from .imports.views import bp as imports_bp

    app.register_blueprint(imports_bp)
    from .jobs.views import bp as jobs_bp
    from .notifications.views import bp as notifications_bp

    app.register_blueprint(notifications_bp)
    app.register_blueprint(jobs_bp)
    from .appointments.views import bp as appointments_bp
    from .notices.views import bp as notices_bp

    app.register_blueprint(notices_bp)
    app.register_blueprint(appointments_bp)
    from .find.views import bp as find_bp
    from .saved_views.views import bp as saved_views_bp

    app.register_blueprint(find_bp)
    from .assignment.views import bp as assignment_bp

    app.register_blueprint(assignment_bp)
    app.register_blueprint(saved_views_bp)
    from .events.public import bp as events_public_bp
    from .events.views import bp as events_bp

    app.register_blueprint(events_bp)
    app.register_blueprint(events_public_bp)
    from .demands.views import bp as demands_bp

    app.register_blueprint(demands_bp)
