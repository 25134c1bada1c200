"""Our own settings file, `codexbar-py.json`, beside CodexBar's config.json.

CodexBar keeps only `version`, `providers` and `hooks` at the top of config.json and drops
anything else when it saves; it rejects the whole file on a hook event it does not know. So
what CodexBar has no place for lives here, in the same folder as the config file in use (also
when CODEXBAR_CONFIG puts it elsewhere):

    {
      "version": 1,
      "alerts": {...},   # the rule book's thresholds (rules/settings.RuleSettings)
      "tray":   {...},   # the tray's refresh interval and panel (tray/prefs.TrayPrefs)
      "hooks":  {...}    # hook rules for our own events (balance_low, budget_spent,
    }                    # key_expiring, ...): CodexBar's `hooks` model (hooks/model.py)

This module owns the file: where it is, reading it, and writing it with the config file's
guarantees (0600, atomic, under an exclusive lock, a symlink stays a link, a file that cannot
be parsed is never rewritten). The sections' meaning belongs to their owners, which parse the
raw objects handed out here.

Earlier versions kept `alerts` and `tray` at the top of config.json. Until they move, they are
read from there wherever this file lacks them (this file wins key by key); the next save of
either file moves them here. Lock order, always: config.json, then this file.
"""

from __future__ import annotations

import json
from pathlib import Path

from codexbar.errors import ConfigError
from codexbar.paths import config_path, read_regular_file, write_private_atomic

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal

    from codexbar.config import ConfigFile
    from codexbar.paths import exclusive_lock

    Section = Literal["alerts", "tray", "hooks"]

FILE_NAME = "codexbar-py.json"
VERSION = 1
ALERTS: Section = "alerts"
TRAY: Section = "tray"
HOOKS: Section = "hooks"
SECTIONS: tuple[Section, ...] = (ALERTS, TRAY, HOOKS)
MAX_BYTES = 4 * 1024 * 1024


def settings_path(config: Path | None = None) -> Path:
    """Our file beside the config file in use (`config` defaults to the resolved one)."""
    return (config or config_path()).with_name(FILE_NAME)


class OwnSettings:
    """Our settings as loaded, with what the config file still holds from earlier versions
    (`legacy`) filling in. A plain class: the tray and cached answers read it."""

    __slots__ = ("data", "exists", "legacy", "path")

    def __init__(
        self,
        *,
        path: Path,
        data: dict[str, Any],
        exists: bool,
        legacy: Mapping[str, Any] | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self.exists = exists
        self.legacy: dict[str, Any] = dict(legacy or {})

    @classmethod
    def load(
        cls, path: Path | None = None, *, legacy: Mapping[str, Any] | None = None
    ) -> OwnSettings:
        """The file at `path` (default: beside the config file in use); its absence is an
        empty file. A ConfigError when it cannot be read or parsed."""
        path = path or settings_path()
        try:
            raw = read_regular_file(path, MAX_BYTES)
        except (FileNotFoundError, NotADirectoryError):
            return cls(path=path, data={"version": VERSION}, exists=False, legacy=legacy)
        except OSError as exc:
            from codexbar.config import reason

            raise ConfigError(f"cannot read settings {path}: {reason(exc)}") from None
        from codexbar.config import parse_document

        return cls(
            path=path, data=parse_document(raw, f"settings {path}"), exists=True, legacy=legacy
        )

    @classmethod
    def for_config(cls, config: ConfigFile) -> OwnSettings:
        """Ours beside `config`, with the sections it still holds from earlier versions."""
        return cls.load(settings_path(config.path), legacy=config.legacy_sections())

    @classmethod
    def edit(cls, config: ConfigFile | Path | None = None) -> _Edit:
        """`with OwnSettings.edit() as own:` re-reads our file under its lock, hands it over
        for changes and writes it back (only if changed) before unlocking.

        Give the ConfigFile of an edit in progress (`with ConfigFile.edit() as config:`) to
        change both files at once: the sections it still holds move here, and leave it when
        that edit saves. Otherwise (a path, or the config file in use) config.json is locked
        too, first, only when it still holds such sections."""
        return _Edit(config)

    # --- reading: the raw objects, parsed by their owners ----------------------------------

    def section(self, name: Section) -> Any:
        """The section as its owner parses it: this file's object, its keys over those of the
        config file's old top-level object of that name. Not necessarily a dict (a wrong
        type is for the owner to report); None when neither file has it."""
        own = self.data.get(name)
        old = self.legacy.get(name)
        if isinstance(own, dict) and isinstance(old, dict):
            return {**old, **own}
        return old if own is None else own

    @property
    def alerts(self) -> Any:
        return self.section(ALERTS)

    @property
    def tray(self) -> Any:
        return self.section(TRAY)

    @property
    def hooks(self) -> Any:
        """Hook rules for our own events (`hooks.model.parse_hooks(..., events=OWN_EVENTS)`)."""
        return self.section(HOOKS)

    # --- editing ----------------------------------------------------------------------------

    def update(self, name: Section, fields: Mapping[str, Any]) -> None:
        """Set these keys of a section, keeping its others (a non-object section is
        replaced)."""
        current = self.section(name)
        merged = dict(current) if isinstance(current, dict) else {}
        merged.update(fields)
        self.data[name] = merged

    def replace(self, name: Section, value: Any) -> None:
        """The whole section (e.g. the hook rules after an edit); None removes it."""
        if value is None:
            self.data.pop(name, None)
        else:
            self.data[name] = value

    def absorb(self, legacy: Mapping[str, Any]) -> None:
        """Take in sections an earlier version kept in config.json (ours win key by key)."""
        for name, old in legacy.items():
            own = self.data.get(name)
            if isinstance(own, dict) and isinstance(old, dict):
                self.data[name] = {**old, **own}
            elif own is None:
                self.data[name] = old
        self.legacy = {}

    def save(self) -> None:
        """Pretty, sorted keys, 0600, atomic; a ConfigError naming the file on failure."""
        from codexbar.config import reason

        self.data.setdefault("version", VERSION)
        try:
            text = json.dumps(
                self.data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
            )
            data = (text + "\n").encode("utf-8")
        except (UnicodeEncodeError, ValueError, RecursionError):
            raise ConfigError(f"cannot write {self.path}: a value JSON cannot hold") from None
        try:
            write_private_atomic(self.path, data)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {reason(exc)}") from None
        self.exists = True

    def _fingerprint(self) -> str:
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False)


def absorb_legacy(config: Path, legacy: Mapping[str, Any]) -> None:
    """Move sections found at the top of config.json (being saved, under its lock) into our
    file beside it, under our lock. A ConfigError when our file cannot take them (it cannot
    be read): the config file is then not written, so they stay where they are."""
    from codexbar.config import lock_for_edit

    path = settings_path(config)
    names = ", ".join(legacy)
    try:
        lock = lock_for_edit(path)
        try:
            own = OwnSettings.load(path)
            own.absorb(legacy)
            own.save()
        finally:
            lock.__exit__(None, None, None)
    except ConfigError as exc:
        raise ConfigError(
            f"cannot move {names} from {config} to {path.name}: {exc.message}",
            hint=f"Fix or move {path}; codexbar will not overwrite it.",
        ) from None


class _Edit:
    """The context manager behind OwnSettings.edit (a class: contextlib is not loaded here)."""

    __slots__ = ("_before", "_config", "_config_edit", "_lock", "_own", "_target")

    def __init__(self, target: ConfigFile | Path | None) -> None:
        self._target = target
        self._config: ConfigFile | None = None
        self._config_edit: Any = None
        self._lock: exclusive_lock | None = None
        self._own: OwnSettings | None = None
        self._before = ""

    def __enter__(self) -> OwnSettings:
        from codexbar.config import ConfigFile, lock_for_edit

        target = self._target
        if isinstance(target, ConfigFile):
            config: ConfigFile | None = target  # its edit holds the config lock already
            path = target.path
        else:
            path = target or config_path()
            config = self._config_with_legacy(path)
        self._config = config
        try:
            self._lock = lock_for_edit(settings_path(path))
            own = OwnSettings.load(settings_path(path))
        except BaseException:
            self._release(None)
            raise
        self._before = own._fingerprint()  # what it absorbs below counts as a change
        if config is not None:
            legacy = config.legacy_sections()
            if legacy:
                own.absorb(legacy)
                for name in legacy:
                    config.data.pop(name, None)  # saved without them by its edit
        self._own = own
        return own

    def _config_with_legacy(self, path: Path) -> ConfigFile | None:
        """The config file under its lock, when it still holds our sections (else None:
        nothing to move, and no reason to hold its lock)."""
        from codexbar.config import ConfigFile

        try:
            if not ConfigFile.load(path).legacy_sections():
                return None
        except ConfigError:
            return None  # unreadable: our settings still save; nothing can move
        self._config_edit = ConfigFile.edit(path)
        try:
            config: ConfigFile = self._config_edit.__enter__()
        except ConfigError:
            self._config_edit = None
            return None
        return config

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        own = self._own
        failure: BaseException | None = None
        try:
            if exc_type is None and own is not None and own._fingerprint() != self._before:
                own.save()  # ours first: config.json loses its sections only once they are here
        except BaseException as error:
            failure = error
        self._release(failure if exc_type is None else exc)
        if failure is not None:
            raise failure

    def _release(self, failure: object) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(None, None, None)
        edit, self._config_edit = self._config_edit, None
        if edit is not None:
            if failure is None:
                edit.__exit__(None, None, None)
            else:
                edit.__exit__(type(failure), failure, None)
