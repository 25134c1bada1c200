"""Log records on stderr, as CodexBar's `--log-level`, `-v` and `--json-output` shape them.

Levels are CodexBar's (trace < verbose < debug < info < warning < error < critical); the
threshold is `--log-level` when it names one (an unknown value is ignored, as CodexBar does),
else `debug` with `-v`, else `error`. `--json-output` (or `--json-only`) writes each record as
one JSON line with CodexBar's keys, sorted: file, function, label, level, line, message,
metadata (strings only, when any), source, timestamp. Otherwise a record is one text line.

Records are never the command's output: they go to stderr only, keys scrubbed, one line each.
A plain module with a small state: `configure` is called once per command run.
"""

from __future__ import annotations

import sys

LEVELS = ("trace", "verbose", "debug", "info", "warning", "error", "critical")
# swift-log's level names, which CodexBar's JSON lines carry (`verbose` logs as debug).
_SWIFT_LEVEL = {"verbose": "debug"}

_threshold = LEVELS.index("error")
_json = False


def parse_level(raw: str | None) -> str | None:
    """A level name, trimmed and lowercased; None when it is not one."""
    if raw is None:
        return None
    level = raw.strip().lower()
    return level if level in LEVELS else None


def configure(*, level: str | None = None, verbose: bool = False, json: bool = False) -> None:
    global _threshold, _json
    chosen = parse_level(level) or ("debug" if verbose else "error")
    _threshold = LEVELS.index(chosen)
    _json = json


def enabled(level: str) -> bool:
    return LEVELS.index(level) >= _threshold


def as_json() -> bool:
    """Whether records are JSON lines (--json-output, --json-only)."""
    return _json


def log(level: str, category: str, message: str, **metadata: object) -> None:
    """One record, when `level` reaches the threshold."""
    if not enabled(level):
        return
    from codexbar.secrets import redact
    from codexbar.textsafe import clean, escape, fit

    label = f"codexbar.{category}"
    meta = {key: clean(str(value)) for key, value in metadata.items() if value is not None}
    if _json:
        import datetime

        caller = sys._getframe(1)
        record: dict[str, object] = {
            "file": caller.f_code.co_filename.rsplit("/", 1)[-1],
            "function": caller.f_code.co_name,
            "label": label,
            "level": _SWIFT_LEVEL.get(level, level),
            "line": caller.f_lineno,
            "message": clean(message),
            "source": "codexbar",
            "timestamp": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if meta:
            record["metadata"] = dict(sorted(meta.items()))
        from codexbar.jsonnum import apple

        line = escape(redact(apple(dict(sorted(record.items())))), sys.stderr)
    else:
        extra = "".join(f" {key}={value}" for key, value in meta.items())
        line = fit(redact(f"{level} {label}: {clean(message)}{extra}"), sys.stderr)
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # a log line must never end the command
