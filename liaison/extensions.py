"""Flask extensions, created unbound here and initialised in ``create_app``."""
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from .models import db

migrate = Migrate(db=db, render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(get_remote_address)

__all__ = ["babel", "csrf", "db", "limiter", "login_manager", "migrate"]


@migrate.configure
def _plugin_branches(config):
    """Alembic looks for revisions in the core's versions directory and every plugin's."""
    import os

    from flask import current_app

    from .plugins import migration_dirs

    core = os.path.join(config.get_main_option("script_location"), "versions")
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join([core, *migration_dirs(current_app)]))
    return config
