"""Command-line entry point: the command registry and dispatch only.

Each command lives in its own module with `build_parser(prog)` and `run(opts)`; it is imported
only when used, so `codexbar --help` and cached answers stay fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from codexbar.errors import EXIT_OK, CodexbarError

# name -> (module, one-line summary). `usage` is the default command.
COMMANDS: dict[str, tuple[str, str]] = {
    "usage": ("codexbar.cmd_usage", "show the card(s) (default): codexbar -p or"),
    "config": ("codexbar.cmd_config", "read and edit the config file"),
    "cache": ("codexbar.cmd_cache", "cache clear: forget cached snapshots"),
    "diagnose": ("codexbar.cmd_diagnose", "versions, config, key source (masked), reachability"),
    "history": ("codexbar.cmd_history", "spend per day or model from local history; prune"),
    "watch": ("codexbar.cmd_watch", "live card(s), refreshed every N s; r refreshes, q quits"),
    "guard": ("codexbar.cmd_guard", "exit 1 when a spending limit is crossed (for scripts)"),
    "keys": ("codexbar.cmd_keys", "every key of the account (management key), by spend"),
    "serve": ("codexbar.cmd_serve", "Prometheus /metrics, JSON API and web card (serve extra)"),
    "tray": ("codexbar.cmd_tray", "menu-bar/tray icon and card with alerts (extra: tray)"),
    "alerts": ("codexbar.cmd_alerts", "alerts check: new limit/balance/budget/expiry alerts"),
    "completion": ("codexbar.cmd_completion", "completion bash|zsh|fish: tab-completion script"),
}

EPILOG_TAIL = """\
precedence: command-line flag > environment variable > config file > default
  (OPENROUTER_API_KEY beats a stored apiKey; CodexBar lets the file win)

environment:
  OPENROUTER_API_KEY             API key
  OPENROUTER_MANAGEMENT_API_KEY  management key (balance, 30-day activity)
  OPENROUTER_API_URL             API base URL (https://, or http:// to loopback only)
  OPENROUTER_MANAGEMENT_API_URL  where the management key may go (default openrouter.ai)
  OPENROUTER_HTTP_REFERER        sent as HTTP-Referer when set
  OPENROUTER_X_TITLE             sent as X-Title (default CodexBar)
  CODEXBAR_CONFIG                config file path;  NO_COLOR  disables colour

exit codes:
  0 ok   1 provider/API failure (rejected or missing key, server errors)
  3 unparseable response   4 timeout or network unreachable   64 usage error
"""


def epilog() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = [f"  {name:<{width}}{summary}" for name, (_, summary) in COMMANDS.items()]
    return "commands (codexbar COMMAND --help):\n" + "\n".join(lines) + "\n\n" + EPILOG_TAIL


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    from codexbar.cliutil import error

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
    module = importlib.import_module(COMMANDS[name][0])
    parser = module.build_parser(prog, epilog()) if name == "usage" else module.build_parser(prog)
    code: int = module.run(parser.parse_args(args))
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
