"""The CodexBar-compatible config file: read, edit, and write back without losing anything.

The raw JSON document is kept as loaded; edits touch only the keys we own, so other
providers' entries and unknown keys survive a round trip unchanged.
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
    from typing import Any

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a config is a few KiB; far more is not a config


class ConfigFile:
    """The loaded document and where it lives (a plain class: see credentials.Account)."""

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
            return cls(path=path, data={"version": 1, "providers": []}, exists=False)
        except OSError as exc:
            raise ConfigError(f"cannot read config {path}: {reason(exc)}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            # Strict on purpose: replacing bytes would rewrite a key or label on the next save.
            raise ConfigError(
                f"config {path} is not UTF-8 text (byte {exc.start})",
                hint="Fix or move the file; codexbar will not overwrite it.",
            ) from None
        from codexbar.jsonsafe import JsonTooDeep, loads

        try:
            data = loads(text)
        except JsonTooDeep:
            raise ConfigError(
                f"config {path} is nested too deeply to be a config",
                hint="Fix or move the file; codexbar will not overwrite it.",
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"config {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg})",
                hint="Fix or move the file; codexbar will not overwrite it.",
            ) from None
        except ValueError as exc:  # any other refusal of the parser is still "not JSON"
            raise ConfigError(f"config {path} is not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config {path} must hold a JSON object (line 1)")
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
        return next((p for p in self.providers() if p.get("id") == provider_id), None)

    def enabled_ids(self) -> list[str]:
        return [str(p.get("id")) for p in self.providers() if p.get("enabled") is True]

    # --- editing ---------------------------------------------------------------------------

    def ensure_provider(self, provider_id: str) -> dict[str, Any]:
        entry = self.provider(provider_id)
        if entry is None:
            entry = {"id": provider_id}
            if not isinstance(self.data.get("providers"), list):
                self.data["providers"] = []
            self.data["providers"].append(entry)
        self.data.setdefault("version", 1)
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

    def plugin_secret(self, provider_id: str, name: str) -> str | None:
        secrets = (self.provider(provider_id) or {}).get("pluginSecrets")
        value = secrets.get(name) if isinstance(secrets, dict) else None
        return value if isinstance(value, str) and value else None

    def set_account(self, provider_id: str, label: str, key: str) -> None:
        """Add or replace the labeled account (CodexBar's `tokenAccounts`)."""
        entry = self.ensure_provider(provider_id)
        accounts_obj = entry.get("tokenAccounts")
        if not isinstance(accounts_obj, dict):
            accounts_obj = entry["tokenAccounts"] = {"version": 1, "activeIndex": 0, "accounts": []}
        accounts = accounts_obj.get("accounts")
        if not isinstance(accounts, list):
            accounts = accounts_obj["accounts"] = []
        from datetime import UTC, datetime

        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for account in accounts:
            if isinstance(account, dict) and account.get("label") == label:
                account["token"] = key
                return
        import uuid

        accounts.append(
            {"id": str(uuid.uuid4()).upper(), "label": label, "token": key, "addedAt": now}
        )

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
            kept = [a for a in accounts if not (isinstance(a, dict) and a.get("label") == account)]
            if len(kept) == len(accounts):
                return False
            accounts_obj["accounts"] = kept  # type: ignore[index]
            return True
        return entry.pop("apiKey", None) is not None

    def save(self) -> None:
        """Write the document atomically, 0600. A failure is a ConfigError naming the file
        and the reason the OS gave (read-only folder, full disk...)."""
        text = json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, e.g. from undecodable argv bytes
            raise ConfigError(f"cannot write {self.path}: text that is not valid Unicode") from None
        try:
            write_private_atomic(self.path, data)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {reason(exc)}") from None
        self.exists = True

    def _fingerprint(self) -> str:
        return json.dumps(self.data, sort_keys=True, ensure_ascii=False)


class _Edit:
    """The context manager behind ConfigFile.edit (a class: contextlib is not loaded here)."""

    __slots__ = ("_before", "_config", "_lock", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: exclusive_lock | None = None
        self._config: ConfigFile | None = None
        self._before = ""

    def __enter__(self) -> ConfigFile:
        path = self.path
        try:
            if path.is_symlink():
                path = path.resolve()  # lock beside the file actually written
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ConfigError(f"cannot read config {self.path}: {exc}") from None
        refuse_irregular(path)  # before creating a lock file next to a device or a FIFO
        lock = exclusive_lock(path)
        try:
            lock.__enter__()
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {reason(exc)}") from None
        self._lock = lock
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
            if exc_type is None and config is not None and config._fingerprint() != self._before:
                config.save()
        finally:
            self._release()

    def _release(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.__exit__(None, None, None)


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
