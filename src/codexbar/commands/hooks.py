"""`codexbar hooks list|enable|disable|test|watch`: CodexBar's hook commands.

CodexBar's contract (shared/spec/codexbar-contract.md §9): `list` (the default) prints the
switch and one line per rule; `enable`/`disable` save `hooks.enabled` in config.json (nothing
else changes); `test <event> --provider X` sends a sample event to the matching rules; `watch`
polls every `--interval` seconds (default 300, at least 60) until SIGINT/SIGTERM/SIGHUP and
prints each event it fires. Their flags, texts, JSON and exit codes (1 for every error CodexBar
names) are CodexBar's.

Ours on top: the rules for our own money events, from codexbar-py.json, are listed after
CodexBar's (marked as ours, and under their own JSON key), `test` takes our event names (and
`--dry-run`: nothing runs; an enforcing rule shows the PATCH it would send), and `watch`
fires them too, and says what an enforcing rule did to a key. `watch` judges its polls with
the same detector and state file as the tray, `serve` and `alerts check` (hooks/fire.py),
so a transition one of them fired is not fired again.
"""

from __future__ import annotations

import argparse

from codexbar.commands._common import DefaultCommandParser, Parser, codexbar_output_flags, write
from codexbar.errors import EXIT_FAILURE, EXIT_OK, CodexbarError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codexbar.config import ConfigFile
    from codexbar.hooks.events import HookEvent
    from codexbar.hooks.model import HookRule, HooksConfig
    from codexbar.settings_file import OwnSettings

DEFAULT_INTERVAL = 300.0  # CodexBar's: watch originates traffic on every tick
MIN_INTERVAL = 60.0  # rejected below, not clamped (CodexBar's rule)
FETCH_TIMEOUT = 10.0  # per endpoint, as every other command fetches
SUBCOMMANDS = ("list", "enable", "disable", "test", "watch")


class HookError(CodexbarError):
    """An error CodexBar's hook commands name: exit 1, with CodexBar's kind."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind  # args / config / runtime


class HooksParser(DefaultCommandParser):
    """`codexbar hooks [flags]` runs `list`, as in CodexBar."""

    default_command = "list"


def build_parser(prog: str) -> Parser:
    from codexbar.hooks.events import CODEXBAR_EVENTS, OWN_EVENTS

    parser = HooksParser(
        prog=prog,
        description="Run your own commands when quota or money events happen: CodexBar's "
        "`hooks` in config.json, ours in codexbar-py.json. Without a subcommand: list.",
        epilog="CodexBar's events: " + ", ".join(CODEXBAR_EVENTS) + "\n"
        "codexbar's own (codexbar-py.json only): " + ", ".join(OWN_EVENTS) + "\n\n"
        "The tray, `serve`, `alerts check` and `hooks watch` fire them, each transition\n"
        "once (shared state: $XDG_STATE_HOME/codexbar/hooks.json). See docs/hooks/README.md.\n\n"
        "exit codes: 0 ok   1 a hook failed, nothing matched, hooks disabled, bad event or\n"
        "  provider (CodexBar's)   64 unknown flag or unreadable config",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="action", parser_class=Parser, metavar="SUBCOMMAND")
    codexbar_output_flags(sub.add_parser("list", help="the switch and every rule (default)"))
    codexbar_output_flags(
        sub.add_parser("enable", help="switch hooks on (hooks.enabled in config.json)")
    )
    codexbar_output_flags(sub.add_parser("disable", help="switch hooks off"))
    test = sub.add_parser("test", help="send a sample event to the matching rules")
    test.add_argument("event", nargs="?", default="", metavar="EVENT", help="e.g. quota_reached")
    test.add_argument("--provider", metavar="NAME", help="a provider id or alias")
    test.add_argument(
        "--dry-run",
        action="store_true",
        help="run nothing: show each matching rule's command and the PATCH an enforcing "
        "rule would send (ours; never a key)",
    )
    codexbar_output_flags(test)
    watch = sub.add_parser("watch", help="poll and fire hooks until Ctrl-C")
    watch.add_argument(
        "--interval", metavar="SECONDS", help="poll period (default 300, minimum 60)"
    )
    watch.add_argument(
        "--provider", action="append", metavar="NAME", help="repeatable (default: enabled)"
    )
    watch.add_argument("--verbose", action="store_true", help="print fetch failures on stderr")
    codexbar_output_flags(watch)
    return parser


def wants_json(opts: argparse.Namespace) -> bool:
    """CodexBar's rule: an explicit `--format text|json` wins, else `--json`/`--json-only`."""
    explicit = (getattr(opts, "format", None) or "").strip().lower()
    if explicit in ("text", "json"):
        return explicit == "json"
    return bool(opts.json or opts.json_only)


def _json(value: Any, opts: argparse.Namespace) -> None:
    from codexbar.render.json_payload import encode

    write(encode(value, pretty=opts.pretty) + "\n")


def run(opts: argparse.Namespace) -> int:
    action = opts.action or "list"
    if action == "list":
        return list_rules(opts)
    if action in ("enable", "disable"):
        return set_enabled(opts, action == "enable")
    if action == "test":
        return test(opts)
    return watch(opts)


# --- list, enable, disable ------------------------------------------------------------------


def _load() -> tuple[ConfigFile, HooksConfig, OwnSettings]:
    from codexbar.config import ConfigFile
    from codexbar.hooks.model import HooksConfig, parse_hooks
    from codexbar.settings_file import OwnSettings

    config = ConfigFile.load()
    hooks = parse_hooks(config.data.get("hooks")) or HooksConfig()
    return config, hooks, OwnSettings.for_config(config)


def list_rules(opts: argparse.Namespace) -> int:
    from codexbar.hooks.fire import own_hooks
    from codexbar.hooks.report import list_lines, rule_lines

    _, hooks, own = _load()
    ours, switch = own_hooks(own.hooks, hooks.enabled)
    if wants_json(opts):
        document: dict[str, Any] = hooks.to_json()
        if ours.rules:
            # Extra key (CodexBar's readers ignore it): our rules, and whether they run.
            document["codexbar"] = {
                "file": str(own.path),
                "enabled": ours.enabled,
                "events": [rule.to_json() for rule in ours.rules],
            }
        _json(document, opts)
        return EXIT_OK
    lines = list_lines(hooks)
    if ours.rules:
        note = "" if switch else ' (off: "enabled": false there)'
        lines.append(f"codexbar's own events, from {own.path.name}{note}:")
        lines.extend(rule_lines(ours))
    write("".join(f"{line}\n" for line in lines))
    return EXIT_OK


def set_enabled(opts: argparse.Namespace, enabled: bool) -> int:
    from codexbar.config import ConfigFile
    from codexbar.hooks.model import HooksConfig, parse_hooks
    from codexbar.hooks.report import enabled_line

    with ConfigFile.edit() as config:
        # As CodexBar saves it: the decoded rules re-encoded (a rule without an id gets
        # one, unknown keys go), the switch set.
        hooks = (parse_hooks(config.data.get("hooks")) or HooksConfig()).with_enabled(enabled)
        config.data["hooks"] = hooks.to_json()
    if wants_json(opts):
        _json(hooks.to_json(), opts)
    else:
        write(enabled_line(enabled) + "\n")
    return EXIT_OK


# --- test ------------------------------------------------------------------------------------


def _provider_id(name: str | None) -> str | None:
    """CodexBar's provider id for `--provider`: ours by id or alias, or any id CodexBar knows."""
    from codexbar.providers import find
    from codexbar.providers.codexbar_ids import CODEXBAR_PROVIDERS

    if not name:
        return None
    info = find(name)
    if info is not None:
        return info.id
    wanted = name.strip().lower()
    return wanted if wanted in CODEXBAR_PROVIDERS else None


def test(opts: argparse.Namespace) -> int:
    import sys

    from codexbar.hooks.events import CODEXBAR_EVENTS, OWN_EVENTS, sample_event
    from codexbar.hooks.fire import own_hooks
    from codexbar.hooks.report import no_match_message, result_json, result_line
    from codexbar.hooks.runner import run_rules
    from codexbar.secrets import redact
    from codexbar.textsafe import fit

    event_name: str = opts.event
    if event_name not in CODEXBAR_EVENTS + OWN_EVENTS:
        raise HookError(
            f"Unknown or missing event. Use one of: {', '.join(CODEXBAR_EVENTS)}. "
            f"codexbar's own (codexbar-py.json): {', '.join(OWN_EVENTS)}.",
            "args",
        )
    provider = _provider_id(opts.provider)
    if provider is None:
        raise HookError("Unknown or missing provider. Use --provider <name>.", "args")
    _, hooks, own = _load()
    if event_name in OWN_EVENTS:
        hooks, _switch = own_hooks(own.hooks, hooks.enabled)
    event = sample_event(event_name, provider)
    rules = hooks.matching_rules(event)
    if not rules:
        raise HookError(no_match_message(hooks, event_name, provider), "config")
    if opts.dry_run:
        return dry_run(opts, rules, event)
    results = run_rules(rules, event)
    # A sample event never changes a key: an enforcing rule is only named (--dry-run shows
    # the request it would send).
    enforcing = [rule for rule in rules if rule.enforce is not None]
    if wants_json(opts):
        entries = [result_json(result, event) for result in results]
        entries += [enforce_note_json(rule, event) for rule in enforcing]
        _json(entries, opts)
    else:
        for result in results:
            to_stderr, line = result_line(result)
            if to_stderr:
                sys.stderr.write(fit(redact(line), sys.stderr) + "\n")
            else:
                write(fit(line) + "\n")
        for rule in enforcing:
            write(fit(enforce_note(rule)) + "\n")
    return EXIT_OK if all(result.success for result in results) else EXIT_FAILURE


def enforce_note(rule: HookRule) -> str:
    from codexbar.textsafe import clean

    return clean(
        f"rule {rule.id}: enforce {rule.enforce} not applied by a test "
        "(--dry-run shows the request it would send)"
    )


def enforce_note_json(rule: HookRule, event: HookEvent) -> dict[str, object]:
    return {
        "ruleID": rule.id,
        "event": event.event,
        "provider": event.provider,
        "enforce": rule.enforce,
        "applied": False,
        "success": True,
    }


def dry_run(opts: argparse.Namespace, rules: list[HookRule], event: HookEvent) -> int:
    """`hooks test EVENT --dry-run`: what each matching rule would do, nothing run or sent.
    An enforcing rule is planned for real (the provider's default account is fetched and its
    keys listed with the management key) so the PATCH shown is the one a real event sends."""
    from codexbar.commands._common import dry_run_lines
    from codexbar.textsafe import clean, fit

    entries: list[dict[str, object]] = []
    lines: list[str] = []
    failed = False
    target: Any = None
    for rule in rules:
        entry: dict[str, object] = {
            "ruleID": rule.id,
            "event": event.event,
            "provider": event.provider,
            "dryRun": True,
        }
        if rule.has_command:
            entry.update(executable=rule.executable, arguments=list(rule.arguments))
            lines.append(clean(f"rule {rule.id}: would run {' '.join(rule.command())}"))
        if rule.enforce is not None:
            if target is None:
                target = _enforcement_target(event.provider)
            done = _dry_enforce(rule, event, target)
            entry["enforcement"] = done.to_json()
            lines.append(done.line())
            if done.request is not None:
                request = done.request
                lines += dry_run_lines(str(request["method"]), str(request["url"]), request["body"])
            failed = failed or done.error is not None
        entries.append(entry)
    if wants_json(opts):
        _json(entries, opts)
    else:
        write("".join(fit(clean(line)) + "\n" for line in lines))
    return EXIT_FAILURE if failed else EXIT_OK


def _enforcement_target(provider_id: str) -> Any:
    """The account an enforcing rule would act for (the provider's default account, fetched
    now, nothing stored), or the error that stops it."""
    from codexbar.accounts import Overrides
    from codexbar.config import ConfigFile
    from codexbar.http.client import HttpClient
    from codexbar.pipeline import accounts_for, fetch_one
    from codexbar.providers import PROVIDERS

    if provider_id not in PROVIDERS:
        return CodexbarError(f"codexbar cannot change {provider_id} keys")
    try:
        accounts = accounts_for(provider_id, ConfigFile.load(), Overrides())
    except CodexbarError as exc:
        return exc
    if not accounts:
        return CodexbarError(f"no {provider_id} account configured")
    client = HttpClient(timeout=FETCH_TIMEOUT)
    try:
        result = fetch_one(accounts[0], client, persist=False, with_history=False)
    finally:
        client.close()
    return result.error if result.error is not None else result


def _dry_enforce(rule: HookRule, event: HookEvent, target: Any) -> Any:
    from codexbar.hooks.enforce import Enforced, enforce_rule, rule_text
    from codexbar.http.client import HttpClient

    if isinstance(target, CodexbarError):
        name = rule_text(rule, event)
        return Enforced(rule.id, event.event, name, dry_run=True, error=target.one_line())
    client = HttpClient(timeout=FETCH_TIMEOUT)
    try:
        return enforce_rule(rule, event, target, client, now=event.timestamp, dry_run=True)
    finally:
        client.close()


# --- watch -----------------------------------------------------------------------------------


def _interval(raw: str | None) -> float:
    import math

    if raw is None:
        return DEFAULT_INTERVAL
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise HookError(f"Invalid --interval value: {raw}", "args")
    if value < MIN_INTERVAL:
        raise HookError(f"--interval must be at least {int(MIN_INTERVAL)} seconds.", "args")
    return value


def _named(names: list[str] | None) -> list[str] | None:
    """The providers `--provider` names (checked before the config is read), or None."""
    from codexbar.providers import find

    if not names:
        return None
    chosen: list[str] = []
    for name in names:
        info = find(name)
        if info is None:
            raise HookError(f"Unknown provider: {name}", "args")
        if info.id not in chosen:
            chosen.append(info.id)
    return chosen


def _enabled(config: ConfigFile) -> list[str]:
    from codexbar.providers import PROVIDERS

    enabled = [pid for pid in config.enabled_ids() if pid in PROVIDERS]
    if not enabled:
        raise HookError("No providers are enabled.", "args")
    return list(dict.fromkeys(enabled))


def event_json(event: HookEvent) -> dict[str, object]:
    """`hooks watch --json`: CodexBar's HookEvent in its field order (ours appended)."""
    fields = event.to_json()
    order: tuple[str, ...] = ("event", "provider", "account", "window", "usagePercent")
    order += ("used", "limit", "resetAt", "status", "timestamp")
    out = {key: fields[key] for key in order if key in fields}
    out.update((key, value) for key, value in fields.items() if key not in out)
    return out


def watch(opts: argparse.Namespace) -> int:
    from codexbar.accounts import Overrides
    from codexbar.config import ConfigFile
    from codexbar.hooks.fire import load_setup
    from codexbar.pipeline import accounts_for

    # Arguments first: a broken config must not hide an argument error (CodexBar's order).
    interval = _interval(opts.interval)
    named = _named(opts.provider)
    config = ConfigFile.load()
    providers = named if named is not None else _enabled(config)
    setup = load_setup(config)
    if not setup.codexbar.enabled:
        raise HookError("Hooks are disabled. Run `codexbar hooks enable` first.", "config")
    if not setup.rule_count:
        raise HookError("No hook rules configured. See `codexbar hooks list`.", "config")
    accounts = [account for pid in providers for account in accounts_for(pid, config, Overrides())]
    as_json = wants_json(opts)
    if not as_json:
        from codexbar.hooks.report import watch_banner

        write("".join(f"{line}\n" for line in watch_banner(providers, interval)))
    with _StopOnSignal() as stop:
        while not stop.is_set():
            _poll(accounts, config, setup, opts, as_json)
            stop.wait(interval)
    return EXIT_OK


def _poll(
    accounts: list[Any], config: ConfigFile, setup: Any, opts: argparse.Namespace, as_json: bool
) -> None:
    from codexbar.hooks.fire import fire
    from codexbar.hooks.report import watch_line
    from codexbar.pipeline import collect

    results = collect(accounts, timeout=FETCH_TIMEOUT, refresh=True)
    if opts.verbose:
        from codexbar.commands._common import report_failures

        report_failures(results, strict=True)

    def show(event: HookEvent) -> None:
        if as_json:
            _json(event_json(event), opts)
        else:
            write(watch_line(event) + "\n")

    report = fire(results, config, setup=setup, on_event=show)
    import sys

    from codexbar.secrets import redact
    from codexbar.textsafe import fit

    for fired in report.fired:  # what rules that enforce did to a key (never a key itself)
        for done in fired.enforced:
            stream = sys.stderr if done.error is not None else sys.stdout
            if as_json and done.error is None:
                _json({"enforcement": done.to_json()}, opts)
            else:
                stream.write(fit(redact(done.line()), stream) + "\n")


class _StopOnSignal:
    """SIGINT, SIGTERM and SIGHUP end the watch after the current poll (or at once while it
    sleeps), with exit 0; the previous handlers come back afterwards."""

    def __init__(self) -> None:
        import threading

        self.event = threading.Event()
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> Any:
        import signal

        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None:
                self.previous[signum] = signal.signal(signum, self._handle)
        return self.event

    def _handle(self, signum: int, frame: object) -> None:
        self.event.set()

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
