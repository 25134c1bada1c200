#!/usr/bin/env python3
"""codexbar hook → Slack, through an incoming webhook.

Settings: SLACK_WEBHOOK_URL (required; https://hooks.slack.com/services/…, a secret: keep it
in a settings file).
"""

from __future__ import annotations

import sys

from codexbar_hook import Hook, describe, post_json, run


def escape(text: str) -> str:
    # Slack reads <…> as links and mentions (<!channel>): an account label must not ping.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send(hook: Hook) -> None:
    title, message = describe(hook.event)
    post_json(hook.require("SLACK_WEBHOOK_URL"), {"text": f"*{escape(title)}*: {escape(message)}"})


if __name__ == "__main__":
    sys.exit(run("slack", send))
