"""Where codexbar keeps things. XDG on Linux; platformdirs elsewhere (imported lazily)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "codexbar"


def config_path(env: dict[str, str] | None = None) -> Path:
    """`$CODEXBAR_CONFIG`, else `$XDG_CONFIG_HOME/codexbar/config.json` (default
    `~/.config/...`), else the legacy `~/.codexbar/config.json` when only that one exists."""
    env = dict(os.environ) if env is None else env
    explicit = env.get("CODEXBAR_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    home = Path(env.get("HOME") or Path.home())
    xdg = env.get("XDG_CONFIG_HOME")
    modern = (Path(xdg) if xdg else home / ".config") / APP / "config.json"
    legacy = home / ".codexbar" / "config.json"
    if not modern.exists() and legacy.exists():
        return legacy
    return modern


def _base(kind: str, xdg_var: str, linux_default: str) -> Path:
    override = os.environ.get("CODEXBAR_HOME")
    if override:
        return Path(override).expanduser() / kind
    if sys.platform.startswith("linux") or os.environ.get(xdg_var):
        xdg = os.environ.get(xdg_var)
        return (Path(xdg) if xdg else Path.home() / linux_default) / APP
    import platformdirs

    getter = platformdirs.user_cache_dir if kind == "cache" else platformdirs.user_data_dir
    return Path(getter(APP, appauthor=False))


def cache_dir() -> Path:
    return _base("cache", "XDG_CACHE_HOME", ".cache")


def data_dir() -> Path:
    return _base("data", "XDG_DATA_HOME", ".local/share")


def state_dir() -> Path:
    return _base("state", "XDG_STATE_HOME", ".local/state")


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def write_private_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder: fsync, chmod 0600, rename. Readers see the
    old file or the new one, never half of either."""
    import tempfile

    if path.is_symlink():
        path = path.resolve()  # keep a dotfiles-managed link a link: write its target
    ensure_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
