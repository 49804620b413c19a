"""Who may do what: the on-call user groups and admins of the config, checked on every use.

Membership comes from Slack (`usergroups.list` to turn handles into ids, `usergroups.users.list`
for the members) and is cached in the store for a few minutes, so replicas share it and a
click does not wait on Slack. When Slack cannot answer and nothing is cached, the answer is no;
when the store cannot, the person is told so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks import mrkdwn
from bot.config import Access
from bot.errors import SlackError, StoreUnavailable
from bot.store import Store

log = logging.getLogger(__name__)

MEMBERS_TTL = timedelta(minutes=5)
HANDLES_TTL = timedelta(hours=1)
_GROUP_ID = "S"


class Authoriser:
    def __init__(self, config: Access, client: AsyncWebClient, store: Store) -> None:
        self._config = config
        self._client = client
        self._store = store

    def channel_allowed(self, channel_id: str) -> bool:
        return not self._config.channels or channel_id in self._config.channels

    async def may_operate(self, user_id: str, groups: Sequence[str] | None = None) -> bool:
        """Whether `user_id` is an admin or in one of `groups` (default: the on-call groups).
        Raises `StoreUnavailable`: the press can do nothing without the store anyway, and the
        person must hear that, not that they may not."""
        if user_id in self._config.admins:
            return True
        try:
            return user_id in await self._members(self._groups(groups))
        except SlackError as error:
            log.warning("cannot check on-call membership of %s (refusing): %s", user_id, error)
            return False

    async def who_may(self, groups: Sequence[str] | None = None) -> str:
        """Who may act, in mrkdwn: `members of @pact-oncall and <@U012> (admin)`."""
        mentions = [
            mrkdwn.usergroup(group) if _is_id(group) else "@" + mrkdwn.escape(group)
            for group in await self._group_ids_or_handles(self._groups(groups))
        ]
        admins = [mrkdwn.user(admin) for admin in self._config.admins]
        parts = []
        if mentions:
            parts.append("members of " + ", ".join(mentions))
        if admins:
            parts.append(", ".join(admins) + (" (admins)" if len(admins) > 1 else " (admin)"))
        if not parts:
            return "nobody yet: set `access.oncall_usergroups` or `access.admins` in pactbot.yml"
        return " and ".join(parts)

    def _groups(self, groups: Sequence[str] | None) -> tuple[str, ...]:
        return self._config.oncall_usergroups if groups is None else tuple(groups)

    async def _members(self, groups: tuple[str, ...]) -> set[str]:
        members: set[str] = set()
        for group in await self._group_ids(groups):
            members.update(await self._members_of(group))
        return members

    async def _members_of(self, group: str) -> list[str]:
        key = f"access:members:{group}"
        cached = await self._store.get_value(key)
        if isinstance(cached, list):
            return [str(user) for user in cached]
        answer = await self._client.usergroups_users_list(usergroup=group)
        users = sorted(answer.get("users") or [])
        await self._store.set_value(key, users, MEMBERS_TTL)
        return users

    async def _group_ids(self, groups: tuple[str, ...]) -> list[str]:
        """The groups' ids; handles Slack does not know are left out."""
        found = await self._group_ids_or_handles(groups, strict=True)
        return [group for group in found if _is_id(group)]

    async def _group_ids_or_handles(
        self, groups: tuple[str, ...], strict: bool = False
    ) -> list[str]:
        """Each group's id where known (it renders as a mention), else its handle."""
        handles: dict[str, str] = {}
        if not all(_is_id(group) for group in groups):
            try:
                handles = await self._handles()
            except (SlackError, StoreUnavailable):
                if strict:
                    raise
        return [handles.get(group, group) for group in groups]

    async def _handles(self) -> dict[str, str]:
        cached = await self._store.get_value("access:handles")
        if isinstance(cached, dict):
            return {str(handle): str(group) for handle, group in cached.items()}
        answer = await self._client.usergroups_list()
        handles = {group["handle"]: group["id"] for group in answer.get("usergroups") or []}
        groups = self._config.oncall_usergroups
        unknown = [group for group in groups if not _is_id(group) and group not in handles]
        if unknown:
            log.error("access.oncall_usergroups: Slack knows no user group %s", ", ".join(unknown))
        await self._store.set_value("access:handles", handles, HANDLES_TTL)
        return handles


def _is_id(group: str) -> bool:
    return group.startswith(_GROUP_ID) and group.isupper() and group.isalnum()
