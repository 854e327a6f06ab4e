"""Alembic environment, driven by Flask-Migrate (`flask --app wsgi db ...`)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from portal.core import fulltext

config = context.config
if config.config_file_name is not None:
    # Keep the application's loggers alive when migrations run inside the app (tests, init).
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Render our column types as plain SQLAlchemy ones: migrations must not import the app."""
    from portal.core.types import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _engine():
    return target_db.engine


config.set_main_option(
    "sqlalchemy.url", _engine().url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("compare_type", True)
    conf_args.setdefault("render_as_batch", True)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_object", fulltext.include_object)
    with _engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
