"""Command-line entry point: the command registry and dispatch only.

Each command lives in its own module with `build_parser(prog)` and `run(opts)`; it is imported
only when used, so `codexbar --help` and cached answers stay fast.

Placement follows CodexBar (docs/codexbar-compat.md): no arguments, or a first argument that
is a flag, runs `usage`; `-V`/`--version` anywhere prints the version. Our own global flags
(-p, --demo, --max-age, --refresh, --strict, --timeout, --chart, --template, -v, --no-color)
may also come before the command word: `codexbar -v config validate` is `codexbar config
validate -v`. An error that ends the command is CodexBar's CLI error document on stdout when
the output is JSON (`--json`, `--json-only`, `--format json`; TOON for `usage --format toon`),
else one `Error:` line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codexbar.commands import COMMANDS, epilog
from codexbar.errors import EXIT_OK, CodexbarError

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse

__all__ = ["COMMANDS", "dispatch", "epilog", "main"]

# Our flags that may precede the command word: name -> takes a value.
GLOBAL_FLAGS: dict[str, bool] = {
    "-p": True,
    "--provider": True,
    "--demo": False,
    "--max-age": True,
    "--refresh": False,
    "--strict": False,
    "--timeout": True,
    "--chart": True,
    "--template": True,
    "-v": False,
    "--verbose": False,
    "--no-color": False,
}
# Presentation only: dropped (not an error) when the command has no such flag. `-v` still
# asks main() for detail on an unexpected error; a command without --no-color prints no colour.
_OPTIONAL_FLAGS = ("-v", "--verbose", "--no-color")
# CodexBar's commands, whose errors are its CLI error document in JSON output (`dashboard`
# reports on stderr in CodexBar too, so it is not among them).
CODEXBAR_COMMANDS = ("usage", "config", "cache", "diagnose", "guard", "hooks", "serve")
# Formats of ours that are not JSON documents: an error then goes to stderr.
_TEXT_FORMATS = ("text", "waybar", "i3blocks", "line", "csv")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    from codexbar.commands._common import error

    try:
        return dispatch(args)
    except CodexbarError as exc:
        report(exc, args)
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # last line of defence: one line, never a traceback or a key
        detail = f": {exc}" if verbose else " (run with -v for detail)"
        unexpected = CodexbarError(f"unexpected {type(exc).__name__}{detail}")
        unexpected.kind = "runtime"
        report(unexpected, args)
        return 1


def dispatch(args: list[str]) -> int:
    import importlib

    if _asks_version(args):
        from codexbar import __version__
        from codexbar.commands._common import write

        write(f"codexbar {__version__}\n")
        return EXIT_OK
    args, hoisted = hoist(args)
    name = args[0] if args and args[0] in COMMANDS else "usage"
    if args and args[0] == name:
        args = args[1:]
        prog = f"codexbar {name}"
    else:
        prog = "codexbar"
    module = importlib.import_module(f"codexbar.commands.{name}")
    parser = module.build_parser(prog, epilog()) if name == "usage" else module.build_parser(prog)
    if hoisted:
        args = place(parser, args, hoisted)
    code: int = module.run(parser.parse_args(args))
    return code


def _asks_version(args: Sequence[str]) -> bool:
    """CodexBar's raw scan: `-V` or `--version` anywhere (before a `--`)."""
    for arg in args:
        if arg == "--":
            return False
        if arg in ("-V", "--version"):
            return True
    return False


def hoist(args: list[str]) -> tuple[list[str], list[list[str]]]:
    """Our global flags before a command word, taken out: (the rest, each flag with its
    value). Anything else first (CodexBar's own flags, or no command word after them) leaves
    the arguments as they are, and they run `usage` as in CodexBar."""
    taken: list[list[str]] = []
    index = 0
    while index < len(args):
        arg = args[index]
        flag = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if flag not in GLOBAL_FLAGS:
            break
        if GLOBAL_FLAGS[flag] and "=" not in arg:
            if index + 1 >= len(args):
                return args, []
            taken.append([arg, args[index + 1]])
            index += 2
        else:
            taken.append([arg])
            index += 1
    if not taken or index >= len(args) or args[index] not in COMMANDS:
        return args, []
    return args[index:], taken


def place(parser: argparse.ArgumentParser, args: list[str], hoisted: list[list[str]]) -> list[str]:
    """The hoisted flags where the command's parser reads them: after its words (before a
    `--`). A presentation flag the command does not have is dropped; any other stays, for the
    parser to refuse in its own words."""
    leaf = _leaf(parser, args)
    moved: list[str] = []
    for item in hoisted:
        flag = item[0].split("=", 1)[0]
        if flag in _OPTIONAL_FLAGS and flag not in leaf._option_string_actions:
            continue
        moved += item
    end = args.index("--") if "--" in args else len(args)
    return [*args[:end], *moved, *args[end:]]


def _leaf(parser: argparse.ArgumentParser, args: list[str]) -> argparse.ArgumentParser:
    """The (sub)parser that reads the options after the words in `args`."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            choices: dict[str, argparse.ArgumentParser] = action.choices
            for position, word in enumerate(args):
                if word in choices:
                    return _leaf(choices[word], args[position + 1 :])
    return parser


def output_preferences(args: Sequence[str]) -> tuple[str | None, bool, bool]:
    """CodexBar's raw argv scan for where an error goes: (`json`, `toon` or None for
    text, json_only, pretty). An explicit --format beats --json/--json-only; TOON is
    `usage`'s alone; commands CodexBar does not have (and `dashboard`) report on stderr."""
    effective = list(args)
    if not effective or effective[0].startswith("-"):
        effective = ["usage", *effective]
    if effective[0] in COMMANDS and effective[0] not in CODEXBAR_COMMANDS:
        return None, False, False  # ours (history, keys...): their JSON is their own
    json_only = pretty = shortcut = False
    explicit: str | None = None
    index = 0
    while index < len(effective):
        arg = effective[index]
        if arg == "--json-only":
            json_only = shortcut = True
        elif arg == "--json":
            shortcut = True
        elif arg == "--pretty":
            pretty = True
        elif arg == "--format" and index + 1 < len(effective):
            explicit = effective[index + 1]
            index += 1
        elif arg.startswith("--format=") and arg != "--format=":
            explicit = arg.removeprefix("--format=")
        index += 1
    usage = effective[0] not in COMMANDS or effective[0] == "usage"
    fmt = explicit.strip().lower() if explicit is not None else None
    if fmt == "toon" and usage:
        return "toon", json_only, pretty
    if fmt == "json":
        return "json", json_only, pretty
    if fmt in _TEXT_FORMATS:
        return None, json_only, pretty
    return ("json" if shortcut else None), json_only, pretty


def report(exc: CodexbarError, args: Sequence[str]) -> None:
    """An error that ended the command: CodexBar's CLI error document on stdout in JSON (or
    TOON) output, and our one line on stderr unless --json-only asked for nothing but JSON."""
    from codexbar.commands._common import error

    fmt, json_only, pretty = output_preferences(args)
    if fmt is not None:
        from codexbar.commands._common import write
        from codexbar.render.json_payload import cli_error_payload, encode

        document = cli_error_payload(exc)
        if fmt == "toon":
            from codexbar.toon import dumps

            write(dumps(document) + "\n")
        else:
            write(encode(document, pretty=pretty) + "\n")
    if not json_only:
        error(exc.one_line())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
