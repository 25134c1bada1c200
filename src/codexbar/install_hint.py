"""The command that adds an optional extra (tray, serve) to *this* installation of codexbar.

`pip install 'codexbar[tray]'` only works once codexbar is on a package index, and only for a
pip-managed environment. So the command is worked out from how this copy was installed:

- where from: the `direct_url.json` pip and uv record (PEP 610) names the clone, wheel or URL
  it came from; without one it came from an index, by name;
- with what: pipx leaves `pipx_metadata.json` at the root of its venv and uv leaves
  `uv-receipt.toml` at the root of a tool's venv; anything else is a venv (or system Python)
  whose own interpreter runs pip.

Only used when an extra is missing, so importing importlib.metadata costs nothing elsewhere.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DIST = "codexbar"


def extra_command(extra: str) -> str:
    """The shell command that installs `extra` where the running codexbar lives."""
    return command_for(extra, prefix=Path(sys.prefix), python=sys.executable, origin=origin())


def origin() -> dict[str, Any] | None:
    """This distribution's direct_url.json, or None (installed from an index, by name; or not
    installed at all, as when run from a source tree)."""
    from importlib import metadata

    try:
        text = metadata.distribution(DIST).read_text("direct_url.json")
    except (metadata.PackageNotFoundError, OSError):
        return None
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def requirement(extra: str, origin: dict[str, Any] | None) -> tuple[str, bool]:
    """What to install, and whether it was an editable install: a local path (a clone or a
    wheel) with the extra appended, a `codexbar[extra] @ URL` for anything remote, or the bare
    name for an index."""
    url = origin.get("url") if origin else None
    if not isinstance(url, str) or not url:
        return f"{DIST}[{extra}]", False
    dir_info = origin.get("dir_info") if origin else None
    editable = isinstance(dir_info, dict) and dir_info.get("editable") is True
    parts = urlsplit(url)
    if parts.scheme == "file":
        return f"{unquote(parts.path)}[{extra}]", editable
    vcs = origin.get("vcs_info") if origin else None
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        url = f"{vcs['vcs']}+{url}"
    return f"{DIST}[{extra}] @ {url}", editable


def command_for(extra: str, *, prefix: Path, python: str, origin: dict[str, Any] | None) -> str:
    """The command for an install with this venv root, interpreter and direct_url.json."""
    spec, editable = requirement(extra, origin)
    what = ("-e " if editable else "") + shlex.quote(spec)
    if (prefix / "pipx_metadata.json").is_file():
        return f"pipx install --force {what}"  # a new venv with the extra, same source
    if (prefix / "uv-receipt.toml").is_file():
        return f"uv tool install --force {what}"
    return f"{shlex.quote(python)} -m pip install {what}"
