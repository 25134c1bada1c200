"""`codexbar config …`: edit the config file without ever printing a key."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from codexbar.commands._common import Parser, write
from codexbar.config import ConfigFile
from codexbar.errors import EXIT_OK, EXIT_USAGE, ConfigError, UsageError
from codexbar.paths import config_path
from codexbar.providers import DEFAULT_PROVIDER, PROVIDERS, display_name, load, resolve
from codexbar.secrets import mask, remember_secret

Writer = Callable[[str], None]
SECRET_WORDS = ("key", "token", "secret", "password", "cookie")
BAG_WORDS = ("secret", "password", "cookie")
API_KEY_FLAG_WARNING = (
    "Warning: a key given with --api-key is visible to other users of this machine in the "
    "process list (ps); prefer: printf '%s' \"$KEY\" | codexbar config set-api-key --stdin"
)


def build_parser(prog: str) -> Parser:
    parser = Parser(prog=prog, description="Read and edit the CodexBar-compatible config file.")
    sub = parser.add_subparsers(dest="action", required=True, parser_class=Parser)
    setkey = sub.add_parser("set-api-key", help="store an API key (from --stdin or --api-key)")
    setkey.add_argument("-p", "--provider", default=DEFAULT_PROVIDER)
    setkey.add_argument("--stdin", action="store_true", help="read the key from standard input")
    setkey.add_argument(
        "--api-key", metavar="KEY", help="the key (prefer --stdin: argv is visible to ps)"
    )
    setkey.add_argument("--account", metavar="LABEL", help="store as a labeled account")
    setkey.add_argument("--management", action="store_true", help="store the management key")
    setkey.add_argument("--no-enable", action="store_true", help="do not enable the provider")
    remove = sub.add_parser("remove-api-key", help="remove a stored key")
    remove.add_argument("-p", "--provider", default=DEFAULT_PROVIDER)
    remove.add_argument("--account", metavar="LABEL")
    remove.add_argument("--management", action="store_true")
    dump = sub.add_parser("dump", help="print the config (secrets masked)")
    dump.add_argument("--show-secrets", action="store_true")
    validate = sub.add_parser("validate", help="check the config; one line per problem")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    sub.add_parser("providers", help="list providers and whether each is enabled")
    for name in ("enable", "disable"):
        p = sub.add_parser(name, help=f"{name} a provider")
        p.add_argument("name")
    sub.add_parser("path", help="print the config file path")
    return parser


def run(opts: argparse.Namespace) -> int:
    action: str = opts.action
    if action == "path":
        write(f"{config_path()}\n")
        return EXIT_OK
    if action == "validate":
        return validate(opts.format, write)
    if action == "set-api-key":
        return set_api_key(opts, write)
    if action == "remove-api-key":
        return remove_api_key(opts, write)
    if action in ("enable", "disable"):
        return enable(opts, write)
    readers: dict[str, Callable[[ConfigFile, argparse.Namespace, Writer], int]] = {
        "dump": dump,
        "providers": providers,
    }
    return readers[action](ConfigFile.load(), opts, write)


def _provider_id(name: str) -> str:
    info = resolve(name)
    if info is None:
        raise UsageError("name one provider here, not 'all'")
    return info.id


def _admin_secret(provider_id: str) -> str:
    """The `pluginSecrets` name of the provider's second key (its management key)."""
    from codexbar.providers import load

    name: str | None = getattr(load(provider_id), "admin_secret", None)
    if name is None:
        raise UsageError(f"{display_name(provider_id)} has no management key")
    return name


def read_key(opts: argparse.Namespace) -> str:
    if opts.stdin and opts.api_key is not None:
        raise UsageError("give the key with --stdin or --api-key, not both")
    if opts.stdin:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("--stdin expects the key on standard input (printf '%s' \"$KEY\" | …)")
        raw = sys.stdin.read()
    elif opts.api_key is not None:
        # Kept for CodexBar's sake, but argv is public: any user on the machine sees it in ps.
        sys.stderr.write(API_KEY_FLAG_WARNING + "\n")
        raw = opts.api_key
    else:
        raise UsageError("give the key with --stdin (recommended) or --api-key")
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"":
        key = key[1:-1].strip()
    if not key:
        raise UsageError("the key is empty")
    if any(ch.isspace() for ch in key):
        raise UsageError("the key contains whitespace; paste exactly one key")
    if not (key.isascii() and key.isprintable()):
        raise UsageError("the key contains characters no API key has; paste exactly one key")
    remember_secret(key)
    return key


def set_api_key(opts: argparse.Namespace, write: Writer) -> int:
    provider = _provider_id(opts.provider)
    if opts.account is not None and opts.management:
        raise UsageError("--account and --management do not go together")
    if opts.account is not None and not opts.account.strip():
        raise UsageError("--account needs a non-empty label")
    if opts.account is not None and not opts.account.isprintable():
        raise UsageError("--account needs a label of printable text")
    key = read_key(opts)  # before the lock: never hold it while waiting on stdin
    with ConfigFile.edit() as config:
        if opts.management:
            config.set_plugin_secret(provider, _admin_secret(provider), key)
            what = "management key"
        elif opts.account is not None:
            config.set_account(provider, opts.account.strip(), key)
            what = f"API key for account {opts.account.strip()!r}"
        else:
            config.set_api_key(provider, key)
            what = "API key"
        if not opts.no_enable:
            config.set_enabled(provider, True)
    enabled = "" if opts.no_enable else f"; {display_name(provider)} is enabled"
    write(f"Stored the {display_name(provider)} {what} ({mask(key)}) in {config.path}{enabled}.\n")
    return EXIT_OK


def remove_api_key(opts: argparse.Namespace, write: Writer) -> int:
    provider = _provider_id(opts.provider)
    with ConfigFile.edit() as config:
        removed = config.remove_api_key(
            provider,
            account=opts.account,
            secret=_admin_secret(provider) if opts.management else None,
        )
    if not removed:
        write("Nothing to remove.\n")
        return EXIT_OK
    write(f"Removed the key from {config.path}.\n")
    return EXIT_OK


def masked(value: Any, *, secret: bool = False, bag: bool = False) -> Any:
    """A copy of the config with every secret-looking string masked.

    A bag of secrets (`pluginSecrets`, cookies) masks everything it holds; any other object
    under a secret-looking name (`tokenAccounts`) masks only the fields whose own names look
    secret (`token`), so labels and dates stay readable."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = k.lower()
            named = any(w in name for w in SECRET_WORDS)
            holds = bag or (named and any(w in name for w in BAG_WORDS))
            out[k] = masked(v, secret=bag or named, bag=holds)
        return out
    if isinstance(value, list):
        return [masked(v, secret=secret, bag=bag) for v in value]
    if secret and isinstance(value, str) and value:
        return mask(value)
    return value


def dump(config: ConfigFile, opts: argparse.Namespace, write: Writer) -> int:
    if opts.show_secrets:
        # Asked for explicitly: the one output not scrubbed of keys (write() would mask them).
        sys.stdout.write(json.dumps(config.data, indent=2, sort_keys=True, ensure_ascii=False))
        sys.stdout.write("\n")
        sys.stdout.flush()
        return EXIT_OK
    write(json.dumps(masked(config.data), indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return EXIT_OK


def providers(config: ConfigFile, opts: argparse.Namespace, write: Writer) -> int:
    known = dict.fromkeys(PROVIDERS, False)
    for entry in config.providers():
        pid = str(entry.get("id"))
        known[pid] = entry.get("enabled") is True
    for pid, enabled in known.items():
        supported = "" if pid in PROVIDERS else "  (not supported by codexbar; kept as is)"
        aliases = (
            f" (alias {', '.join(PROVIDERS[pid].aliases)})"
            if pid in PROVIDERS and PROVIDERS[pid].aliases
            else ""
        )
        write(f"{'enabled ' if enabled else 'disabled'}  {pid}{aliases}{supported}\n")
    return EXIT_OK


def enable(opts: argparse.Namespace, write: Writer) -> int:
    provider = _provider_id(opts.name)
    turn_on = opts.action == "enable"
    with ConfigFile.edit() as config:
        config.set_enabled(provider, turn_on)
    write(f"{display_name(provider)} {'enabled' if turn_on else 'disabled'} in {config.path}.\n")
    return EXIT_OK


# --- validate ------------------------------------------------------------------------------


def problems(config: ConfigFile) -> list[tuple[str, str, str, str]]:
    """(level, code, where, message) for everything wrong in the document."""
    found: list[tuple[str, str, str, str]] = []

    def add(level: str, code: str, where: str, message: str) -> None:
        found.append((level, code, where, message))

    data = config.data
    if data.get("version", 1) != 1:
        add(
            "error",
            "unsupported_version",
            "version",
            f"version {data.get('version')!r}; expected 1",
        )
    raw_providers = data.get("providers", [])
    if not isinstance(raw_providers, list):
        add("error", "invalid_providers", "providers", "must be a list")
        return found
    seen: set[str] = set()
    for i, entry in enumerate(raw_providers):
        where = f"providers[{i}]"
        if not isinstance(entry, dict):
            add("error", "invalid_provider_entry", where, "must be an object")
            continue
        pid = entry.get("id")
        if not isinstance(pid, str) or not pid:
            add("error", "missing_provider_id", where, "has no id")
            continue
        if pid in seen:
            add("error", "duplicate_provider", where, f"{pid} appears more than once")
        seen.add(pid)
        if pid not in PROVIDERS:
            add("info", "unsupported_provider", where, f"{pid} is kept but not shown by codexbar")
            continue
        if "enabled" in entry and not isinstance(entry["enabled"], bool):
            add("error", "invalid_enabled", f"{where}.enabled", "must be true or false")
        _check_key(add, f"{where}.apiKey", entry.get("apiKey"), "invalid_api_key", pid)
        if "enterpriseHost" in entry and entry["enterpriseHost"] not in (None, ""):
            problem = load(pid).check_base_url(entry["enterpriseHost"])
            if problem:
                add("error", "invalid_api_url", f"{where}.enterpriseHost", problem)
        secrets = entry.get("pluginSecrets")
        if secrets is not None and not isinstance(secrets, dict):
            add("error", "invalid_plugin_secrets", f"{where}.pluginSecrets", "must be an object")
        elif isinstance(secrets, dict) and getattr(load(pid), "admin_secret", None):
            _check_key(
                add,
                f"{where}.pluginSecrets.{_admin_secret(pid)}",
                secrets.get(_admin_secret(pid)),
                "invalid_management_key",
                pid,
            )
        _check_accounts(add, where, entry.get("tokenAccounts"), pid)
        if (
            entry.get("enabled") is True
            and not _has_any_key(entry)
            and not any(os.environ.get(name) for name in PROVIDERS[pid].key_env)
        ):
            add(
                "warning",
                "missing_api_key",
                where,
                f"{pid} is enabled but has no key (set {PROVIDERS[pid].key_env[0]})",
            )
    # Our own sections (tray, alerts): the same parsers the tray and `alerts check` use.
    from codexbar.rules.settings import RuleSettings
    from codexbar.tray.prefs import TrayPrefs

    try:
        RuleSettings.from_mapping(data.get("alerts"))
    except ConfigError as exc:
        add("error", "invalid_alerts", "alerts", exc.message)
    try:
        TrayPrefs.from_config(config)
    except ConfigError as exc:
        add("error", "invalid_tray", "tray", exc.message)
    if config.exists and _holds_secret(data):
        mode = config.path.stat().st_mode & 0o777
        if mode & 0o077:
            add(
                "warning",
                "insecure_permissions",
                str(config.path),
                f"mode {mode:o} lets others read keys; run chmod 600",
            )
    return found


def _check_key(
    add: Callable[[str, str, str, str], None],
    where: str,
    value: object,
    code: str,
    provider: str = DEFAULT_PROVIDER,
) -> None:
    from codexbar.providers import load

    if value is None:
        return
    if not isinstance(value, str) or not value.strip():
        add("error", code, where, "must be a non-empty string")
    elif value != value.strip() or any(c.isspace() for c in value):
        add("error", code, where, "contains whitespace")
    elif not load(provider).looks_like_key(value):
        add("warning", code, where, f"does not look like a {display_name(provider)} key")


def _check_accounts(
    add: Callable[[str, str, str, str], None], where: str, value: object, provider: str
) -> None:
    if value is None:
        return
    where = f"{where}.tokenAccounts"
    if not isinstance(value, dict) or not isinstance(value.get("accounts", []), list):
        add("error", "invalid_token_accounts", where, 'must be {"accounts": [...]}')
        return
    accounts = value.get("accounts", [])
    labels: set[str] = set()
    for i, account in enumerate(accounts):
        here = f"{where}.accounts[{i}]"
        if not isinstance(account, dict):
            add("error", "invalid_token_accounts", here, "must be an object")
            continue
        label = account.get("label")
        if isinstance(label, str):
            if label in labels:
                add("error", "duplicate_account_label", here, f"label {label!r} used twice")
            labels.add(label)
        _check_key(add, f"{here}.token", account.get("token"), "invalid_api_key", provider)
    active = value.get("activeIndex", 0)
    if (
        not isinstance(active, int)
        or isinstance(active, bool)
        or (accounts and not 0 <= active < len(accounts))
    ):
        add("error", "invalid_active_index", f"{where}.activeIndex", "out of range")


def _has_any_key(entry: dict[str, Any]) -> bool:
    if isinstance(entry.get("apiKey"), str) and entry["apiKey"].strip():
        return True
    accounts = entry.get("tokenAccounts")
    return isinstance(accounts, dict) and bool(accounts.get("accounts"))


def _holds_secret(value: Any, secret: bool = False) -> bool:
    if isinstance(value, dict):
        return any(
            _holds_secret(v, secret or any(w in k.lower() for w in SECRET_WORDS))
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_holds_secret(v, secret) for v in value)
    return secret and isinstance(value, str) and bool(value)


def validate(fmt: str, write: Writer) -> int:
    try:
        config = ConfigFile.load()
    except ConfigError as exc:
        found = [("error", "invalid_json", str(config_path()), exc.message)]
    else:
        found = problems(config)
    if fmt == "json":
        write(
            json.dumps(
                [{"level": lv, "code": c, "where": w, "message": m} for lv, c, w, m in found],
                indent=2,
            )
            + "\n"
        )
    elif not found:
        write(f"{config_path()}: no problems\n")
    else:
        for level, code, where, message in found:
            write(f"{level:<7} {code:<24} {where}: {message}\n")
    return EXIT_USAGE if any(level == "error" for level, *_ in found) else EXIT_OK
