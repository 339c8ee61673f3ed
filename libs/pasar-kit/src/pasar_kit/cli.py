"""The command line every service shares: ``pasar-<service> [serve|migrate|...]``.

``serve`` (the default) applies pending migrations, then serves until SIGTERM;
``--no-migrate`` leaves migrations to a separate ``migrate`` step, as a deployment with
several instances does. A service adds its own commands (the catalog's ``load-demo``).
Configuration errors end the process with status 2 and a message naming the variable.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import peewee

from pasar_kit import database as db
from pasar_kit.config import ConfigError, Env
from pasar_kit.logs import configure_logging
from pasar_kit.memory import limit_malloc_arenas
from pasar_kit.server import GrpcServer, run_until_terminated

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtraCommand:
    """A service-specific command that works on the service's database."""

    help: str
    run: Callable[[Env, peewee.Database], None]


@dataclass(frozen=True)
class ServiceCli:
    """What the shared command line needs to know about a service."""

    name: str
    description: str
    migrations_dir: Path
    open_database: Callable[[Env], peewee.Database]
    build_server: Callable[[Env, peewee.Database], GrpcServer]
    extra_commands: Mapping[str, ExtraCommand] = field(default_factory=dict)

    def main(self, argv: Sequence[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=f"pasar-{self.name}", description=self.description)
        commands = parser.add_subparsers(dest="command")
        serve = commands.add_parser("serve", help="apply migrations, then serve gRPC until SIGTERM (default)")
        serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations first")
        commands.add_parser("migrate", help="apply pending database migrations and exit")
        for name, extra in self.extra_commands.items():
            commands.add_parser(name, help=extra.help)
        args = parser.parse_args(argv)
        command: str = args.command or "serve"
        env = Env()
        try:
            configure_logging(
                f"svc-{self.name}",
                env.string("PASAR_LOG_LEVEL", "info"),
                env.string("PASAR_LOG_FORMAT", "json"),
            )
            database = self.open_database(env)
            if command == "migrate" or (command == "serve" and not getattr(args, "no_migrate", False)):
                db.migrate(database, self.migrations_dir)
            if command == "serve":
                limit_malloc_arenas()
                run_until_terminated(self.build_server(env, database))
            elif command in self.extra_commands:
                self.extra_commands[command].run(env, database)
        except (ConfigError, db.DatabaseUrlError) as error:
            print(f"pasar-{self.name}: {error}", file=sys.stderr)
            return 2
        return 0
