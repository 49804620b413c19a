"""Slack mrkdwn: escaping text from outside, and the few markups pactbot writes itself."""

from __future__ import annotations

from datetime import datetime


def escape(text: str) -> str:
    """Make `text` inert: `<!channel>`, `<@U1>` and `<https://x|y>` show as typed, never ping.

    Only `&`, `<` and `>` are control characters, replaced in this order (Slack's rule); other
    HTML entities would show literally.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, text: str) -> str:
    """A link showing `text`; both may come from outside (a broker's URL, a run's title)."""
    label = escape(text).replace("|", "¦")
    return f"<{escape(url).replace('|', '%7C')}|{label}>"


def user(user_id: str) -> str:
    return f"<@{user_id}>"


def channel(channel_id: str) -> str:
    return f"<#{channel_id}>"


def usergroup(group_id: str) -> str:
    return f"<!subteam^{group_id}>"


def date(moment: datetime, pattern: str = "{date_short_pretty} {time}") -> str:
    """A date each reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{pattern}|{fallback}>"
