"""The provider ids CodexBar knows (its `UsageProvider` raw values, v0.54.1)."""

from __future__ import annotations

# CodexBar 0.54.1's `UsageProvider` raw values, in its order (`allCases`: the order in which
# a load appends the providers a config file lacks, so a provider's display position). A rule's
# `provider` must be one of these (case-sensitive) or a hook rule naming it never runs, and a
# config entry with another id is dropped when CodexBar loads the file.
CODEXBAR_ORDER: tuple[str, ...] = (
    "codex",
    "openai",
    "azureopenai",
    "claude",
    "clinepass",
    "cursor",
    "opencode",
    "opencodego",
    "alibaba",
    "alibabatokenplan",
    "qwencloud",
    "factory",
    "fireworks",
    "gemini",
    "antigravity",
    "copilot",
    "devin",
    "zai",
    "minimax",
    "manus",
    "kimi",
    "kilo",
    "kiro",
    "vertexai",
    "augment",
    "jetbrains",
    "moonshot",
    "amp",
    "t3chat",
    "ollama",
    "synthetic",
    "openrouter",
    "elevenlabs",
    "warp",
    "windsurf",
    "zed",
    "perplexity",
    "mimo",
    "doubao",
    "sakana",
    "abacus",
    "mistral",
    "deepseek",
    "deepinfra",
    "codebuff",
    "crof",
    "venice",
    "commandcode",
    "qoder",
    "stepfun",
    "bedrock",
    "grok",
    "groq",
    "llmproxy",
    "litellm",
    "deepgram",
    "poe",
    "chutes",
    "neuralwatt",
    "clawrouter",
    "longcat",
    "sub2api",
    "wayfinder",
    "zenmux",
    "aiand",
    "zoommate",
    "xai",
    "notion",
    "ibmbob",
)
CODEXBAR_PROVIDERS: frozenset[str] = frozenset(CODEXBAR_ORDER)

# Providers CodexBar enables when the config says nothing (`ProviderMetadata.defaultEnabled`).
CODEXBAR_DEFAULT_ENABLED: frozenset[str] = frozenset({"codex"})

# The names CodexBar's `--provider` accepts besides these ids (ProviderDescriptorRegistry's
# cliNameMap: each descriptor's CLI name and aliases, matched lowercased), v0.54.1.
CODEXBAR_CLI_ALIASES: frozenset[str] = frozenset(
    (
        "11labs", "eleven", "abacus-ai", "abacusai", "ai&", "ai-and", "bailian",
        "alibaba-coding-plan", "alibaba-token", "alibaba-token-plan", "bailian-token-plan",
        "aws-bedrock", "azure-openai", "aoai", "chutes.ai", "claw-router", "command-code",
        "crofai", "deep-infra", "di", "deep-seek", "ds", "dg", "fw", "groqcloud", "groq-api",
        "ibm-bob", "bob", "bobshell", "kilo-ai", "kimi-ai", "kiro-cli", "litellm-proxy",
        "llm-api-key-proxy", "llm-proxy", "long-cat", "lc", "manicode", "mini-max",
        "mistral-ai", "notion-ai", "notionai", "nw", "neural", "openai-api", "or",
        "qwen-cloud", "qwen", "qwen-token-plan", "sakana-ai", "step-fun", "sf",
        "synthetic.new", "t3-chat", "t3", "ven", "volcengine", "ark", "bytedance", "warp-ai",
        "warp-terminal", "wayfinder-router", "xiaomi-mimo", "z.ai", "zen-mux", "sub-2-api",
    )
)  # fmt: skip
# `--provider both`: CodexBar's primary providers.
CODEXBAR_BOTH: tuple[str, ...] = ("codex", "claude")


def is_codexbar_name(name: str) -> bool:
    """Whether CodexBar's `--provider` knows this name (any case)."""
    wanted = name.strip().lower()
    return wanted in CODEXBAR_PROVIDERS or wanted in CODEXBAR_CLI_ALIASES
