"""One module per command, each with `build_parser(prog)` and `run(opts)`.

Commands never import one another: what two of them share lives in `commands._common` (flags,
account selection, safe output) or below the command layer (pipeline, render, rules).
"""

from __future__ import annotations

# name -> one-line summary; the module is codexbar.commands.<name>. `usage` is the default.
COMMANDS: dict[str, str] = {
    "usage": "show the card(s) (default): codexbar -p or",
    "config": "read and edit the config file",
    "cache": "cache clear: forget cached snapshots",
    "diagnose": "versions, config, key source (masked), reachability",
    "history": "spend per day or model from local history; prune",
    "watch": "live card(s), refreshed every N s; r refreshes, q quits",
    "guard": "exit 1 when too little is left or a spending limit is crossed (scripts)",
    "keys": "every key of the account (management key), by spend",
    "serve": "CodexBar's HTTP API, Prometheus /metrics and web card (serve extra)",
    "dashboard": "one dashboard-v1 snapshot (CodexBar's schema) as JSON",
    "tray": "menu-bar/tray icon and card with alerts (extra: tray)",
    "alerts": "alerts check: new limit/balance/budget/expiry alerts",
    "completion": "completion bash|zsh|fish: tab-completion script",
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
