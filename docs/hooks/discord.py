#!/usr/bin/env python3
"""codexbar hook → Discord, through a channel webhook.

Settings: DISCORD_WEBHOOK_URL (required; https://discord.com/api/webhooks/…, a secret: keep it
in a settings file).
"""

from __future__ import annotations

import sys

from codexbar_hook import Hook, describe, post_json, run


def send(hook: Hook) -> None:
    title, message = describe(hook.event)
    payload = {
        "content": f"**{title}**: {message}",
        # Never ping anyone, whatever a label says (@everyone, <@id>).
        "allowed_mentions": {"parse": []},
    }
    post_json(hook.require("DISCORD_WEBHOOK_URL"), payload)


if __name__ == "__main__":
    sys.exit(run("discord", send))
