"""The CodexBar-compatible config file: read, edit, and write back without losing anything.

The raw JSON document is kept as loaded; edits touch only the keys we own, so other
providers' entries and unknown keys survive a round trip unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

from codexbar.errors import ConfigError
from codexbar.paths import config_path, write_private_atomic

TYPE_CHECKING = False  # typing costs ~1.5 ms to import; mypy still reads the block below
if TYPE_CHECKING:
    from typing import Any

MANAGEMENT_SECRET = "OPENROUTER_MANAGEMENT_API_KEY"


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
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path=path, data={"version": 1, "providers": []}, exists=False)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc.__class__.__name__}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"config {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg})",
                hint="Fix or move the file; codexbar will not overwrite it.",
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"config {path} must hold a JSON object (line 1)")
        providers = data.get("providers")
        if providers is not None and not (
            isinstance(providers, list) and all(isinstance(p, dict) for p in providers)
        ):
            raise ConfigError(f'config {path}: "providers" must be a list of objects')
        return cls(path=path, data=data, exists=True)

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

    def set_management_key(self, provider_id: str, key: str) -> None:
        entry = self.ensure_provider(provider_id)
        secrets = entry.get("pluginSecrets")
        if not isinstance(secrets, dict):
            secrets = entry["pluginSecrets"] = {}
        secrets[MANAGEMENT_SECRET] = key

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
        self, provider_id: str, *, account: str | None = None, management: bool = False
    ) -> bool:
        """Remove one stored secret; True when something was removed."""
        entry = self.provider(provider_id)
        if entry is None:
            return False
        if management:
            secrets = entry.get("pluginSecrets")
            if isinstance(secrets, dict) and MANAGEMENT_SECRET in secrets:
                del secrets[MANAGEMENT_SECRET]
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
        text = json.dumps(self.data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        write_private_atomic(self.path, text.encode("utf-8"))
        self.exists = True
