"""The whole command line as one argparse tree, for shell completion and the man page.

`cli.dispatch` parses with one command's parser at a time (so `--help` imports one module);
completion and the man page need every command at once. This builds them from the same
registry and the same `build_parser` functions, so a new command or flag reaches both without
anyone listing it again. Nothing here is used when a command runs.
"""

from __future__ import annotations

import argparse
import importlib

from codexbar.commands import COMMANDS, epilog
from codexbar.commands._common import Parser

PROG = "codexbar"


def command_parser(name: str, prog: str) -> Parser:
    """The parser `codexbar NAME` uses, built by its own module."""
    module = importlib.import_module(f"codexbar.commands.{name}")
    parser: Parser = (
        module.build_parser(prog, epilog()) if name == "usage" else module.build_parser(prog)
    )
    return parser


def provider_names(*, with_all: bool) -> list[str]:
    """What `--provider` accepts: every id and alias (and `all` where the flag takes it)."""
    from codexbar.providers import PROVIDERS

    names = [name for info in PROVIDERS.values() for name in (info.id, *info.aliases)]
    return [*names, "all"] if with_all else names


def full_parser(*, with_usage: bool = True) -> argparse.ArgumentParser:
    """`codexbar` with its own flags (those of `usage`, the default command) and every
    command of the registry as a subcommand, each the very parser that command parses with.
    `with_usage=False` leaves out `usage` itself, whose flags are the root's already."""
    root = command_parser("usage", PROG)
    commands = root.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", parser_class=Parser
    )
    for name, summary in COMMANDS.items():
        if name == "usage" and not with_usage:
            continue
        # add_parser registers the name and its summary; the registered parser is then
        # replaced by the command's own (argparse keeps one dict for both: `choices`).
        commands.add_parser(name, help=summary)
        commands.choices[name] = command_parser(name, f"{PROG} {name}")
    return root


def walk(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """This parser and every subparser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):  # aliases map to one parser
                found.extend(walk(sub))
    return found


def name_providers(root: argparse.ArgumentParser) -> None:
    """Give every provider argument its names as choices, for completion to offer them.
    The flags take free text on purpose (so an unknown name gets our own error, exit 64);
    this tree is never used to parse, so the choices change nothing else."""
    for parser in walk(root):
        in_config = parser.prog.startswith(f"{PROG} config")
        for action in parser._actions:
            takes_provider = action.dest == "provider" or (
                in_config and action.dest == "name" and not action.option_strings
            )
            if takes_provider and action.choices is None and action.nargs != 0:
                action.choices = provider_names(with_all=not in_config)
