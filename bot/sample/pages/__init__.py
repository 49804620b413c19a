"""The sample broker's answers, rendered from a `World` in the real broker's JSON shapes."""

from __future__ import annotations

from bot.sample.pages.history import HistoryPages
from bot.sample.pages.pacticipants import PacticipantPages
from bot.sample.pages.pacts import PactPages
from bot.sample.pages.webhooks import WebhookPages


class View(PactPages, WebhookPages, HistoryPages, PacticipantPages):
    """Every page; each public method answers one route with (status, JSON body)."""
