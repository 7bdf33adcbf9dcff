"""The IRB My Case back office: the staff tool behind the counsel-facing My Case portal."""

import re
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, g, redirect, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.middleware.proxy_fix import ProxyFix

from backoffice.content_policy import content_security_policy
from backoffice.edge import refuse_odd_staff_input
from backoffice.extensions import babel, csrf, db, declared_in_models, login_manager, migrate
from backoffice.observability.web import init_observability
from config import Config, ProductionConfig, config_from_environment

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# A caller's request id is kept only in this shape: it goes into the append-only audit log and the logs.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def create_app(config_class: type[Config] | None = None, **overrides: Any) -> Flask:
    """Build the application; `overrides` replace configuration values (tests use them)."""
    config_class = config_class or config_from_environment()
    if config_class is ProductionConfig:
        config_class.check()
    app = Flask(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config_class)
    app.config.update(overrides)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"])
    Path(app.instance_path).mkdir(exist_ok=True)
    init_observability(app)  # logging, and the request hooks that must run first

    _init_extensions(app)
    _register_request_hooks(app)
    _register_blueprints(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind nginx the peer is nginx: the client's address, scheme and host are read from the X-Forwarded-*
    headers, and never believed otherwise (a client can send any). X-Forwarded-For grows by one address a
    proxy, so the last TRUSTED_PROXY_COUNT of them are believed; X-Forwarded-Proto and X-Forwarded-Host are
    replaced whole by nginx (deploy/nginx.conf), the nearest proxy, so they hold one value whatever stands
    before it. Wrapped last, so that every other middleware sees the client too."""
    hops = app.config["TRUSTED_PROXY_COUNT"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=1)


def _init_extensions(app: Flask) -> None:
    from backoffice import models  # noqa: F401  (registers the models on the metadata)
    from backoffice.i18n import current_language, localised, select_locale
    from backoffice.workflows.accounts import init_password_hashing

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, include_object=declared_in_models
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(current_language=current_language, localised=localised)
    login_manager.init_app(app)
    init_password_hashing(app)


def _register_blueprints(app: Flask) -> None:
    from backoffice.admin import init_admin
    from backoffice.api import bp as api_bp
    from backoffice.auth import bp as auth_bp
    from backoffice.auth import factors, single_sign_on  # noqa: F401  (their routes are on the auth blueprint)
    from backoffice.auth.passkeys import bp as passkeys_bp
    from backoffice.auth.single_sign_on import init_single_sign_on
    from backoffice.cli import register_commands
    from backoffice.errors import register_error_pages
    from backoffice.health import bp as health_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(passkeys_bp)
    init_single_sign_on(app)
    app.register_blueprint(api_bp)
    init_admin(app)
    register_commands(app)
    register_error_pages(app)

    @app.get("/")
    def root() -> ResponseReturnValue:
        return redirect(url_for("admin.index"))


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _tag_request() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if SAFE_REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    app.before_request(refuse_odd_staff_input)

    @app.after_request
    def _secure_headers(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        if request.endpoint and request.endpoint != "static" and not request.endpoint.endswith(".static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
