#!/usr/bin/env python3
"""codexbar hook → any URL: POSTs the event JSON exactly as the hook received it.

Settings: WEBHOOK_URL (required), WEBHOOK_TOKEN (optional, sent as `Authorization: Bearer`),
WEBHOOK_SECRET (optional: adds `X-Codexbar-Signature: sha256=<hex>`, the HMAC-SHA256 of the
body with this secret, for the receiver to check).
"""

from __future__ import annotations

import hashlib
import hmac
import sys

from codexbar_hook import Hook, post, run


def send(hook: Hook) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Codexbar-Event": str(hook.event.get("event", "")),
    }
    token = hook.setting("WEBHOOK_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    secret = hook.setting("WEBHOOK_SECRET")
    if secret:
        digest = hmac.new(secret.encode("utf-8"), hook.raw, hashlib.sha256).hexdigest()
        headers["X-Codexbar-Signature"] = f"sha256={digest}"
    post(hook.require("WEBHOOK_URL"), hook.raw, headers)


if __name__ == "__main__":
    sys.exit(run("webhook", send))
