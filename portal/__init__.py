"""The kiến nghị portal: residents' petitions followed from filing to closure."""

from __future__ import annotations

from flask import Flask, has_request_context, session
from flask_login import current_user

from portal import config as config_module


def create_app(config: dict | None = None) -> Flask:
    """Application factory; ``config`` overrides what the environment says."""
    app = Flask(
        __name__,
        instance_path=str(config_module.INSTANCE_DIR),
        template_folder=str(config_module.BASE_DIR / "templates"),
        static_folder=str(config_module.BASE_DIR / "static"),
    )
    app.config.update(config_module.DEFAULTS)
    app.config.update(config_module.from_environment())
    if config:
        app.config.update(config)
    config_module.check(app.config)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    _register_blueprints(app)
    _connect_receivers()
    _register_template_helpers(app)

    from portal import assets, cli, errors, pagecache, security

    security.init_app(app)
    pagecache.init_app(app)
    assets.init_app(app)
    errors.register(app)
    cli.register(app)
    return app


def select_locale() -> str:
    languages = ("vi", "en")
    if not has_request_context():
        return "vi"
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    return "vi"


def _init_extensions(app: Flask) -> None:
    from htmx_flask import Htmx

    from portal import database, geo, storage
    from portal.extensions import (
        babel,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
        remove_session,
    )

    db.init_app(app)
    database.init_app(app)
    # Runs before Flask-SQLAlchemy's own teardown (last registered, first run).
    app.teardown_appcontext(remove_session)
    migrate.init_app(app, db, directory=str(config_module.BASE_DIR / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(config_module.BASE_DIR / "translations"),
    )
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["RATELIMIT_STORAGE_URI"] = (
        app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    )
    # Several portals (one per ward) may share one Redis: keep their counters apart.
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config.get("REDIS_KEY_PREFIX", ""))
    limiter.init_app(app)
    Htmx(app)
    app.extensions["geocoder"] = app.config.get("GEOCODER_INSTANCE") or geo.make_geocoder(
        app.config
    )
    app.extensions["storage"] = app.config.get("STORAGE_INSTANCE") or storage.make_storage(
        app.config
    )

    from portal.accounts import services as accounts

    accounts.init_login(app, login_manager)


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.views import bp as accounts_bp
    from portal.api.views import admin_bp as api_admin_bp
    from portal.api.views import bp as open311_bp
    from portal.extensions import csrf
    from portal.map.views import bp as map_bp
    from portal.meetings.views import bp as meetings_bp
    from portal.monitoring.views import bp as monitoring_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.petitions.views import bp as petitions_bp
    from portal.petitions.views import staff_bp
    from portal.privacy.views import bp as privacy_bp
    from portal.public.views import bp as public_bp
    from portal.units.views import bp as units_bp

    for blueprint in (
        public_bp,
        petitions_bp,
        staff_bp,
        accounts_bp,
        map_bp,
        meetings_bp,
        monitoring_bp,
        notifications_bp,
        privacy_bp,
        units_bp,
        open311_bp,
        api_admin_bp,
    ):
        app.register_blueprint(blueprint)
    # Machines authenticate POST with an API key, not a session: no CSRF token to send.
    csrf.exempt(open311_bp)


def _connect_receivers() -> None:
    """Signal receivers; connecting the same function again (another app) is a no-op."""
    from portal import signals
    from portal.notifications.services import (
        on_petition_cosigned,
        on_petition_event,
        on_petition_merged,
        on_petition_merging,
    )
    from portal.privacy.services import on_login_attempt

    # The outbox: notifications are written in the transaction of the event that causes them.
    signals.petition_event.connect(on_petition_event, weak=False)
    signals.petition_event.connect(on_petition_merged, weak=False)
    signals.petition_cosigned.connect(on_petition_cosigned, weak=False)
    # A merge: the merged petition's followers move to the survivor, in the same transaction.
    signals.petition_merging.connect(on_petition_merging, weak=False)
    # The audit log: every login tried, written in the transaction of the attempt.
    signals.login_attempt.connect(on_login_attempt, weak=False)


def _register_template_helpers(app: Flask) -> None:
    from portal import timeutil
    from portal.meetings import services as meetings
    from portal.monitoring import services as monitoring
    from portal.monitoring import views as monitoring_views
    from portal.petitions.models import Status
    from portal.petitions.services import due_state

    app.jinja_env.filters["vn_date"] = timeutil.format_date
    app.jinja_env.filters["vn_datetime"] = timeutil.format_datetime
    app.jinja_env.globals["due_state"] = due_state
    app.jinja_env.globals["rating_open"] = monitoring.rating_open
    app.jinja_env.globals["remarks_for"] = monitoring.remarks_for
    app.jinja_env.globals["svg_bars"] = monitoring_views.svg_bars
    app.jinja_env.globals["svg_months"] = monitoring_views.svg_months
    app.jinja_env.globals["raised_history"] = meetings.raised_history
    app.jinja_env.globals["Status"] = Status
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def inject_common():
        from portal.units.services import current_ward

        return {
            "ward": current_ward(),
            "current_locale": select_locale(),
            "languages": app.config["LANGUAGES"],
        }
