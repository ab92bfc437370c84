"""evalapp: evaluation and acceptance of the Yunxi "党建+社会救助" pilot."""
import os

from flask import Flask, request, session
from werkzeug.routing import IntegerConverter

from .config import Defaults, database_url_from_env
from .ids import ID_MAX, up_to
from .extensions import babel, csrf, db, limiter, login_manager, migrate, register_engine_events


class ConfigError(RuntimeError):
    """The app cannot start with this configuration."""


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: an id no database column can hold (≥ 2^31) is a 404, never an overflow (500)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits, min, ID_MAX if max is None else max, signed)
        if not fixed_digits and not signed:
            # Only the numbers the bound allows match: a larger id matches no rule (404), where a failed
            # conversion would let the path match another method's rule and answer 405.
            self.regex = up_to(self.max)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then EVALAPP_* / DATABASE_URL, then test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter  # before any blueprint adds its routes
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("EVALAPP")
    if url := database_url_from_env():
        app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config.get("REDIS_URL") and os.environ.get("REDIS_URL"):
        app.config["REDIS_URL"] = os.environ["REDIS_URL"]  # the job queue's (services.jobs)
    if test_config:
        app.config.update(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        path = os.path.join(app.instance_path, "evalapp.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Wait for a writer instead of failing with "database is locked".
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 10}}
    elif app.config.get("DATABASE_PGBOUNCER"):
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")

    development = app.config["ENV"] == "development" or app.config.get("TESTING")
    if not app.config.get("SECRET_KEY"):
        if not development:
            raise ConfigError(
                "SECRET_KEY 未设置：请在 instance/config.py 或环境变量 EVALAPP_SECRET_KEY 中设置（生产环境必须）。"
            )
        app.config["SECRET_KEY"] = _development_secret(app.instance_path)
    if not app.config.get("SEAL_KEYS"):
        if not development:
            raise ConfigError(
                "SEAL_KEYS 未设置：公布版本的防篡改密钥须在 instance/config.py 或环境变量 EVALAPP_SEAL_KEYS 中设置，"
                "并与数据库分开备份（见 docs/deploy.md）。"
            )
        app.config["SEAL_KEYS"] = {"dev": _development_secret(app.instance_path, ".dev-seal-key")}
        app.config["SEAL_KEY_ID"] = "dev"
    elif not app.config.get("SEAL_KEY_ID") and len(app.config["SEAL_KEYS"]) == 1:
        app.config["SEAL_KEY_ID"] = next(iter(app.config["SEAL_KEYS"]))
    if development:
        # Plain http://127.0.0.1 in development and tests: cookies without Secure.
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False

    if int(app.config["PROXY_FIX"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    with app.app_context():
        register_engine_events(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)

    from . import models  # noqa: F401  (every table known to Flask-Migrate)
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .inspection import bp as inspection_bp
    from .selfassess import bp as selfassess_bp
    from .results import bp as results_bp
    from .finance import bp as finance_bp
    from .admin import bp as admin_bp
    from .manual import bp as manual_bp
    from .rectify import bp as rectify_bp
    from .notice import bp as notice_bp
    from .offline import bp as offline_bp
    from .jobs import bp as jobs_bp

    from .api import bp as api_bp

    for bp in (main_bp, auth_bp, inspection_bp, selfassess_bp, results_bp, finance_bp, admin_bp, manual_bp, rectify_bp,
               notice_bp, offline_bp, jobs_bp,
               api_bp):
        app.register_blueprint(bp)
    csrf.exempt(api_bp)  # the API checks the X-CSRFToken header itself (session clients only)

    from . import (assets, bodylimits, cli, cli_audit, cli_backup, cli_evidence, cli_jobs, cli_publication, errors,
                   security, templating)

    @app.teardown_request
    def close_uploads(exc):
        request.close()  # spooled upload files are closed now, not whenever the garbage collector runs

    bodylimits.register(app)
    assets.register(app)
    cli.register(app)
    cli_publication.register(app)
    cli_jobs.register(app)
    cli_audit.register(app)
    cli_evidence.register(app)
    cli_backup.register(app)
    errors.register(app)
    security.register(app)
    templating.register(app)
    return app


def _development_secret(instance_path: str, name: str = ".dev-secret-key") -> str:
    """A secret kept in the instance folder, so that every worker and restart signs cookies (or seals) alike."""
    path = os.path.join(instance_path, name)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w", encoding="ascii") as f:
            f.write(os.urandom(32).hex())
        try:
            os.link(tmp, path)  # atomic: of workers starting together, exactly one secret wins
        except FileExistsError:
            pass
        finally:
            os.remove(tmp)
    with open(path, encoding="ascii") as f:
        return f.read().strip()


def _select_locale() -> str:
    """The language the user chose (stored in the session), else Simplified Chinese."""
    chosen = session.get("lang") if request else None
    return chosen if chosen in Defaults.LANGUAGES else Defaults.BABEL_DEFAULT_LOCALE
