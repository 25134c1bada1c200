"""Command-line entry point: the command registry and dispatch only.

Each command lives in its own module with `build_parser(prog)` and `run(opts)`; it is imported
only when used, so `codexbar --help` and cached answers stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codexbar.errors import EXIT_OK, CodexbarError

# name -> one-line summary; the module is codexbar.commands.<name>. `usage` is the default.
COMMANDS: dict[str, str] = {
    "usage": "show the card(s) (default): codexbar -p or",
    "config": "read and edit the config file",
    "cache": "cache clear: forget cached snapshots",
    "diagnose": "versions, config, key source (masked), reachability",
    "history": "spend per day or model from local history; prune",
    "watch": "live card(s), refreshed every N s; r refreshes, q quits",
    "guard": "exit 1 when a spending limit is crossed (for scripts)",
    "keys": "every key of the account (management key), by spend",
    "serve": "Prometheus /metrics, JSON API and web card (serve extra)",
    "tray": "menu-bar/tray icon and card with alerts (extra: tray)",
    "alerts": "alerts check: new limit/balance/budget/expiry alerts",
}

EPILOG_TAIL = """\
exit codes:
  0 ok   1 provider/API failure (rejected or missing key, server errors)
  3 unparseable response   4 timeout or network unreachable   64 usage error
"""


def environment() -> str:
    """Every provider's variables (from the providers themselves), then ours."""
    from codexbar.providers import PROVIDERS, load

    pairs = [pair for pid in PROVIDERS for pair in load(pid).environment]
    pairs += [("CODEXBAR_CONFIG", "config file path"), ("NO_COLOR", "disables colour")]
    width = max(len(name) for name, _ in pairs) + 2
    lines = [f"  {name:<{width}}{meaning}" for name, meaning in pairs]
    return (
        "precedence: command-line flag > environment variable > config file > default\n"
        "  (an API key in the environment beats a stored apiKey; CodexBar lets the file win)"
        "\n\nenvironment:\n" + "\n".join(lines) + "\n\n"
    )


def epilog() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = [f"  {name:<{width}}{summary}" for name, summary in COMMANDS.items()]
    head = "commands (codexbar COMMAND --help):\n" + "\n".join(lines) + "\n\n"
    return head + environment() + EPILOG_TAIL


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
