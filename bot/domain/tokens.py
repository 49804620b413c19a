"""What a credential looks like, wherever pactbot must notice one without ever repeating it."""

from __future__ import annotations

import re

# Token prefixes: GitHub (ghp_ classic PAT, github_pat_ fine-grained, gho_ OAuth, ghs_ app
# installation, ghu_/ghr_ user-to-server and refresh), Slack (xox?-, xapp- app-level), GitLab
# (glpat- access token, glptt- pipeline trigger token), CircleCI (CCIPAT_ personal, CCIPRJ_
# project) and Buildkite (bkua_ API access token).
TOKEN = re.compile(
    r"(?<![\w-])(?:ghp_|github_pat_|gho_|ghs_|ghu_|ghr_|xox[a-z]-|xapp-|glpat-|glptt-|CCIPAT_"
    r"|CCIPRJ_|bkua_)\S*"
)
# An auth scheme followed by a literal: neither a `${...}` template nor the broker's `****` mask.
_LITERAL_AUTH = re.compile(r"\b(?:Bearer|Basic|token)\s+(?!\$\{)(?!\*+(?:\s|$))\S+", re.IGNORECASE)
# A token in a URL's query, as GitLab's trigger and CircleCI's API v1.1 take it.
_QUERY_TOKEN = re.compile(r"[?&](?:token|circle-token)=(?!\$\{|\$%7B)[^&#\s]+", re.IGNORECASE)


def looks_like_token(text: str) -> bool:
    """Whether `text` holds something shaped like a GitHub or Slack token."""
    return TOKEN.search(text) is not None


def holds_credential(text: str) -> bool:
    """Whether `text` holds a token, or a `Bearer <literal>` (or a query `token=<literal>`)
    where a secret reference belongs."""
    return any(pattern.search(text) is not None for pattern in (TOKEN, _LITERAL_AUTH, _QUERY_TOKEN))
