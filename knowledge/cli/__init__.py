"""`python -m knowledge`: every answer the bot gives, without Discord.

Each command family lives in its own module with a `register(subparsers)` function; errors a
user can fix (a wrong setting among them) exit with status 2 and one line on stderr, never a
traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from typing import NoReturn

from sqlalchemy.exc import InterfaceError, OperationalError

from knowledge.cli import core, digests, experts, meetings, onnx, sources
from knowledge.cli.common import valid_text
from knowledge.errors import KnowledgeError, NotFound
from knowledge.logs import redact, setup_logging

log = logging.getLogger(__name__)

Handler = Callable[[argparse.Namespace], int]


class CommandLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line on stderr, exit status 2, like every
    other user mistake (argparse's own error prints the usage block first); --help is
    argparse's. Command parsers are made of the same class (add_subparsers uses the parent's)."""

    def error(self, message: str) -> NoReturn:
        """Print `error: <what argparse found> (see `<command> --help`)` and exit 2."""
        self.exit(2, f"error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def add_common_options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """-v and --debug, on the program and on every command, so they work on either side of
    the command's name. Under a command they default to "not given" (SUPPRESS): argparse
    copies a command's defaults over the program's, which would undo `--debug show 1`."""
    default = False if top else argparse.SUPPRESS
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log progress to stderr")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="show tracebacks for errors")


def _commands(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every command parser under ``parser``, nested ones (`digest preview`) included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command in dict.fromkeys(action.choices.values()):  # aliases share a parser
                found += [command, *_commands(command)]
    return found


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered command family."""
    parser = CommandLineParser(
        prog="python -m knowledge",
        description="Question, browse and grow the Summit Desk library from the command line.",
    )
    add_common_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (core, experts, meetings, sources, digests, onnx):
        module.register(sub)
    for command in _commands(parser):
        add_common_options(command, top=False)
    for each in (parser, *_commands(parser)):
        _check_text_arguments(each)
    return parser


def _check_text_arguments(parser: argparse.ArgumentParser) -> None:
    """Every argument taken as plain text (no type of its own) must be valid text: checked
    once here, so a question, a name or a topic with bytes that are not UTF-8 is a one-line
    mistake naming the argument. Paths have their own type (Path, or `add`'s URL_OR_PATH,
    which keeps a file name the system gave us) and are left alone."""
    for action in parser._actions:
        if isinstance(action, argparse._StoreAction | argparse._AppendAction) \
                and action.type is None:
            action.type = valid_text


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run the command, map errors to exit codes."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = "DEBUG" if args.debug else ("INFO" if args.verbose else "WARNING")
    setup_logging(level)  # (quietens chatty libraries, Alembic's per-migration lines among them)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KnowledgeError as exc:
        if args.debug:
            log.exception("command failed")
        hint = (f"; `{parser.prog} {exc.listing}` lists them all"
                if isinstance(exc, NotFound) and exc.listing else "")
        print(redact(f"error: {exc}{hint}"), file=sys.stderr)
        return 2
    except (OperationalError, InterfaceError) as exc:
        # The database went away during the command (opening it is mapped in open_service):
        # the driver's words in one line, without SQLAlchemy's link and the statement.
        if args.debug:
            log.exception("command failed")
        words = " ".join(line.strip() for line in str(exc.orig).splitlines() if line.strip())
        print(redact(f"error: database: {words or type(exc.orig).__name__}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        log.debug("unexpected failure", exc_info=True)
        if args.debug:
            log.exception("command failed")  # through logging, so secrets are masked
            return 1
        print(redact(f"internal error: {type(exc).__name__}: {exc} (run with --debug for "
                     "details)"), file=sys.stderr)
        return 1
