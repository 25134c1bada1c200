"""The provider registry: ids, display names and aliases. Fetch code is imported lazily."""

from __future__ import annotations

from codexbar.errors import UsageError


class ProviderInfo:
    """A plain class: this registry sits on the cached-answer path, dataclasses would not."""

    __slots__ = ("aliases", "env_key", "id", "module", "name")

    def __init__(
        self, *, id: str, name: str, aliases: tuple[str, ...], module: str, env_key: str
    ) -> None:
        self.id = id
        self.name = name
        self.aliases = aliases
        self.module = module  # imported only when this provider is fetched
        self.env_key = env_key


PROVIDERS: dict[str, ProviderInfo] = {
    "openrouter": ProviderInfo(
        id="openrouter",
        name="OpenRouter",
        aliases=("or",),
        module="codexbar.providers.openrouter",
        env_key="OPENROUTER_API_KEY",
    ),
}


def known_names() -> str:
    return ", ".join(
        f"{p.id} ({', '.join(p.aliases)})" if p.aliases else p.id for p in PROVIDERS.values()
    )


def resolve(name: str) -> ProviderInfo | None:
    """`openrouter`, `or`, any case; None for `all`."""
    wanted = name.strip().lower()
    if wanted == "all":
        return None
    for info in PROVIDERS.values():
        if wanted == info.id or wanted in info.aliases:
            return info
    raise UsageError(f"unknown provider {name!r}; known: {known_names()}, all")


def display_name(provider_id: str) -> str:
    info = PROVIDERS.get(provider_id)
    return info.name if info else provider_id
