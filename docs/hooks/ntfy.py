#!/usr/bin/env python3
"""codexbar hook → ntfy (https://ntfy.sh or your own server).

Settings: NTFY_TOPIC (required), NTFY_URL (default https://ntfy.sh), NTFY_TOKEN (optional,
sent as `Authorization: Bearer`). Publishes with ntfy's JSON API: one POST to the server root.
"""

from __future__ import annotations

import sys

from codexbar_hook import URGENT, Hook, describe, post_json, run


def send(hook: Hook) -> None:
    title, message = describe(hook.event)
    event = str(hook.event.get("event", ""))
    payload = {
        "topic": hook.require("NTFY_TOPIC"),
        "title": title,
        "message": message,
        "priority": 4 if event in URGENT else 3,
        "tags": ["codexbar", event] if event else ["codexbar"],
    }
    token = hook.setting("NTFY_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    post_json(hook.setting("NTFY_URL", "https://ntfy.sh").rstrip("/") + "/", payload, headers)


if __name__ == "__main__":
    sys.exit(run("ntfy", send))
