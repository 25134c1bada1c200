"""`codexbar diagnose`: what a bug report needs, with every key masked.

Text by default (ours: versions, paths, key sources, reachability). `--format json` prints
CodexBar's diagnostic export instead (render/diagnostic.py): one document per account, or a
batch when there are several; exit 0 even when a fetch failed, as CodexBar's.
"""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata

from codexbar import __version__
from codexbar.accounts import Overrides
from codexbar.commands._common import (
    Parser,
    add_demo_flag,
    add_selection_flags,
    add_timeout_flag,
    demo_selection,
    write,
)
from codexbar.config import ConfigFile
from codexbar.errors import EXIT_OK, CodexbarError
from codexbar.paths import cache_dir, config_path, data_dir
from codexbar.pipeline import accounts_for, select_providers
from codexbar.progress import waiting
from codexbar.providers import display_name, load
from codexbar.secrets import mask
from codexbar.textsafe import display

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.accounts import Account
    from codexbar.http.client import HttpClient


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def build_parser(prog: str) -> Parser:
    parser = Parser(
        prog=prog,
        description="Versions, config, key source (masked), base URL, reachability.",
    )
    add_selection_flags(parser)
    add_timeout_flag(parser, default=5.0, per="request")
    out = parser.add_argument_group("CodexBar's export")
    out.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="json: CodexBar's diagnostic export (keys never included)",
    )
    out.add_argument("--json", action="store_true", help="same as --format json")
    out.add_argument("--pretty", action="store_true", help="indent the JSON")
    out.add_argument("--output", metavar="PATH", help="write the export to this file (0600)")
    out.add_argument("--redact", action="store_true", help="accepted; the export never has keys")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="accepted for CodexBar (no effect)"
    )
    out.add_argument(
        "--json-output", action="store_true", help="accepted for CodexBar (no logs to write)"
    )
    out.add_argument("--log-level", metavar="LEVEL", help="accepted for CodexBar (no effect)")
    add_demo_flag(parser)
    return parser


def run(opts: argparse.Namespace) -> int:
    if opts.json or opts.format == "json":
        return run_export(opts)
    write(f"codexbar      {__version__}\n")
    write(f"python        {platform.python_version()} ({sys.executable})\n")
    write(f"platform      {platform.platform()}\n")
    deps = ", ".join(f"{d} {_version(d)}" for d in ("urllib3", "rich", "platformdirs"))
    write(f"libraries     {deps}\n")
    path = config_path()
    state = "missing"
    if path.exists():
        state = f"mode {path.stat().st_mode & 0o777:o}"
    write(f"config        {path} ({state})\n")
    write(f"cache         {cache_dir()}\n")
    write(f"data          {data_dir()}\n")
    if opts.demo:
        write("demo          the simulated API, in this process: the paths above are the\n")
        write("              run's throwaway folder; nothing of yours is read or written\n")
    accounts, client = chosen_accounts(opts)
    code = EXIT_OK
    missing: list[str] = []  # the providers without a key: what to do comes last
    for account in accounts:
        provider_id = account.provider
        name = display_name(provider_id) + (f" · {account.label}" if account.label else "")
        write(f"\n[{display(name)}]\n")
        write(f"key           {mask(account.api_key)} from {display(account.key_source)}\n")
        write(f"base URL      {account.base_url}\n")
        if account.admin_key:
            source = account.admin_source
            write(f"management    {mask(account.admin_key)} from {source}\n")
            write(f"mgmt URL      {account.admin_url}\n")
        probe = load(provider_id).probe_url(account)
        if probe is None:
            write("reachability  skipped: no key\n")
            code = code or 1
            missing += [provider_id] if provider_id not in missing else []
            continue
        url, token = probe
        # Named as under the base URL (`/key`), without a query.
        base = next((b for b in (account.base_url, account.admin_url) if url.startswith(b)), "")
        shown = url[len(base) :].partition("?")[0] or url
        try:
            with waiting(True, "Reaching the API"):
                response = client.get_json(url, token=token, headers=account.headers)
        except CodexbarError as exc:
            write(f"reachability  FAILED: {display(exc.one_line())}\n")
            code = code or exc.exit_code
        else:
            took = f"{response.elapsed * 1000:.0f} ms"
            write(f"reachability  ok: GET {shown} answered HTTP {response.status} in {took}\n")
    client.close()
    if missing:
        write("\n")
        for provider_id in missing:
            # The provider's own words for getting and setting a key.
            step = load(provider_id).missing_key_error().one_line()
            write(f"next step     {display(step)}\n")
    return code


def chosen_accounts(opts: argparse.Namespace) -> tuple[list[Account], HttpClient]:
    """The accounts the selection flags pick and a client (the simulated ones with --demo)."""
    if opts.demo:
        return demo_selection(opts, timeout=opts.timeout)
    from codexbar.http.client import HttpClient

    config = ConfigFile.load()
    overrides = Overrides(
        api_url=opts.api_url,
        account=opts.account,
        account_index=opts.account_index,
        all_accounts=opts.all_accounts,
    )
    accounts = [
        account
        for provider_id in select_providers(opts.provider, config)
        for account in accounts_for(provider_id, config, overrides)
    ]
    return accounts, HttpClient(timeout=opts.timeout)


SOURCE_MODES = ("auto", "web", "cli", "oauth", "api")


def run_export(opts: argparse.Namespace) -> int:
    """CodexBar's `diagnose --format json`."""
    from codexbar.accounts import Account
    from codexbar.clock import SYSTEM
    from codexbar.errors import UsageError
    from codexbar.jsonnum import dumps
    from codexbar.pipeline import collect, default_accounts, rule_settings
    from codexbar.providers import PROVIDERS, resolve
    from codexbar.render.diagnostic import batch, export
    from codexbar.render.error_rows import cli_error
    from codexbar.render.json_payload import payload
    from codexbar.render.view import build

    def fail(message: str, kind: str) -> int:
        write(dumps(cli_error(message, 1, kind), pretty=opts.pretty) + "\n")
        return 1

    try:
        config = ConfigFile.load()
    except CodexbarError as exc:
        return fail(exc.one_line(), "config")
    providers: list[str] | None = None
    if opts.provider:
        name = opts.provider[-1]  # CodexBar's: the last one given
        try:
            info = resolve(name)
        except UsageError:
            return fail(f"Error: unknown provider '{name}'", "args")
        providers = list(PROVIDERS) if info is None else [info.id]
    narrowed = opts.account is not None or opts.account_index is not None or opts.all_accounts
    chosen: list[tuple[str, Account | CodexbarError]]
    try:
        if narrowed or opts.api_url:
            overrides = Overrides(
                api_url=opts.api_url,
                account=opts.account,
                account_index=opts.account_index,
                all_accounts=opts.all_accounts,
            )
            ids = providers or select_providers(None, config)
            chosen = [(p, a) for p in ids for a in accounts_for(p, config, overrides)]
        else:
            chosen = default_accounts(config, providers)
    except CodexbarError as exc:
        return fail(f"Error: {exc.one_line()}", "config")
    client = None
    if opts.demo:  # the simulated accounts in place of the configured ones
        demo_accounts, client = demo_selection(opts, timeout=opts.timeout)
        chosen = [(a.provider, a) for a in demo_accounts]
    accounts = [a for _, a in chosen if isinstance(a, Account)]
    try:
        results = iter(
            collect(
                accounts, timeout=opts.timeout, persist=False, with_history=False, client=client
            )
        )
    finally:
        if client is not None:
            client.close()
    settings = rule_settings(config)
    now = SYSTEM.now()
    exports = []
    for provider_id, account in chosen:
        entry = config.provider(provider_id) or {}
        source = entry.get("source")
        mode = source if source in SOURCE_MODES else "auto"
        kind: str | None
        if not isinstance(account, Account):
            row = {
                "provider": provider_id,
                "source": mode,
                "error": {"code": 1, "message": account.one_line(), "kind": "provider"},
            }
            kind, labeled, has_key = account.kind, False, False
        else:
            result = next(results)
            row = payload(result, build(result, now, settings))
            kind = result.error.kind if result.error is not None else None
            labeled, has_key = account.label is not None, account.has_key
        exports.append(
            export(
                row,
                display_name=display_name(provider_id),
                labeled=labeled,
                has_key=has_key,
                error_kind=kind,
                source_mode=mode,
                timestamp=now,
                version=__version__,
            )
        )
    document = exports[0] if len(exports) == 1 else batch(exports, now)
    text = dumps(document, pretty=opts.pretty, sort_keys=True)
    if opts.output:
        from pathlib import Path

        from codexbar.paths import write_private_atomic
        from codexbar.secrets import redact

        try:
            write_private_atomic(Path(opts.output), redact(text).encode())
        except OSError as exc:
            return fail(f"Error encoding diagnostic: {exc.strerror or exc}", "runtime")
        return EXIT_OK
    write(text + "\n")
    return EXIT_OK
