"""Alembic for every service, driven from one place.

    yjs-migrate upgrade SERVICE          # to heads, on DATABASE_URL (or the local default)
    yjs-migrate revision SERVICE -m MSG  # autogenerate a revision in the service's own branch
    yjs-migrate revision kit -m MSG      # ... in the kit's branch (its tables, in every database)
    yjs-migrate check SERVICE            # exit 1 when the models and the migrations differ

A service's database holds two Alembic branches: the kit's (`kit`, in yjs_kit/migrations/versions:
the outbox, inbox, dead letters, step tracking and reviews every service keeps) and the service's
own (labelled with its name, in yjs_<service>/migrations/versions). Both are upgraded together, to
`heads`, so the kit's tables are written once, in the kit, and applied once per database.
This package is also the one script location: env.py and the revision template serve them all."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.pool import StaticPool

from ..config import default_database_url
from ..db import make_engine
from ..tables import kit_metadata

KIT = "kit"
KIT_MIGRATIONS = Path(__file__).parent


def versions_dir(branch: str) -> Path:
    if branch == KIT:
        return KIT_MIGRATIONS / "versions"
    return Path(importlib.import_module(f"yjs_{branch}").__file__).parent / "migrations" / "versions"


def has_migrations(branch: str) -> bool:
    try:
        return versions_dir(branch).is_dir()
    except ImportError:
        return False


def metadata_of(branch: str) -> MetaData:
    """What a branch's migrations must build: the kit's tables alone, or a service's whole
    metadata (its own tables and the kit's, which models.py adds)."""
    if branch == KIT:
        return kit_metadata()
    return importlib.import_module(f"yjs_{branch}.models").metadata


def alembic_config(branch: str, url: str | None = None) -> Config:
    """A service's config sees both branches; the kit's sees its own alone (it has no database
    of its own: its revisions are made and checked on a scratch one)."""
    locations = [versions_dir(KIT)] if branch == KIT else [versions_dir(KIT), versions_dir(branch)]
    config = Config()
    config.set_main_option("script_location", str(KIT_MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(location) for location in locations))
    config.attributes["branch"] = branch
    config.attributes["metadata"] = metadata_of(branch)
    if url is not None or branch != KIT:
        config.attributes["url"] = url or os.environ.get("DATABASE_URL") or default_database_url(branch)
    return config


def upgrade(service: str, url: str | None = None) -> None:
    """Brings the service's database to the heads of the kit's branch and the service's."""
    if service == KIT:
        raise SystemExit("the kit has no database: its tables are upgraded with each service's (yjs-migrate upgrade SERVICE)")
    config = alembic_config(service, url)
    engine = make_engine(config.attributes["url"])
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # replicas starting together: one migrates, the others wait and find it done
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('yjs-migrate'))"))
            config.attributes["connection"] = connection
            try:
                command.upgrade(config, "heads")
            except CommandError as error:
                if "Can't locate revision" not in str(error):
                    raise
                # the services' histories were squashed into one revision each (nothing had been
                # released); a database migrated before that names a revision that is gone
                raise CommandError(f"{error}: this database was migrated by a history that no longer exists; "
                                   f"it holds development data only: drop it (make clean, for the local SQLite "
                                   f"files) and migrate again") from error
    finally:
        engine.dispose()


def downgrade(service: str, url: str | None = None, target: str = "base") -> None:
    config = alembic_config(service, url)
    engine = make_engine(config.attributes["url"])
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, target)
    finally:
        engine.dispose()


def _table_of(object_, name: str, type_: str) -> str | None:
    if type_ == "table":
        return name
    table = getattr(object_, "table", None)
    return getattr(table, "name", None)


def _owned_by(branch: str):
    """Autogenerate's filter for a new revision of `branch`: only that branch's tables, so a
    service's revision never carries a change to the kit's tables, nor the kit's to a service's."""
    kit_tables = set(kit_metadata().tables)

    def include(object_, name, type_, reflected, compare_to) -> bool:
        table = _table_of(object_, name, type_)
        return table is None or (table in kit_tables) == (branch == KIT)
    return include


def run_env(context) -> None:
    """The body of migrations/env.py: online migrations, on the connection the runner opened or
    on the configured URL."""
    config = context.config
    options = {"target_metadata": config.attributes["metadata"], "render_as_batch": True,
               "compare_server_default": True}
    if "include_object" in config.attributes:
        options["include_object"] = config.attributes["include_object"]
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.attributes["url"])
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def _scratch_engine():
    """An empty in-memory SQLite database kept by one connection while a command runs."""
    return create_engine("sqlite://", poolclass=StaticPool)


def _at_heads(config: Config, url: str | None):
    """The engine of a database brought to the heads of the config's branches: the one at `url`,
    or a scratch one, so what a command compares with does not hang on a developer's local files."""
    engine = make_engine(url) if url else _scratch_engine()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    return engine


def revision(branch: str, message: str):
    """Autogenerates a revision in the branch's own versions directory, from the difference
    between the branch's models and its migrations (applied to a scratch database); the first
    revision of a branch starts it and carries its label."""
    config = alembic_config(branch)
    # files numbered in the order of their branch: 0001_..., 0002_...
    number = len(list(versions_dir(branch).glob("[0-9][0-9][0-9][0-9]_*.py"))) + 1
    config.set_main_option("file_template", f"{number:04d}_%%(slug)s")
    engine = _at_heads(config, None)
    try:
        script = ScriptDirectory.from_config(config)
        started = any(branch in (revision.branch_labels or ()) for revision in script.walk_revisions())
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            config.attributes["include_object"] = _owned_by(branch)
            return command.revision(config, message=message, autogenerate=True,
                                    head=f"{branch}@head" if started else "base",
                                    branch_label=None if started else branch,
                                    version_path=str(versions_dir(branch)))
    finally:
        engine.dispose()


def differences(branch: str, url: str | None = None) -> list:
    """What autogenerate finds between the branch's models and its migrations applied to the
    database at `url` (brought to heads first) or to a scratch SQLite database: [] when none."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    config = alembic_config(branch, url)
    engine = _at_heads(config, url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_server_default": True})
            return compare_metadata(context, config.attributes["metadata"])
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="yjs-migrate")
    parser.add_argument("action", choices=["upgrade", "revision", "check"])
    parser.add_argument("service", help="a service, or `kit` for the kit's own tables (revision, check)")
    parser.add_argument("-m", "--message", default="change")
    parser.add_argument("--url", help="check: a database to bring to heads and compare (default: a scratch SQLite one)")
    args = parser.parse_args(argv)
    if not has_migrations(args.service):
        print(f"yjs-migrate: {args.service!r} is neither `kit` nor an installed service with migrations", file=sys.stderr)
        return 2
    if args.action == "upgrade":
        upgrade(args.service)
    elif args.action == "revision":
        revision(args.service, args.message)
    else:
        found = differences(args.service, args.url)
        if found:
            print(f"{args.service}: the models and the migrations differ:")
            for difference in found:
                print(f"  {difference}")
            return 1
        print(f"{args.service}: the migrations build the models")
    return 0


if __name__ == "__main__":
    sys.exit(main())
