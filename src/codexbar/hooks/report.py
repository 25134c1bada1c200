"""What the `hooks` commands print, as CodexBar prints it (text lines and JSON objects).

Text from the config file or from a hook's output is cleaned for the terminal (escape
sequences dropped, line breaks made spaces): a hook's stdout is arbitrary bytes. JSON keeps
every character; its encoder escapes controls.
"""

from __future__ import annotations

from codexbar.textsafe import clean

TYPE_CHECKING = False
if TYPE_CHECKING:
    from codexbar.hooks.events import HookEvent
    from codexbar.hooks.model import HooksConfig
    from codexbar.hooks.runner import RunResult


def list_lines(hooks: HooksConfig | None) -> list[str]:
    """`hooks list` in text: `Hooks: enabled|disabled`, then one line per rule
    (`[on|off] <event> provider=<id|any>: <exe args>`) or `No rules configured.`"""
    enabled = hooks is not None and hooks.enabled
    lines = [f"Hooks: {'enabled' if enabled else 'disabled'}"]
    if hooks is None or not hooks.rules:
        lines.append("No rules configured.")
    else:
        lines.extend(rule_lines(hooks))
    return lines


def rule_lines(hooks: HooksConfig) -> list[str]:
    """One `[on|off] <event> provider=<id|any>: <exe args>` line per rule; a rule of ours
    that enforces adds `enforce <policy>[ key=<key>]` (alone when it runs no command)."""
    lines = []
    for rule in hooks.rules:
        state = "on" if rule.enabled else "off"
        parts = [" ".join(rule.command())] if rule.has_command else []
        if rule.enforce is not None:
            key = f" key={rule.enforce_key}" if rule.enforce_key is not None else ""
            parts.append(f"enforce {rule.enforce}{key}")
        command = " · ".join(parts)
        lines.append(clean(f"[{state}] {rule.event} provider={rule.provider or 'any'}: {command}"))
    return lines


def enabled_line(enabled: bool) -> str:
    """`hooks enable|disable` in text."""
    return f"Hooks: {'enabled' if enabled else 'disabled'}"


def result_json(result: RunResult, event: HookEvent) -> dict[str, object]:
    """One element of `hooks test --json`: {ruleID, executable, event, provider, success,
    stdout? (trimmed, left out when empty), error? (the reason)}."""
    out: dict[str, object] = {
        "ruleID": result.rule_id,
        "executable": result.executable,
        "event": event.event,
        "provider": event.provider,
        "success": result.success,
    }
    stdout = result.stdout.strip()
    if result.success and stdout:
        out["stdout"] = stdout
    if result.reason is not None:
        out["error"] = result.reason
    return out


def result_line(result: RunResult) -> tuple[bool, str]:
    """`hooks test` in text: (to stderr?, line). `ran <exe>: OK[ — <stdout>]` on stdout, or
    `ran <exe>: <reason>` on stderr."""
    if result.reason is not None:
        return True, clean(result.summary())
    stdout = result.stdout.strip()
    return False, clean(f"ran {result.executable}: OK" + (f" — {stdout}" if stdout else ""))


def no_match_message(hooks: HooksConfig | None, event: str, provider: str) -> str:
    """`hooks test` when nothing runs (exit 1)."""
    if hooks is None or not hooks.enabled:
        return "Hooks are disabled."
    return f"No hook rule matches {event} for {provider}."


def watch_banner(providers: list[str], interval: float) -> list[str]:
    return [
        f"Watching {len(providers)} provider(s) every {int(interval)}s: {', '.join(providers)}",
        "Press Ctrl-C to stop.",
    ]


def watch_line(event: HookEvent) -> str:
    """`hooks watch` in text: `<event> <provider>[ window=<w>][ usage=<NN>%][ status=<s>]`."""
    line = f"{event.event} {event.provider}"
    if event.window is not None:
        line += f" window={event.window}"
    if event.usage_percent is not None:
        line += f" usage={event.usage_percent * 100:.0f}%"
    if event.status is not None:
        line += f" status={event.status}"
    return clean(line)
