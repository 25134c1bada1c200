"""`codexbar config …`: CodexBar's config subcommands, and ours, without ever printing a key.

CodexBar's (shared/spec/codexbar-contract.md §5): bare `config` = `validate`; `validate`,
`dump`, `providers`, `enable`/`disable --provider X`, `set-api-key`; their flags (`--format
text|json`, `--json`, `--json-only`, `--pretty`, `-v`, `--json-output`, `--log-level`), texts,
JSON documents and issue codes. Ours on top: the positional provider of `enable`/`disable`,
`set-api-key --account LABEL` / `--management` / a default provider, `remove-api-key`,
`path`, and validate's checks of our own settings file and of what CodexBar cannot load.
Exit codes stay ours: 64 for a config or usage error (CodexBar: 1).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from codexbar.commands._common import DefaultCommandParser, Parser, codexbar_output_flags, write
from codexbar.config import ConfigFile, ConfigIssue
from codexbar.errors import EXIT_OK, EXIT_USAGE, CodexbarError, ConfigError, UsageError
from codexbar.paths import config_path
from codexbar.providers import DEFAULT_PROVIDER, PROVIDERS, display_name, known_names, resolve
from codexbar.secrets import remember_secret
from codexbar.settings_file import FILE_NAME, OwnSettings, settings_path

SUBCOMMANDS = (
    "validate",
    "dump",
    "providers",
    "enable",
    "disable",
    "set-api-key",
    "remove-api-key",
    "path",
)
REDACTED = "[REDACTED]"
# CodexBar redacts these entry keys; we also redact any other key whose name looks secret.
REDACTED_KEYS = ("apiKey", "secretKey", "cookieHeader")
SECRET_WORDS = ("key", "token", "secret", "password", "cookie")
API_KEY_FLAG_WARNING = (
    "Warning: a key given with --api-key is visible to other users of this machine in the "
    "process list (ps); prefer: printf '%s' \"$KEY\" | codexbar config set-api-key --stdin"
)
UNKNOWN_PROVIDER = "Unknown or missing provider. Use --provider <name>."


class ConfigParser(DefaultCommandParser):
    """`codexbar config [flags]` runs `validate`, as in CodexBar."""

    default_command = "validate"


def _output_flags(parser: argparse.ArgumentParser) -> None:
    out = codexbar_output_flags(parser)
    # CodexBar's logging flags: accepted; these subcommands have nothing to log.
    out.add_argument("-v", "--verbose", action="store_true", help="accepted (nothing to log)")
    out.add_argument("--json-output", action="store_true", help="accepted (nothing to log)")
    out.add_argument("--log-level", metavar="LEVEL", help="accepted (nothing to log)")


def _provider_flag(parser: argparse.ArgumentParser, *, default: str | None = None) -> None:
    parser.add_argument(
        "-p",
        "--provider",
        default=default,
        metavar="NAME",
        help=f"a provider id or alias{f' (default {default})' if default else ''}",
    )


def build_parser(prog: str) -> Parser:
    parser = ConfigParser(
        prog=prog,
        description="Check and edit CodexBar's config file (and codexbar's own settings file "
        f"beside it, {FILE_NAME}). Without a subcommand: validate.",
    )
    sub = parser.add_subparsers(dest="action", parser_class=Parser, metavar="SUBCOMMAND")
    validate = sub.add_parser("validate", help="check the config; one line per issue")
    _output_flags(validate)
    dump = sub.add_parser("dump", help="print the config as JSON (secrets [REDACTED])")
    dump.add_argument("--show-secrets", action="store_true", help="print keys and tokens too")
    _output_flags(dump)
    providers = sub.add_parser("providers", help="list providers and whether each is enabled")
    _output_flags(providers)
    for name in ("enable", "disable"):
        toggle = sub.add_parser(name, help=f"{name} a provider")
        toggle.add_argument("name", nargs="?", metavar="PROVIDER", help="same as --provider")
        _provider_flag(toggle)
        _output_flags(toggle)
    setkey = sub.add_parser("set-api-key", help="store an API key (from --stdin or --api-key)")
    _provider_flag(setkey, default=DEFAULT_PROVIDER)
    setkey.add_argument("--stdin", action="store_true", help="read the key from standard input")
    setkey.add_argument(
        "--api-key", metavar="KEY", help="the key (prefer --stdin: argv is visible to ps)"
    )
    setkey.add_argument("--no-enable", action="store_true", help="do not enable the provider")
    setkey.add_argument("--account", metavar="LABEL", help="store as a labeled token account")
    setkey.add_argument("--management", action="store_true", help="store the management key")
    for flag in ("--label", "--usage-scope", "--organization-id", "--workspace-id"):
        setkey.add_argument(flag, metavar="X", help="CodexBar's, for z.ai only: refused")
    _output_flags(setkey)
    remove = sub.add_parser("remove-api-key", help="remove a stored key")
    _provider_flag(remove, default=DEFAULT_PROVIDER)
    remove.add_argument("--account", metavar="LABEL")
    remove.add_argument("--management", action="store_true")
    _output_flags(remove)
    path = sub.add_parser("path", help="print the config file path")
    _output_flags(path)
    return parser


# --- output ------------------------------------------------------------------------------


def wants_json(opts: argparse.Namespace) -> bool:
    """CodexBar's rule: an explicit `--format text|json` wins, else `--json`/`--json-only`."""
    explicit = (getattr(opts, "format", None) or "").lower()
    if explicit in ("text", "json"):
        return explicit == "json"
    return bool(getattr(opts, "json", False) or getattr(opts, "json_only", False))


def json_text(value: Any, *, pretty: bool) -> str:
    """Compact, or CodexBar's `--pretty` (two-space indent, keys sorted); one final newline."""
    if pretty:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n"


def _kind(error: CodexbarError) -> str:
    if isinstance(error, ConfigError):
        return "config"
    return "args" if isinstance(error, UsageError) else "runtime"


def run(opts: argparse.Namespace) -> int:
    try:
        return _run(opts)
    except CodexbarError as exc:
        if not (wants_json(opts) or getattr(opts, "json_only", False)):
            raise
        # CodexBar's CLI error payload, on stdout when the output is JSON (§2.6).
        error = {"code": exc.exit_code, "message": exc.one_line(), "kind": _kind(exc)}
        payload = [{"provider": "cli", "source": "cli", "error": error}]
        write(json_text(payload, pretty=opts.pretty))
        return exc.exit_code


def _run(opts: argparse.Namespace) -> int:
    action: str = opts.action or "validate"
    if action == "path":
        return path(opts)
    if action == "validate":
        return validate(opts)
    if action == "dump":
        return dump(opts)
    if action == "providers":
        return providers(opts)
    if action == "set-api-key":
        return set_api_key(opts)
    if action == "remove-api-key":
        return remove_api_key(opts)
    return enable(opts)


def _provider_id(name: str | None) -> str:
    """One provider codexbar handles, by id or alias (CodexBar's error otherwise; `all` and
    `both` name no single provider there either)."""
    try:
        info = resolve(name) if name else None
    except UsageError:
        info = None
    if info is None:
        raise UsageError(UNKNOWN_PROVIDER, hint=f"codexbar knows: {known_names()}")
    return info.id


# --- path, dump, providers ---------------------------------------------------------------


def path(opts: argparse.Namespace) -> int:
    where = config_path()
    if wants_json(opts):
        document = {"configPath": str(where), "settingsPath": str(settings_path(where))}
        write(json_text(document, pretty=opts.pretty))
    else:
        write(f"{where}\n")
    return EXIT_OK


def redacted(document: dict[str, Any]) -> dict[str, Any]:
    """CodexBar's `sanitizedForDump`: `apiKey`, `secretKey`, `cookieHeader`, every
    `pluginSecrets` value and every account `token` read `[REDACTED]`; so does any other
    string under a secret-looking name (a provider entry's own keys)."""
    out = dict(document)
    entries = out.get("providers")
    if isinstance(entries, list):
        out["providers"] = [_redacted_entry(e) if isinstance(e, dict) else e for e in entries]
    return out


def _redacted_entry(entry: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key in REDACTED_KEYS:
            out[key] = REDACTED
        elif key == "pluginSecrets" and isinstance(value, dict):
            out[key] = dict.fromkeys(value, REDACTED)
        elif key == "tokenAccounts" and isinstance(value, dict):
            accounts = value.get("accounts")
            out[key] = {
                **value,
                "accounts": [
                    {**a, "token": REDACTED} if isinstance(a, dict) and "token" in a else a
                    for a in (accounts if isinstance(accounts, list) else [])
                ],
            }
        else:
            out[key] = _redact_named(value, any(w in key.lower() for w in SECRET_WORDS))
    return out


def _redact_named(value: Any, secret: bool) -> Any:
    if isinstance(value, dict):
        return {
            k: _redact_named(v, secret or any(w in k.lower() for w in SECRET_WORDS))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact_named(v, secret) for v in value]
    return REDACTED if secret and isinstance(value, str) and value else value


def dump(opts: argparse.Namespace) -> int:
    """The config as a save would write it (always JSON, as in CodexBar)."""
    document = ConfigFile.load().document()
    if opts.show_secrets:
        # Asked for explicitly: the one output not scrubbed of keys (write() would mask them).
        sys.stdout.write(json_text(document, pretty=opts.pretty))
        sys.stdout.flush()
        return EXIT_OK
    write(json_text(redacted(document), pretty=opts.pretty))
    return EXIT_OK


def providers(opts: argparse.Namespace) -> int:
    """CodexBar's list: `<id>: enabled|disabled[ default] (<Name>)`; the file's entries in
    its order, then the providers codexbar shows that it lacks (in CodexBar's order)."""
    from codexbar.providers.codexbar_ids import (
        CODEXBAR_DEFAULT_ENABLED,
        CODEXBAR_ORDER,
        CODEXBAR_PROVIDERS,
    )

    config = ConfigFile.load()
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    ours = sorted(PROVIDERS, key=lambda p: CODEXBAR_ORDER.index(p) if p in CODEXBAR_ORDER else 999)
    ids = [e.get("id") for e in config.providers()] + ours
    for pid in ids:
        if not isinstance(pid, str) or pid in seen:
            continue
        if pid not in PROVIDERS and pid not in CODEXBAR_PROVIDERS:
            continue  # CodexBar skips such an entry too
        seen.add(pid)
        entry = config.provider(pid) or {}
        default = pid in CODEXBAR_DEFAULT_ENABLED
        enabled = entry.get("enabled")
        rows.append(
            {
                "provider": pid,
                "displayName": display_name(pid),
                "enabled": enabled if isinstance(enabled, bool) else default,
                "defaultEnabled": default,
            }
        )
    if wants_json(opts):
        write(json_text(rows, pretty=opts.pretty))
        return EXIT_OK
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        marker = " default" if row["defaultEnabled"] else ""
        write(f"{row['provider']}: {state}{marker} ({row['displayName']})\n")
    return EXIT_OK


# --- writers ------------------------------------------------------------------------------


def enable(opts: argparse.Namespace) -> int:
    provider = _provider_id(opts.provider or opts.name)
    turn_on = opts.action == "enable"
    with ConfigFile.edit() as config:
        config.set_enabled(provider, turn_on)
    if wants_json(opts):
        result = {
            "provider": provider,
            "displayName": display_name(provider),
            "enabled": turn_on,
            "configPath": str(config.path),
        }
        write(json_text(result, pretty=opts.pretty))
    else:
        write(f"Config: {'enabled' if turn_on else 'disabled'} {display_name(provider)}\n")
    return EXIT_OK


def read_key(opts: argparse.Namespace) -> str:
    """The key from `--api-key` or all of stdin, cleaned as CodexBar cleans it (trimmed, one
    pair of quotes dropped); what cannot be a key at all is refused without echoing it."""
    from codexbar.accounts import clean_value

    if opts.stdin and opts.api_key is not None:
        raise UsageError("Use either --api-key or --stdin, not both.")
    if opts.stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("--stdin expects the key on standard input (printf '%s' \"$KEY\" | …)")
        raw: str | None = sys.stdin.read()
    else:
        raw = opts.api_key
        if raw is not None and not opts.json_only:
            # Kept for CodexBar's sake, but argv is public: any user on the machine sees it.
            sys.stderr.write(API_KEY_FLAG_WARNING + "\n")
    key = clean_value(raw)
    if key is None:
        raise UsageError("Missing API key. Pass --api-key <key> or pipe it with --stdin.")
    if any(ch.isspace() for ch in key):
        raise UsageError("the key contains whitespace; paste exactly one key")
    if not (key.isascii() and key.isprintable()):
        raise UsageError("the key contains characters no API key has; paste exactly one key")
    remember_secret(key)
    return key


def _admin_secret(provider_id: str) -> str:
    """The `pluginSecrets` name of the provider's second key (its management key)."""
    from codexbar.providers import load

    name: str | None = getattr(load(provider_id), "admin_secret", None)
    if name is None:
        raise UsageError(f"{display_name(provider_id)} has no management key")
    return name


def set_api_key(opts: argparse.Namespace) -> int:
    provider = _provider_id(opts.provider)
    if any(
        v is not None
        for v in (opts.label, opts.usage_scope, opts.organization_id, opts.workspace_id)
    ):
        raise UsageError(
            "Token-account options are only supported for --provider zai.",
            hint="For a labeled key use --account LABEL.",
        )
    if opts.account is not None and opts.management:
        raise UsageError("--account and --management do not go together")
    label = None if opts.account is None else opts.account.strip()
    if label is not None and not label:
        raise UsageError("--account needs a non-empty label")
    if label is not None and not label.isprintable():
        raise UsageError("--account needs a label of printable text")
    key = read_key(opts)  # before the lock: never hold it while waiting on stdin
    from codexbar.providers import load

    if not load(provider).looks_like_key(key) and not opts.json_only:
        what = "management key" if opts.management else "API key"
        sys.stderr.write(
            f"Warning: {display_name(provider)} {what}s do not look like this; stored anyway.\n"
        )
    with ConfigFile.edit() as config:
        name = display_name(provider)
        if opts.management:
            config.set_plugin_secret(provider, _admin_secret(provider), key)
            what = f"management key for {name}"
        elif label is not None:
            config.set_account(provider, label, key)
            what = f"API key for {name} account {label}"
        else:
            config.set_api_key(provider, key)  # CodexBar's words: "stored API key for X"
            what = f"API key for {name}"
        if not opts.no_enable:
            config.set_enabled(provider, True)
        enabled = (config.provider(provider) or {}).get("enabled") is True
    if wants_json(opts):
        result = {"provider": provider, "enabled": enabled, "configPath": str(config.path)}
        write(json_text(result, pretty=opts.pretty))
    else:
        suffix = " and enabled" if enabled else ""
        write(f"Config: stored {what}{suffix}\n")
    return EXIT_OK


def remove_api_key(opts: argparse.Namespace) -> int:
    provider = _provider_id(opts.provider)
    with ConfigFile.edit() as config:
        removed = config.remove_api_key(
            provider,
            account=opts.account,
            secret=_admin_secret(provider) if opts.management else None,
        )
    if wants_json(opts):
        result = {"provider": provider, "removed": removed, "configPath": str(config.path)}
        write(json_text(result, pretty=opts.pretty))
    elif removed:
        write(f"Removed the key from {config.path}.\n")
    else:
        write("Nothing to remove.\n")
    return EXIT_OK


# --- validate ------------------------------------------------------------------------------


def validate(opts: argparse.Namespace) -> int:
    """CodexBar's issues, then ours; `Config: OK` when there are none. Exit 64 on an error.
    A config file that cannot be read at all is an error line (as in CodexBar), not a list."""
    config = ConfigFile.load()
    found = issues(config)
    if wants_json(opts):
        write(json_text([issue.to_json() for issue in found], pretty=opts.pretty))
    elif not found:
        write("Config: OK\n")
    else:
        write("".join(issue.line() + "\n" for issue in found))
    return EXIT_USAGE if any(issue.severity == "error" for issue in found) else EXIT_OK


def issues(config: ConfigFile) -> list[ConfigIssue]:
    """Every issue of the config file and of our own settings file beside it."""
    from codexbar.config_decode import decode_problems
    from codexbar.providers import load
    from codexbar.providers.codexbar_ids import CODEXBAR_PROVIDERS

    data = config.data
    found = [
        ConfigIssue(
            "error",
            "decode_error",
            f"CodexBar cannot load this file: {message}.",
            provider=provider,
            field=field,
        )
        for field, message, provider in decode_problems(data, CODEXBAR_PROVIDERS)
    ]
    seen: set[str] = set()
    for index, entry in enumerate(config.providers()):
        pid = entry.get("id")
        if not isinstance(pid, str):
            continue
        if pid not in CODEXBAR_PROVIDERS:
            found.append(
                ConfigIssue(
                    "warning",
                    "unknown_provider",
                    f"CodexBar knows no provider {pid!r} (ids are lower case): it skips this "
                    "entry, and drops it when it saves.",
                    field=f"providers[{index}]",
                )
            )
            continue
        if pid in seen:
            found.append(
                ConfigIssue(
                    "warning",
                    "duplicate_provider",
                    f"A second {pid} entry: only the first is used, and CodexBar drops this "
                    "one when it saves.",
                    provider=pid,
                    field=f"providers[{index}]",
                )
            )
            continue
        seen.add(pid)
        if pid in PROVIDERS:
            found.extend(load(pid).config_issues(entry))
            found.extend(_our_entry_issues(entry, pid, found))
    found.extend(_hook_issues(data.get("hooks")))
    found.extend(_legacy_issues(config))
    found.extend(_own_settings_issues(config))
    found.extend(_permission_issues(config))
    return found


def _our_entry_issues(
    entry: dict[str, Any], pid: str, so_far: list[ConfigIssue]
) -> list[ConfigIssue]:
    """Ours for an entry of a provider codexbar shows: keys that do not look like keys,
    labels used twice, and an enabled provider without a key anywhere."""
    import os

    from codexbar.accounts import clean_value
    from codexbar.providers import load

    provider = load(pid)
    found: list[ConfigIssue] = []
    name = display_name(pid)

    def check(field: str, value: object) -> None:
        key = clean_value(value)
        if key is not None and not provider.looks_like_key(key):
            found.append(
                ConfigIssue(
                    "warning",
                    "api_key_format",
                    f"This does not look like a {name} key.",
                    provider=pid,
                    field=field,
                )
            )

    check("apiKey", entry.get("apiKey"))
    secret = getattr(provider, "admin_secret", None)
    bag = entry.get("pluginSecrets")
    if secret and isinstance(bag, dict):
        check(f"pluginSecrets.{secret}", bag.get(secret))
    accounts_obj = entry.get("tokenAccounts")
    accounts = accounts_obj.get("accounts") if isinstance(accounts_obj, dict) else None
    labels: set[str] = set()
    for index, account in enumerate(accounts if isinstance(accounts, list) else []):
        if not isinstance(account, dict):
            continue
        check(f"tokenAccounts.accounts[{index}].token", account.get("token"))
        label = account.get("label")
        if isinstance(label, str):
            folded = label.strip().casefold()
            if folded in labels:
                found.append(
                    ConfigIssue(
                        "warning",
                        "duplicate_account_label",
                        f"The label {label!r} is used twice; --account picks the first.",
                        provider=pid,
                        field=f"tokenAccounts.accounts[{index}].label",
                    )
                )
            labels.add(folded)
    has_key = clean_value(entry.get("apiKey")) is not None or any(
        isinstance(a, dict) and clean_value(a.get("token")) is not None
        for a in (accounts if isinstance(accounts, list) else [])
    )
    in_env = any(clean_value(os.environ.get(v)) for v in PROVIDERS[pid].key_env)
    already = any(i.code == "api_key_missing" and i.provider == pid for i in so_far)
    if entry.get("enabled") is True and not has_key and not in_env and not already:
        found.append(
            ConfigIssue(
                "warning",
                "api_key_missing",
                f"{pid} is enabled but has no API key here or in "
                f"{PROVIDERS[pid].key_env[0]}; run: codexbar config set-api-key --provider "
                f"{pid} --stdin",
                provider=pid,
                field="apiKey",
            )
        )
    return found


def _hook_issues(raw: object) -> list[ConfigIssue]:
    """CodexBar's `hooks` checks (its codes), or the decode failure that rejects the file."""
    from codexbar.hooks.model import HooksDecodeError, parse_hooks, validate_hooks

    try:
        hooks = parse_hooks(raw)
    except HooksDecodeError as exc:
        return [
            ConfigIssue(
                "error",
                "decode_error",
                f"CodexBar cannot load this file: {exc.message}.",
                field="hooks",
            )
        ]
    return [
        ConfigIssue(i.severity, i.code, i.message, provider=i.provider, field=i.field)
        for i in validate_hooks(hooks)
    ] + _own_keys_in_codexbars_hooks(raw)


def _own_keys_in_codexbars_hooks(raw: object) -> list[ConfigIssue]:
    """`enforce`/`enforceKey` belong in our file: in CodexBar's, CodexBar drops them at its
    next save and codexbar never acts on them."""
    rules = raw.get("events") if isinstance(raw, dict) else None
    found: list[ConfigIssue] = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        for name in ("enforce", "enforceKey"):
            if isinstance(rule, dict) and name in rule:
                found.append(
                    ConfigIssue(
                        "warning",
                        "own_hook_field",
                        f"{name} is codexbar's own: it is never read from config.json "
                        f"(CodexBar drops it when it saves); move the rule to {FILE_NAME}.",
                        field=f"hooks.events[{index}].{name}",
                    )
                )
    return found


def _legacy_issues(config: ConfigFile) -> list[ConfigIssue]:
    return [
        ConfigIssue(
            "warning",
            "legacy_settings",
            f"{name!r} at the top of the config file (from an earlier codexbar): CodexBar drops "
            f"it when it saves; the next codexbar save moves it to {FILE_NAME}.",
            field=name,
        )
        for name in config.legacy_sections()
    ]


def _own_settings_issues(config: ConfigFile) -> list[ConfigIssue]:
    """Our own file: can it be read, and does each section parse as its owner parses it."""
    from codexbar.hooks.events import OWN_EVENTS
    from codexbar.hooks.model import parse_hooks, validate_hooks
    from codexbar.rules.settings import RuleSettings
    from codexbar.tray.prefs import TrayPrefs

    try:
        own = OwnSettings.for_config(config)
    except ConfigError as exc:
        return [ConfigIssue("error", "invalid_settings_file", exc.one_line(), field=FILE_NAME)]
    found: list[ConfigIssue] = []
    where = f"{FILE_NAME}:hooks"
    checks: list[tuple[str, str, Any]] = [
        ("alerts", "invalid_alerts", lambda: RuleSettings.from_mapping(own.alerts)),
        ("tray", "invalid_tray", lambda: TrayPrefs.from_mapping(own.tray)),
        (
            "hooks",
            "invalid_hooks",
            lambda: parse_hooks(own.hooks, events=OWN_EVENTS, where=where, ours=True),
        ),
    ]
    hooks = None
    for name, code, parse in checks:
        try:
            parsed = parse()
        except ConfigError as exc:
            found.append(ConfigIssue("error", code, exc.message, field=f"{FILE_NAME}:{name}"))
            continue
        if name == "hooks":
            hooks = parsed
    found.extend(
        ConfigIssue(i.severity, i.code, i.message, provider=i.provider, field=i.field)
        for i in validate_hooks(hooks, where=where)
    )
    return found


def _permission_issues(config: ConfigFile) -> list[ConfigIssue]:
    if not config.exists:
        return []
    try:
        mode = config.path.stat().st_mode & 0o777
    except OSError:
        return []
    if not mode & 0o077:
        return []
    return [
        ConfigIssue(
            "warning",
            "insecure_permissions",
            f"{config.path} has mode {mode:o}: others may read the keys in it; run chmod 600.",
        )
    ]
