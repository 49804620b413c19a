"""What a credential looks like, wherever pactbot must notice one without ever repeating it."""

from __future__ import annotations

import re

# GitHub and Slack token prefixes (ghp_ classic PAT, github_pat_ fine-grained, gho_ OAuth,
# ghs_ app installation, ghu_/ghr_ user-to-server and refresh; xox?- Slack, xapp- app-level).
TOKEN = re.compile(r"(?<![\w-])(?:ghp_|github_pat_|gho_|ghs_|ghu_|ghr_|xox[a-z]-|xapp-)\S*")
# An auth scheme followed by a literal: neither a `${...}` template nor the broker's `****` mask.
_LITERAL_AUTH = re.compile(r"\b(?:Bearer|token)\s+(?!\$\{)(?!\*+(?:\s|$))\S+", re.IGNORECASE)


def looks_like_token(text: str) -> bool:
    """Whether `text` holds something shaped like a GitHub or Slack token."""
    return TOKEN.search(text) is not None


def holds_credential(text: str) -> bool:
    """Whether `text` holds a token, or a `Bearer <literal>` where a secret reference belongs."""
    return looks_like_token(text) or _LITERAL_AUTH.search(text) is not None
