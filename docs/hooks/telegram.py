#!/usr/bin/env python3
"""codexbar hook → Telegram, through a bot (sendMessage).

Settings: TELEGRAM_BOT_TOKEN (required, a secret: keep it in a settings file),
TELEGRAM_CHAT_ID (required), TELEGRAM_API_URL (default https://api.telegram.org).
"""

from __future__ import annotations

import sys

from codexbar_hook import Hook, describe, post_json, run


def send(hook: Hook) -> None:
    title, message = describe(hook.event)
    base = hook.setting("TELEGRAM_API_URL", "https://api.telegram.org").rstrip("/")
    url = f"{base}/bot{hook.require('TELEGRAM_BOT_TOKEN')}/sendMessage"
    payload = {
        "chat_id": hook.require("TELEGRAM_CHAT_ID"),
        "text": f"{title}: {message}",  # plain text: no parse_mode, nothing to escape
        "disable_web_page_preview": True,
    }
    post_json(url, payload)


if __name__ == "__main__":
    sys.exit(run("telegram", send))
