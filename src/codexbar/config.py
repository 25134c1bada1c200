"""CodexBar's config file (config.json): read it, edit it, and write back what CodexBar loads.

The raw JSON document is kept as loaded; edits touch only the keys we own, so other providers'
entries and unknown keys survive a round trip. A save writes what CodexBar 0.54.1 decodes
(shared/spec/codexbar-contract.md §4) -- one wrong type, UUID or enum there makes CodexBar
reject the *whole* file -- so it normalises what CodexBar would refuse or rewrite:

- no `null` anywhere: CodexBar reads a null as absent and never writes one, and a null inside
  a provider entry's own key fails its decoder;
- token accounts: `id` an uppercase UUID (a missing or malformed one gets a fresh id),
  `addedAt`/`lastUsed` epoch seconds as numbers (earlier versions of codexbar wrote ISO
  strings), and the required `version`/`activeIndex`;
- `version` 1 when missing;
- our own settings (`alerts`, `tray`), which earlier versions kept at the top level where
  CodexBar drops them on its next save, move to our own file beside this one
  (`settings_file`), merged key by key under its lock; nothing is lost.

Text: pretty, sorted keys, 0600, atomic (temp file + rename), a symlink stays a link; edits run
under an exclusive lock (`ConfigFile.edit`); a file that cannot be parsed is never rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path

from codexbar.errors import ConfigError
from codexbar.paths import (
    IRREGULAR,
    config_path,
    exclusive_lock,
    read_regular_file,
    write_private_atomic,
)

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a config is a few KiB; far more is not a config
VERSION = 1
# CodexBar's `ProviderSourceMode` raw values (an entry's `source`; any other fails its decoder).
SOURCE_MODES = ("auto", "web", "cli", "oauth", "api")
# Top-level keys earlier versions of codexbar wrote here; they belong in our own file now.
LEGACY_SECTIONS = ("alerts", "tray")
CORRUPT_HINT = "Fix or move the file; codexbar will not overwrite it."


class ConfigIssue:
    """One `config validate` finding, as CodexBar's `CodexBarConfigIssue`: `severity`
    error|warning, the provider's raw id and the field when they apply, a stable `code`."""

    __slots__ = ("code", "field", "message", "provider", "severity")

    def __init__(
        self,
        severity: str,
        code: str,
        message: str,
        *,
        provider: str | None = None,
        field: str | None = None,
    ) -> None:
        self.severity = severity
        self.code = code
        self.message = message
        self.provider = provider
        self.field = field

    def to_json(self) -> dict[str, str]:
        """CodexBar's encoding: absent provider/field omitted, keys in its order."""
        out = {"severity": self.severity}
        if self.provider is not None:
            out["provider"] = self.provider
        if self.field is not None:
            out["field"] = self.field
        out["code"] = self.code
        out["message"] = self.message
        return out

    def line(self) -> str:
        """CodexBar's text line: `[ERROR] <provider id or config> (<field>): <message>`."""
        where = self.provider or "config"
        field = f" ({self.field})" if self.field else ""
        return f"[{self.severity.upper()}] {where}{field}: {self.message}"

    def __repr__(self) -> str:
        return f"ConfigIssue({self.severity!r}, {self.code!r}, {self.field!r})"


class ConfigFile:
    """The loaded document and where it lives (a plain class: see accounts.Account)."""

    __slots__ = ("data", "exists", "path")

    def __init__(self, *, path: Path, data: dict[str, Any], exists: bool) -> None:
        self.path = path
        self.data = data
        self.exists = exists

    @classmethod
    def load(cls, path: Path | None = None) -> ConfigFile:
        path = path or config_path()
        try:
            raw = read_regular_file(path, MAX_CONFIG_BYTES)
        except FileNotFoundError:
            return cls(path=path, data={"version": VERSION, "providers": []}, exists=False)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {reason(exc)}") from None
        data = parse_document(raw, f"config {path}")
        providers = data.get("providers")
        if providers is not None and not (
            isinstance(providers, list) and all(isinstance(p, dict) for p in providers)
        ):
            raise ConfigError(f'config {path}: "providers" must be a list of objects')
        return cls(path=path, data=data, exists=True)

    @classmethod
    def edit(cls, path: Path | None = None) -> _Edit:
        """`with ConfigFile.edit() as config:` re-reads the file under an exclusive lock,
        hands it over for changes, and writes it back (only if changed) before unlocking,
        so two writers (the CLI, the tray, a script) never lose each other's updates."""
        return _Edit(path or config_path())

    # --- reading ---------------------------------------------------------------------------

    def providers(self) -> list[dict[str, Any]]:
        providers = self.data.get("providers")
        return providers if isinstance(providers, list) else []

    def provider(self, provider_id: str) -> dict[str, Any] | None:
        """The first entry with this id (CodexBar keeps the first of duplicates)."""
        return next((p for p in self.providers() if p.get("id") == provider_id), None)

    def enabled_ids(self) -> list[str]:
        return [str(p.get("id")) for p in self.providers() if p.get("enabled") is True]

    def source(self, provider_id: str) -> str | None:
        """The entry's `source` (auto/web/cli/oauth/api) when it holds one of those; the
        default source mode of `usage` and `guard` for that provider, as in CodexBar."""
        value = (self.provider(provider_id) or {}).get("source")
        return value if value in SOURCE_MODES else None

    def quota_warnings(self, provider_id: str) -> dict[str, Any] | None:
        """The entry's `quotaWarnings` object as written (`{"session": {"thresholds": [50,
        20], "enabled": true}, "weekly": ...}`, thresholds in percent *remaining*)."""
        value = (self.provider(provider_id) or {}).get("quotaWarnings")
        return value if isinstance(value, dict) else None

    def plugin_secret(self, provider_id: str, name: str) -> str | None:
        secrets = (self.provider(provider_id) or {}).get("pluginSecrets")
        value = secrets.get(name) if isinstance(secrets, dict) else None
        return value if isinstance(value, str) and value else None

    def legacy_sections(self) -> dict[str, Any]:
        """Our own settings an earlier version kept at the top level (`alerts`, `tray`)."""
        return {k: self.data[k] for k in LEGACY_SECTIONS if self.data.get(k) is not None}

    # --- editing ---------------------------------------------------------------------------

    def ensure_provider(self, provider_id: str) -> dict[str, Any]:
        entry = self.provider(provider_id)
        if entry is None:
            entry = {"id": provider_id}
            if not isinstance(self.data.get("providers"), list):
                self.data["providers"] = []
            self.data["providers"].append(entry)
        self.data.setdefault("version", VERSION)
        return entry

    def set_enabled(self, provider_id: str, enabled: bool) -> None:
        self.ensure_provider(provider_id)["enabled"] = enabled

    def set_api_key(self, provider_id: str, key: str) -> None:
        self.ensure_provider(provider_id)["apiKey"] = key

    def set_plugin_secret(self, provider_id: str, name: str, value: str) -> None:
        """One of CodexBar's `pluginSecrets` (e.g. a provider's management key)."""
        entry = self.ensure_provider(provider_id)
        secrets = entry.get("pluginSecrets")
        if not isinstance(secrets, dict):
            secrets = entry["pluginSecrets"] = {}
        secrets[name] = value

    def set_account(self, provider_id: str, label: str, key: str) -> bool:
        """Add the labeled account (CodexBar's `tokenAccounts`), or give the one with this
        label (compared as `--account` compares: trimmed, any case) the new token, keeping
        its other fields. True when an account was added."""
        entry = self.ensure_provider(provider_id)
        accounts_obj = entry.get("tokenAccounts")
        if not isinstance(accounts_obj, dict):
            accounts_obj = entry["tokenAccounts"] = {"version": 1, "activeIndex": 0, "accounts": []}
        accounts = accounts_obj.get("accounts")
        if not isinstance(accounts, list):
            accounts = accounts_obj["accounts"] = []
        wanted = label.strip().casefold()
        for account in accounts:
            stored = account.get("label") if isinstance(account, dict) else None
            if isinstance(stored, str) and stored.strip().casefold() == wanted:
                account["token"] = key
                return False
        import time

        accounts.append(
            {"id": new_account_id(), "label": label, "token": key, "addedAt": time.time()}
        )
        return True

    def remove_api_key(
        self, provider_id: str, *, account: str | None = None, secret: str | None = None
    ) -> bool:
        """Remove one stored secret; True when something was removed."""
        entry = self.provider(provider_id)
        if entry is None:
            return False
        if secret is not None:
            secrets = entry.get("pluginSecrets")
            if isinstance(secrets, dict) and secret in secrets:
                del secrets[secret]
                return True
            return False
        if account is not None:
            accounts_obj = entry.get("tokenAccounts")
            accounts = accounts_obj.get("accounts") if isinstance(accounts_obj, dict) else None
            if not isinstance(accounts, list):
                return False
            wanted = account.strip().casefold()
            kept = [
                a
                for a in accounts
                if not (
                    isinstance(a, dict)
                    and isinstance(a.get("label"), str)
                    and a["label"].strip().casefold() == wanted
                )
            ]
            if len(kept) == len(accounts):
                return False
            accounts_obj["accounts"] = kept  # type: ignore[index]
            active = accounts_obj.get("activeIndex")  # type: ignore[union-attr]
            if isinstance(active, int) and kept and active >= len(kept):
                accounts_obj["activeIndex"] = len(kept) - 1  # type: ignore[index]
            return True
        return entry.pop("apiKey", None) is not None

    # --- writing ---------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The document as a save writes it (see the module docstring); our own settings
        that earlier versions kept here are left out (they go to our own file)."""
        return codexbar_document(self.data)

    def save(self) -> None:
        """Write the document atomically, 0600. Our own settings found at the top level move
        to our own file first, so a failed write here loses nothing; when that file cannot
        take them (it is unreadable), nothing is written. A failure is a ConfigError naming
        the file and the reason the OS gave (read-only folder, full disk...)."""
        data = _encode(self.document(), self.path)  # what cannot be written fails first
        legacy = self.legacy_sections()
        if legacy:
            from codexbar.settings_file import absorb_legacy

            absorb_legacy(self.path, legacy)
        try:
            write_private_atomic(self.path, data)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {reason(exc)}") from None
        for key in legacy:
            self.data.pop(key, None)
        self.exists = True

    def _fingerprint(self) -> str:
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False)

    def needs_save(self, before: str) -> bool:
        """After an edit: changed, or not yet what a save writes (our old sections still
        here, an ISO date, a null...): a writing command leaves a file CodexBar loads."""
        if self._fingerprint() != before or self.legacy_sections():
            return True
        try:
            return self.document() != self.data
        except ConfigError:
            return True  # save() says what is wrong


def parse_document(raw: bytes, what: str) -> dict[str, Any]:
    """A JSON object from a settings file's bytes; a ConfigError saying what is wrong with it
    (never a partial read: such a file is not rewritten)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Strict on purpose: replacing bytes would rewrite a key or label on the next save.
        raise ConfigError(
            f"{what} is not UTF-8 text (byte {exc.start})", hint=CORRUPT_HINT
        ) from None
    from codexbar.jsonsafe import JsonTooDeep, loads

    try:
        data = loads(text)
    except JsonTooDeep:
        raise ConfigError(
            f"{what} is nested too deeply to be a config", hint=CORRUPT_HINT
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint=CORRUPT_HINT,
        ) from None
    except ValueError as exc:  # any other refusal of the parser is still "not JSON"
        raise ConfigError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must hold a JSON object (line 1)")
    return data


def _encode(document: dict[str, Any], path: Path) -> bytes:
    """Pretty, sorted keys, one final newline; a ConfigError for what JSON cannot hold."""
    try:
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, e.g. from undecodable argv bytes
        raise ConfigError(f"cannot write {path}: text that is not valid Unicode") from None
    except ValueError:  # 1e400 read back as infinity
        raise ConfigError(f"cannot write {path}: a number too large for JSON") from None
    except RecursionError:
        raise ConfigError(f"cannot write {path}: nested too deeply") from None


# --- what CodexBar's decoder takes ------------------------------------------------------------


def new_account_id() -> str:
    """A token account id as CodexBar makes one (`UUID().uuidString`: uppercase)."""
    import uuid

    return str(uuid.uuid4()).upper()


def codexbar_document(
    data: dict[str, Any], *, now: Callable[[], float] | None = None
) -> dict[str, Any]:
    """A copy of `data` as CodexBar's decoder takes it: no nulls, token accounts repaired,
    `version` set; the legacy top-level sections of our own settings left out."""
    try:
        document: dict[str, Any] = _without_nulls(data)
    except RecursionError:
        raise ConfigError("the config is nested too deeply to be written") from None
    for key in LEGACY_SECTIONS:
        document.pop(key, None)
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        document["version"] = VERSION
    if not isinstance(document.get("providers"), list):
        document["providers"] = []
    clock = now or _now
    for entry in document["providers"]:
        if isinstance(entry, dict) and isinstance(entry.get("tokenAccounts"), dict):
            _repair_token_accounts(entry["tokenAccounts"], clock)
    return document


def _now() -> float:
    import time

    return time.time()


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _repair_token_accounts(obj: dict[str, Any], now: Callable[[], float]) -> None:
    if not _is_int(obj.get("version")):
        obj["version"] = 1
    if not _is_int(obj.get("activeIndex")):
        obj["activeIndex"] = 0
    accounts = obj.get("accounts")
    if not isinstance(accounts, list):
        obj["accounts"] = []
        return
    for account in accounts:
        if not isinstance(account, dict):
            continue
        account["id"] = account_uuid(account.get("id")) or new_account_id()
        added = epoch_seconds(account.get("addedAt"))
        account["addedAt"] = now() if added is None else added
        if "lastUsed" in account:
            last = epoch_seconds(account["lastUsed"])
            if last is None:
                del account["lastUsed"]
            else:
                account["lastUsed"] = last


def account_uuid(value: object) -> str | None:
    """An account id as CodexBar writes it (uppercase), or None when it is not a UUID."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    import uuid

    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    text = str(parsed).upper()
    return text if text == value.upper() else None  # only the 8-4-4-4-12 spelling


def epoch_seconds(value: object) -> int | float | None:
    """A moment as CodexBar's `TimeInterval` (seconds since 1970): a number as it is, or an
    ISO 8601 string (what earlier versions of codexbar wrote) converted; None otherwise."""
    import math

    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = moment.timestamp()
    return int(seconds) if seconds == int(seconds) else seconds


class _Edit:
    """The context manager behind ConfigFile.edit (a class: contextlib is not loaded here)."""

    __slots__ = ("_before", "_config", "_lock", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: exclusive_lock | None = None
        self._config: ConfigFile | None = None
        self._before = ""

    def __enter__(self) -> ConfigFile:
        self._lock = lock_for_edit(self.path)
        try:
            config = ConfigFile.load(self.path)
        except BaseException:
            self._release()
            raise
        self._config = config
        self._before = config._fingerprint()
        return config

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            config = self._config
            if exc_type is None and config is not None and config.needs_save(self._before):
                config.save()
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(None, None, None)


def lock_for_edit(path: Path) -> exclusive_lock:
    """The held lock for a read-modify-write of the file at `path` (beside the file actually
    written when `path` is a symlink); a ConfigError when it cannot be had."""
    shown = path
    try:
        if path.is_symlink():
            path = path.resolve()  # lock beside the file actually written
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ConfigError(f"cannot read config {shown}: {exc}") from None
    refuse_irregular(path)  # before creating a lock file next to a device or a FIFO
    lock = exclusive_lock(path)
    try:
        lock.__enter__()
    except OSError as exc:
        raise ConfigError(f"cannot write {shown}: {reason(exc)}") from None
    return lock


def reason(exc: OSError) -> str:
    """What the OS said, e.g. `Permission denied`, `No space left on device`."""
    if exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


def refuse_irregular(path: Path) -> None:
    """A ConfigError when something other than a regular file (a FIFO, a device, a folder)
    sits at `path`; nothing when it is a regular file or absent."""
    import stat

    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return  # nothing there (yet): creating it is where a problem shows, as a write error
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {reason(exc)}") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"cannot read config {path}: {IRREGULAR}")
