"""Pieces every command shares: the argparse class, common flag groups, safe output."""

from __future__ import annotations

import argparse
import sys

from codexbar.errors import EXIT_OK, UsageError

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from _typeshed import SupportsWrite

    from codexbar.accounts import Account
    from codexbar.config import ConfigFile
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import AccountResult


def _help_width() -> int:
    """What argparse asks shutil for (`$COLUMNS`, else the terminal, else 80), without
    importing shutil: every parser built pays for that import, even one never printed."""
    import os

    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        try:
            columns = os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            columns = 80
    return max(columns - 2, 11)


class _Width:
    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(  # type: ignore[call-arg]
            prog, indent_increment, max_help_position, width or _help_width()
        )


class HelpFormatter(_Width, argparse.HelpFormatter):
    pass


class RawDescriptionHelpFormatter(_Width, argparse.RawDescriptionHelpFormatter):
    pass


_FORMATTERS: dict[type, type] = {
    argparse.HelpFormatter: HelpFormatter,
    argparse.RawDescriptionHelpFormatter: RawDescriptionHelpFormatter,
}


class Parser(argparse.ArgumentParser):
    """argparse that raises our UsageError (exit 64) instead of exiting with code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        formatter = kwargs.get("formatter_class", argparse.HelpFormatter)
        kwargs["formatter_class"] = _FORMATTERS.get(formatter, formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """argparse's, with the nearest command, word or flag suggested for a mistyped one."""
        argv = list(sys.argv[1:] if args is None else args)
        parsed, extras = self.parse_known_args(argv, namespace)
        if extras:
            self.error(
                f"unrecognized arguments: {' '.join(extras)}{suggestion(self, argv, extras)}"
            )
        return parsed

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # A value outside the choices (a subcommand, --format...): the nearest one, instead
        # of the whole list, when there is one near enough.
        choices = action.choices
        if choices is not None and value not in choices:
            near = nearest(str(value), [str(choice) for choice in choices])
            if near is not None:
                raise argparse.ArgumentError(
                    action, f"invalid choice: {value!r}; did you mean {near!r}?"
                )
        super()._check_value(action, value)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # Help and usage text have a few glyphs (· —): fit them to what the output takes.
        if message:
            from codexbar.textsafe import fit

            stream = file or sys.stderr
            try:
                stream.write(fit(message, stream))  # type: ignore[arg-type]
            except (AttributeError, OSError):
                pass  # as argparse does: no usable output, nothing to say


class DefaultCommandParser(Parser):
    """A command whose bare form, or flags alone, runs one subcommand, as CodexBar's do
    (`config` → validate, `hooks` → list): `default_command` names it."""

    default_command = ""

    def parse_known_args(  # type: ignore[override]
        self, args: list[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        words = list(sys.argv[1:] if args is None else args)
        if not words or (words[0].startswith("-") and words[0] not in ("-h", "--help")):
            words.insert(0, self.default_command)
        return super().parse_known_args(words, namespace)


def codexbar_output_flags(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """CodexBar's output flags of its `config` and `hooks` subcommands; the group, for more."""
    out = parser.add_argument_group("output (as CodexBar)")
    out.add_argument("--format", metavar="text|json", help="text (default) or json")
    out.add_argument("--json", action="store_true", help="= --format json")
    out.add_argument("--json-only", action="store_true", help="JSON, errors as JSON on stdout")
    out.add_argument("--pretty", action="store_true", help="indented JSON, keys sorted")
    return out


def nearest(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate a typo most likely meant (difflib's ratio), or None if none is close."""
    import difflib

    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.7)
    return found[0] if found else None


def _chain(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[argparse.ArgumentParser]:
    """The parser and the subcommand parsers the words of `argv` lead to, outermost first."""
    chain = [parser]
    words = list(argv)
    while True:
        current = chain[-1]
        step = None
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                choices: dict[str, argparse.ArgumentParser] = action.choices
                step = next(((i, choices[w]) for i, w in enumerate(words) if w in choices), None)
        if step is None:
            return chain
        chain.append(step[1])
        words = words[step[0] + 1 :]


def suggestion(parser: argparse.ArgumentParser, argv: Sequence[str], extras: Sequence[str]) -> str:
    """`; did you mean --format?` for the first unrecognized argument near one the command
    has: a long flag of the (sub)command or one of its parents; a word among its
    subcommands and positional choices, and for `codexbar` itself, the command words."""
    from codexbar.commands import COMMANDS

    chain = _chain(parser, argv)
    leaf = chain[-1]
    for extra in extras:
        if extra.startswith("--"):
            flags = [
                flag
                for level in reversed(chain)
                for flag in level._option_string_actions
                if flag.startswith("--")
            ]
            near = nearest(extra.split("=", 1)[0], flags)
            if near is not None:
                return f"; did you mean {near}?"
        elif not extra.startswith("-"):
            words = [
                str(choice)
                for action in leaf._actions
                if not action.option_strings and action.choices is not None
                for choice in action.choices
            ]
            if leaf is parser and parser.prog == "codexbar":
                words += list(COMMANDS)
            near = nearest(extra, words)
            if near is not None:
                return f"; did you mean {near!r}?"
    return ""


def add_selection_flags(parser: argparse.ArgumentParser) -> None:
    sel = parser.add_argument_group("provider and account")
    sel.add_argument(
        "-p",
        "--provider",
        action="append",
        metavar="NAME",
        help="a provider id or alias, or all; repeatable (default: enabled in config)",
    )
    sel.add_argument("--account", metavar="LABEL", help="one labeled account from the config")
    sel.add_argument(
        "--account-index", type=int, metavar="N", help="the N-th labeled account (1-based)"
    )
    sel.add_argument("--all-accounts", action="store_true", help="every labeled account")
    sel.add_argument(
        "--api-url", metavar="URL", help="API base URL (beats the provider's URL variable)"
    )


DEMO_HELP = "the built-in simulated account: no key, no network, nothing of yours read or written"


def add_demo_flag(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, help: str = DEMO_HELP
) -> None:
    """`--demo`, the same meaning everywhere (the CLI runs a demo in `demo.sandbox`)."""
    parser.add_argument("--demo", action="store_true", help=help)


def demo_selection(
    opts: argparse.Namespace, *, timeout: float, providers: Sequence[str] | None = None
) -> tuple[list[Account], HttpClient]:
    """The demo's accounts for the selection flags (`-p`, `--account`; every simulated
    provider by default) and the in-process client that answers for them."""
    from codexbar.demo import demo_client

    ids = list(providers) if providers is not None else demo_provider_ids(opts)
    accounts, client = demo_client(ids or None, timeout=timeout)
    label = getattr(opts, "account", None)
    if label is not None:
        accounts = [a for a in accounts if a.label == label]
        if not accounts:
            client.close()
            raise UsageError(f"the demo has no account labeled {label!r}")
    return accounts, client


def demo_provider_ids(opts: argparse.Namespace, *, lenient: bool = False) -> list[str] | None:
    """The simulated providers `-p`/`--provider` name (comma lists and repeats too); None
    for every one (no flag, or `all`). `lenient` (usage's CodexBar-style `--provider`): a
    name we do not simulate (`codex`, `both`) is a warning and skipped, not an error."""
    from codexbar.providers import PROVIDERS, find, resolve

    names = getattr(opts, "provider", None)
    if not names:
        return None
    ids: list[str] = []
    for name in names if isinstance(names, list) else [names]:
        for part in name.split(","):
            if not part.strip():
                continue
            if lenient and part.strip().lower() != "all" and find(part) is None:
                warn(f"--provider {part.strip()}: not one of the demo's providers; skipped")
                continue
            info = resolve(part)
            ids += [i for i in ([info.id] if info else PROVIDERS) if i not in ids]
    return ids or None


def positive_seconds(text: str) -> float:
    """argparse type: a positive number of seconds (a bad value is a usage error, exit 64)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def add_timeout_flag(
    group: argparse.ArgumentParser | argparse._ArgumentGroup,
    *,
    default: float = 10.0,
    per: str = "endpoint",
) -> None:
    """`--timeout SECONDS`, the same meaning for every command that fetches."""
    group.add_argument(
        "--timeout",
        type=positive_seconds,
        default=default,
        metavar="SECONDS",
        help=f"per {per}, retries included (default {default:g})",
    )


def add_fetch_flags(parser: argparse.ArgumentParser, *, max_age: float | None = None) -> None:
    fetch = parser.add_argument_group("fetching and cache")
    add_timeout_flag(fetch)
    fetch.add_argument(
        "--max-age",
        type=float,
        default=max_age,
        metavar="SECONDS",
        help="accept a cached answer this young, without any request"
        + (f" (default {max_age:g})" if max_age is not None else ""),
    )
    fetch.add_argument("--refresh", action="store_true", help="always fetch, ignoring --max-age")
    fetch.add_argument(
        "--strict", action="store_true", help="fail instead of showing stale cached data"
    )


def write(text: str) -> None:
    """Standard output, with any key scrubbed on the way out. Characters the output cannot
    encode are written as JSON escapes (`textsafe.escape`), which keeps JSON exact; text
    meant for people was already `fit` by its renderer, so none are left there."""
    from codexbar.secrets import redact
    from codexbar.textsafe import escape

    sys.stdout.write(escape(redact(text)))
    sys.stdout.flush()


def error(message: str) -> None:
    """One `Error:` line on stderr. The message may quote a server or the config: it is
    cleaned of escapes and line breaks before the key is scrubbed (so an escape cannot split
    a key past the scrubber), then fit to what stderr can encode."""
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, fit

    sys.stderr.write(fit(redact(f"Error: {clean(message)}"), sys.stderr) + "\n")


def use_color(no_color_flag: bool) -> bool:
    import os

    return sys.stdout.isatty() and not no_color_flag and not os.environ.get("NO_COLOR")


def selection(opts: argparse.Namespace) -> tuple[list[Account], ConfigFile]:
    """The accounts chosen by the selection flags, and the loaded config."""
    from codexbar.config import ConfigFile
    from codexbar.pipeline import accounts_for, select_providers

    config = ConfigFile.load()
    overrides = overrides_of(opts)
    accounts = [
        account
        for provider_id in select_providers(opts.provider, config)
        for account in accounts_for(provider_id, config, overrides)
    ]
    return accounts, config


def overrides_of(opts: argparse.Namespace) -> Any:
    """The selection flags as `accounts.Overrides`."""
    from codexbar.accounts import Overrides

    return Overrides(
        api_url=opts.api_url,
        account=opts.account,
        account_index=opts.account_index,
        all_accounts=opts.all_accounts,
    )


def codexbar_providers(
    names: Sequence[str] | None, config: ConfigFile
) -> tuple[list[str], list[str]]:
    """`--provider` as CodexBar's `usage` reads it: the providers to fetch, and warnings.

    A name or alias of ours, or `all`, picks as usual. `both` (CodexBar's codex and claude)
    and any other provider CodexBar knows pick nothing here: this build fetches none of them,
    so a script asking only for them gets `[]`, as CodexBar would print nothing of ours. A
    name CodexBar does not know either is ignored, as CodexBar ignores it: if nothing else was
    asked for, the default selection applies. Each of these is one warning."""
    from codexbar.pipeline import select_providers
    from codexbar.providers import find, known_names
    from codexbar.providers.codexbar_ids import is_codexbar_name

    if not names:
        return select_providers(None, config), []
    chosen: list[str] = []
    warnings: list[str] = []
    elsewhere = False  # a provider CodexBar fetches and we do not
    for name in names:
        for part in name.split(","):
            word = part.strip().lower()
            if not word:
                continue
            info = find(word)
            # `all`: every enabled provider (every one when none is), as everywhere here.
            ids = select_providers([word], config) if word == "all" else [info.id] if info else []
            chosen.extend(i for i in ids if i not in chosen)
            if ids:
                continue
            if word == "both" or is_codexbar_name(word):
                elsewhere = True
                what = "codex and claude" if word == "both" else repr(part.strip())
                warnings.append(
                    f"--provider {part.strip()}: {what} is not fetched by codexbar "
                    f"(it fetches {known_names()})"
                )
            else:
                warnings.append(
                    f"--provider {part.strip()!r} is not a provider; ignored "
                    f"(known: {known_names()}, all)"
                )
    if not chosen and not elsewhere:
        return select_providers(None, config), warnings
    return chosen, warnings


def warn(message: str) -> None:
    """One `Warning:` line on stderr (cleaned, keys scrubbed, fit to its encoding)."""
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, fit

    sys.stderr.write(fit(redact(f"Warning: {clean(message)}"), sys.stderr) + "\n")


def report_failures(results: Sequence[AccountResult], *, strict: bool) -> int:
    """One `Error:` line per failed account; the exit code of the first failure."""
    from codexbar.providers import attributed

    code = EXIT_OK
    for result in results:
        result_code = result.exit_code(strict=strict)
        if result_code != EXIT_OK and result.error is not None:
            snapshot = result.snapshot
            message = result.error.one_line()
            error(attributed(snapshot.provider, snapshot.account, message, card=False))
            code = code or result_code
    return code


def dry_run_lines(method: str, url: str, body: object) -> list[str]:
    """What a dry run of a key change prints (`keys set-limit --dry-run`, `guard --enforce
    --dry-run`): the request as it would be sent, the management key never shown."""
    import json

    return [
        "Dry run, nothing sent. The request would be:",
        f"  {method} {url}",
        "  Authorization: Bearer <management key, not shown>",
        f"  {json.dumps(body, separators=(',', ':'))}",
    ]
