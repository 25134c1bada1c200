"""`codexbar cache clear`: forget cached figures.

CodexBar's flags work with its meaning where one exists here (contract §8):

- `--cost`: CodexBar's cost-usage cache; ours is the cached snapshots (the figures and
  spend a `--max-age` answer reuses), so that is what it clears.
- `--cookies`: CodexBar's browser-cookie caches. Nothing here reads browser cookies, so there
  is never anything to clear; `--provider` (which scopes cookies only) is checked as
  CodexBar checks it.
- `--all`: both.

Plain `codexbar cache clear` (an error in CodexBar) keeps its meaning here: clear the
snapshots and say how many.
"""

from __future__ import annotations

import argparse

from codexbar.commands._common import Parser, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def build_parser(prog: str) -> Parser:
    parser = Parser(prog=prog, description="Manage cached snapshots.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    clear = sub.add_parser(
        "clear",
        help="remove every cached snapshot",
        description="Remove cached figures. Without flags: every cached snapshot. CodexBar's\n"
        "--cost clears the same snapshots; --cookies has nothing to clear here (no browser\n"
        "cookies are read); --all does both.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    clear.add_argument("--cost", action="store_true", help="cached figures and spend")
    clear.add_argument(
        "--cookies", action="store_true", help="browser cookie caches (none here: a no-op)"
    )
    clear.add_argument("--all", action="store_true", help="both")
    clear.add_argument("--provider", metavar="NAME", help="scope --cookies to one provider")
    clear.add_argument("--format", metavar="FORMAT", help="text (default) or json")
    clear.add_argument("--json", action="store_true", help="same as --format json")
    clear.add_argument("--json-only", action="store_true", help="JSON, errors too")
    clear.add_argument("--pretty", action="store_true", help="indent JSON (keys sorted)")
    clear.add_argument(
        "-v", "--verbose", action="store_true", help="accepted for CodexBar (no effect)"
    )
    clear.add_argument(
        "--json-output", action="store_true", help="accepted for CodexBar (no logs to write)"
    )
    clear.add_argument("--log-level", metavar="LEVEL", help="accepted for CodexBar (no effect)")
    return parser


def _json_mode(opts: argparse.Namespace) -> bool:
    """CodexBar's rule: an explicit text|json --format wins; else --json or --json-only."""
    if opts.format in ("text", "json"):
        return bool(opts.format == "json")
    return bool(opts.json or opts.json_only)


def run(opts: argparse.Namespace) -> int:
    from codexbar import cache

    cookies = opts.cookies or opts.all
    cost = opts.cost or opts.all
    if not (cookies or cost):
        if opts.provider is not None or _json_mode(opts):
            return fail(opts, "Specify --cookies, --cost, or --all.")
        removed = cache.clear()
        write(f"Removed {removed} cached snapshot{'s' if removed != 1 else ''}.\n")
        return EXIT_OK
    if opts.provider is not None and cost:
        return fail(
            opts,
            "--provider only scopes cookie caches. Use --cookies --provider <name>, or omit "
            "--provider.",
        )
    results: list[dict[str, Any]] = []
    if cookies:
        entry: dict[str, Any] = {"cache": "cookies"}
        if opts.provider is not None:
            from codexbar.errors import UsageError
            from codexbar.providers import resolve

            try:
                info = resolve(opts.provider)
            except UsageError:
                info = None
            if info is None:  # `all` is no provider name for CodexBar either
                return fail(opts, f"Unknown provider: {opts.provider}")
            entry["provider"] = info.id
        entry["cleared"] = 0  # nothing here reads browser cookies
        results.append(entry)
    if cost:
        try:
            removed = cache.clear()
        except OSError as exc:
            results.append({"cache": "cost", "cleared": 0, "error": exc.strerror or str(exc)})
        else:
            results.append({"cache": "cost", "cleared": removed})
    if _json_mode(opts):
        from codexbar.jsonnum import dumps

        write(dumps(results, pretty=opts.pretty, sort_keys=opts.pretty) + "\n")
    else:
        lines = []
        for result in results:
            scope = result.get("provider", "all providers")
            if "error" in result:
                lines.append(f"{result['cache']}: failed to clear ({scope}) - {result['error']}")
            elif result["cleared"] > 0:
                lines.append(f"{result['cache']}: cleared ({scope})")
            else:
                lines.append(f"{result['cache']}: nothing to clear ({scope})")
        write("\n".join(lines) + "\n")
    return EXIT_FAILURE if any("error" in r for r in results) else EXIT_OK


def fail(opts: argparse.Namespace, message: str) -> int:
    """CodexBar's argument error: exit 1, its CLI error payload on stdout in JSON mode."""
    if _json_mode(opts):
        from codexbar.jsonnum import dumps
        from codexbar.render.error_rows import cli_error

        write(dumps(cli_error(message, EXIT_FAILURE, "args"), pretty=opts.pretty) + "\n")
    else:
        from codexbar.commands._common import error

        error(message)
    return EXIT_FAILURE
