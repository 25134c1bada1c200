"""`codexbar diagnose`: what a bug report needs, with every key masked."""

from __future__ import annotations

import argparse
import platform
import sys
from importlib import metadata

from codexbar import __version__
from codexbar.accounts import Overrides
from codexbar.commands._common import Parser, add_selection_flags, add_timeout_flag, write
from codexbar.config import ConfigFile
from codexbar.errors import EXIT_OK, CodexbarError
from codexbar.paths import cache_dir, config_path, data_dir
from codexbar.pipeline import accounts_for, select_providers
from codexbar.providers import display_name, load
from codexbar.secrets import mask
from codexbar.textsafe import display


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
    return parser


def run(opts: argparse.Namespace) -> int:
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
    config = ConfigFile.load()
    overrides = Overrides(
        api_url=opts.api_url,
        account=opts.account,
        account_index=opts.account_index,
        all_accounts=opts.all_accounts,
    )
    code = EXIT_OK
    from codexbar.http.client import HttpClient

    client = HttpClient(timeout=opts.timeout)
    for provider_id in select_providers(opts.provider, config):
        for account in accounts_for(provider_id, config, overrides):
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
                continue
            url, token = probe
            # Named as under the base URL (`/key`), without a query.
            base = next((b for b in (account.base_url, account.admin_url) if url.startswith(b)), "")
            shown = url[len(base) :].partition("?")[0] or url
            try:
                response = client.get_json(url, token=token, headers=account.headers)
            except CodexbarError as exc:
                write(f"reachability  FAILED: {display(exc.one_line())}\n")
                code = code or exc.exit_code
            else:
                took = f"{response.elapsed * 1000:.0f} ms"
                write(f"reachability  ok: GET {shown} answered HTTP {response.status} in {took}\n")
    client.close()
    return code
