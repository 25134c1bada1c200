"""Command-line entry point: the command registry and dispatch only.

Each command lives in its own module with `build_parser(prog)` and `run(opts)`; it is imported
only when used, so `codexbar --help` and cached answers stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codexbar.commands import COMMANDS, epilog
from codexbar.errors import EXIT_OK, CodexbarError

__all__ = ["COMMANDS", "dispatch", "epilog", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    from codexbar.commands._common import error

    try:
        return dispatch(args)
    except CodexbarError as exc:
        error(exc.one_line())
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # last line of defence: one line, never a traceback or a key
        detail = f": {exc}" if verbose else " (run with -v for detail)"
        error(f"unexpected {type(exc).__name__}{detail}")
        return 1


def dispatch(args: list[str]) -> int:
    import importlib

    name = args[0] if args and args[0] in COMMANDS else "usage"
    if args and args[0] == name:
        args = args[1:]
        prog = f"codexbar {name}"
    else:
        prog = "codexbar"
    module = importlib.import_module(f"codexbar.commands.{name}")
    parser = module.build_parser(prog, epilog()) if name == "usage" else module.build_parser(prog)
    code: int = module.run(parser.parse_args(args))
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
