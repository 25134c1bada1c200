"""Where codexbar keeps things. XDG on Linux; platformdirs elsewhere (imported lazily)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

APP = "codexbar"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where CodexBar looks (`CodexBarConfigStore.defaultURL`), in its order: `$CODEXBAR_CONFIG`
    (trimmed, `~` expanded, relative to the working folder); `$XDG_CONFIG_HOME/codexbar/
    config.json` when that variable is an absolute path (even if the file is missing); else
    `~/.config/codexbar/config.json` if it exists, the legacy `~/.codexbar/config.json` if
    only that one exists, and `~/.config/codexbar/config.json` when neither does."""
    env = os.environ if env is None else env
    explicit = env.get("CODEXBAR_CONFIG", "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()  # not resolve(): a link stays a link
    home = Path(env.get("HOME") or Path.home())
    xdg = env.get("XDG_CONFIG_HOME", "").strip()
    if xdg and (xdg_home := Path(xdg).expanduser()).is_absolute():
        return xdg_home / APP / "config.json"
    modern = home / ".config" / APP / "config.json"
    if modern.exists():
        return modern
    legacy = home / ".codexbar" / "config.json"
    return legacy if legacy.exists() else modern


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


def _private_temp(path: Path) -> tuple[int, str]:
    """A new file beside `path`, mode 0600 from the start (tempfile's mkstemp, without the
    import: it pulls in shutil and random, which a status bar's cached answer never needs)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{os.urandom(6).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def ensure_private_dir(path: Path) -> Path:
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        # A file sits where a folder must be (the path or one of its parents): say that,
        # rather than mkdir's "File exists".
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path)) from None
    return path


LOCK_TIMEOUT_S = 10.0  # a writer waits this long for another one before giving up


class LockTimeout(OSError):
    """Another process held the lock for longer than LOCK_TIMEOUT_S."""


class exclusive_lock:  # lower case: used like a function, `with exclusive_lock(path):`
    """Hold `<path>.lock` exclusively (across processes, on every OS) for a read-modify-write
    of `path`. A class rather than a contextlib generator: this module sits on the cached
    path, where contextlib is not loaded; filelock is imported only on entry."""

    __slots__ = ("_lock", "path", "timeout")

    def __init__(self, path: Path, *, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.path = path
        self.timeout = timeout
        self._lock: Any = None

    def __enter__(self) -> None:
        import filelock

        ensure_private_dir(self.path.parent)
        lock = filelock.FileLock(
            self.path.with_name(f"{self.path.name}.lock"), timeout=self.timeout, mode=0o600
        )
        try:
            lock.acquire()
        except filelock.Timeout:
            raise LockTimeout(
                errno.EWOULDBLOCK, "locked by another process; try again", str(self.path)
            ) from None
        self._lock = lock

    def __exit__(self, *exc: object) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()


def write_private_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write via a temp file in the same folder (created 0600), then rename: readers see the
    old file or the new one, never half of either. `durable` also syncs the file and its
    folder to disk (config, state); a cache skips that, as a lost write is only a miss."""
    if path.is_symlink():
        path = path.resolve()  # keep a dotfiles-managed link a link: write its target
    ensure_private_dir(path.parent)
    fd, tmp = _private_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if not durable:
        return
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


IRREGULAR = "not a regular file (a FIFO, device or folder)"


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, at most `limit` of them. A FIFO or a device (/dev/zero)
    is refused on a stat before any open, and opened non-blocking then checked again with
    fstat in case it was swapped in between, so nothing here blocks or reads forever.
    Raises FileNotFoundError, or OSError with a reason."""
    import stat

    if not stat.S_ISREG(path.stat().st_mode):
        raise OSError(errno.EINVAL, IRREGULAR)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, IRREGULAR)
        too_big = OSError(errno.EFBIG, f"larger than {limit // (1024 * 1024)} MiB")
        if info.st_size > limit:
            raise too_big
        chunks: list[bytes] = []
        total = 0
        while chunk := os.read(fd, 1 << 16):
            total += len(chunk)
            if total > limit:  # it grew while we read
                raise too_big
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
