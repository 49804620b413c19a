"""The sample broker's story for `pactbot demo`: six pairs, one in each state worth seeing.

- `checkout → Pricing Service`: fresh, verified an hour after its last publication;
- `web-app → Pricing Service`: pending, published 20 minutes ago, the verification is running;
- `web-app → orders-api`: stale, its webhook's GitHub token (the secret githubToken, its own)
  died three days ago (401), and the consumer's CI has re-published the same unverified pact
  since;
- `checkout → inventory-api`: failing, the provider verified and found a contract problem;
- `admin-portal → billing-api`: never verified, no webhook reaches billing-api;
- `web-app → search-api`: idle, verified twelve days ago and nothing has changed since.

`pactbot demo` tells it with two pairs more (`demo_story`), whose webhooks trigger other CIs:

- `web-app → shipping-api`: stale, its webhook triggers a GitLab pipeline, and the pipeline
  trigger token was revoked four days ago (GitLab answers 404);
- `checkout → ledger-api`: fresh, its webhook runs an Azure DevOps pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.sample.world import (
    AZURE_RUN_QUEUED,
    DISPATCH_HEADERS,
    GITHUB_ACCEPTED,
    GITHUB_BAD_CREDENTIALS,
    GITLAB_PIPELINE_CREATED,
    GITLAB_TOKEN_UNKNOWN,
    World,
)

ORDERS_WEBHOOK = "kJE42wcSbKwfb0QJ3V9sBg"
GITLAB_WEBHOOK = "gL7pQ2rS9tUvWxYz0aBcDe"
AZURE_WEBHOOK = "aZ3dEvOpSqRtUvWxYzAbCd"


def demo_world(now: datetime) -> World:
    world = World(clock=lambda: now)
    world.shows_secret_references = True  # as PactFlow does: the canary copies the reference

    def hours(count: float) -> datetime:
        return now - timedelta(hours=count)

    for uuid, provider, repo in (
        ("Xq5ZiHu3BPeGqbIlpzR1Ow", "Pricing Service", "pricing-service"),
        ("b6qR2nT0YlWc9aHd3EuXkQ", "inventory-api", "inventory-api"),
        ("Tz8mPw1sLk4VbNq7RcYdHg", "search-api", "search-api"),
        (ORDERS_WEBHOOK, "orders-api", "orders-api"),
    ):
        # orders-api's CI has a GitHub token of its own; the other providers share one.
        secret = "githubToken" if uuid == ORDERS_WEBHOOK else "platformGithubToken"
        world.add_webhook(
            uuid,
            description=f"Verify {provider} pacts",
            provider=provider,
            url=f"https://api.github.com/repos/acme/{repo}/dispatches",
            target=GITHUB_ACCEPTED,
            created_at=hours(24 * 90),
            headers=DISPATCH_HEADERS | {"Authorization": f"Bearer ${{user.{secret}}}"},
        )
        # Its main build ran when the webhook was set up: publications fire the webhook.
        world.version(provider, "0.1.0", branch="main", at=hours(24 * 90))
    orders = world.webhooks[ORDERS_WEBHOOK]

    search = world.publish("web-app", "search-api", "4f1e2d0", at=hours(24 * 12 + 2))
    world.verify(search, at=hours(24 * 12), provider_version="9c8b7a6")

    first = world.publish("web-app", "orders-api", "a13c9e1", at=hours(24 * 6), content="orders v1")
    world.verify(first, at=hours(24 * 6 - 1), provider_version="77d0e4f")
    orders.target = GITHUB_BAD_CREDENTIALS  # the machine user's token was revoked
    world.publish("web-app", "orders-api", "b27f3a0", at=hours(24 * 3), content="orders v2")
    world.publish("web-app", "orders-api", "c5d1e88", at=hours(24 * 1), content="orders v2")

    pricing = world.publish("checkout", "Pricing Service", "8e2a4b1", at=hours(3))
    world.verify(pricing, at=hours(2), provider_version="3.14.0")
    world.publish("web-app", "Pricing Service", "d0c4f9a", at=now - timedelta(minutes=20))

    inventory = world.publish("checkout", "inventory-api", "8e2a4b1", at=hours(5))
    world.verify(inventory, at=hours(4), success=False, provider_version="2.7.1")

    world.publish("admin-portal", "billing-api", "1b9d3c7", at=hours(24 * 3 + 4))
    return world


def demo_story(now: datetime) -> World:
    """The demo's world: `demo_world`, and two webhooks to other CIs than GitHub."""
    world = demo_world(now)
    _other_cis(world, lambda count: now - timedelta(hours=count))
    return world


def _other_cis(world: World, hours: Callable[[float], datetime]) -> None:
    """A GitLab pipeline trigger whose token died, and a healthy Azure DevOps pipeline run."""
    gitlab = world.add_webhook(
        GITLAB_WEBHOOK,
        description="Verify shipping-api pacts",
        provider="shipping-api",
        url=(
            "https://gitlab.com/api/v4/projects/acme%2Fshipping-api/trigger/pipeline"
            "?ref=main&token=${user.gitlabTriggerToken}"
        ),
        target=GITLAB_PIPELINE_CREATED,
        created_at=hours(24 * 90),
        headers={"Accept": "application/json"},
    )
    gitlab.body = None
    azure = world.add_webhook(
        AZURE_WEBHOOK,
        description="Verify ledger-api pacts",
        provider="ledger-api",
        url="https://dev.azure.com/acme/Ledger/_apis/pipelines/12/runs?api-version=7.1",
        target=AZURE_RUN_QUEUED,
        created_at=hours(24 * 90),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic ${user.azureDevOpsPat}",
            "X-TFS-FedAuthRedirect": "Suppress",
        },
    )
    azure.body = {"resources": {"repositories": {"self": {"refName": "refs/heads/main"}}}}
    for provider in ("shipping-api", "ledger-api"):
        world.version(provider, "0.1.0", branch="main", at=hours(24 * 90))
    shipped = world.publish("web-app", "shipping-api", "a13c9e1", at=hours(24 * 6))
    world.verify(shipped, at=hours(24 * 6 - 1), provider_version="5e1f2a3")
    gitlab.target = GITLAB_TOKEN_UNKNOWN  # the trigger token was revoked
    world.publish("web-app", "shipping-api", "b27f3a0", at=hours(24 * 2), content="shipping v2")
    ledger = world.publish("checkout", "ledger-api", "8e2a4b1", at=hours(3))
    world.verify(ledger, at=hours(2), provider_version="1.4.0")


def scaled_world(now: datetime, *, pairs: int, webhooks: int, stale: int) -> World:
    """`pairs` pairs over `webhooks` providers, each with its own GitHub-dispatch webhook.

    The first provider's token is dead: its webhook answers 401 since two days, and `stale` of
    its consumers have published a change since that no one verified. Every other pair was
    verified within hours of its latest publication.
    """
    world = World(clock=lambda: now)
    per_provider = -(-pairs // webhooks)
    if stale > per_provider:
        raise ValueError(f"at most {per_provider} stale pairs fit behind one provider")
    for number in range(webhooks):
        world.add_webhook(
            f"hook{number:04d}AbCdEfGhIjKlMn",
            description=f"Verify provider-{number:03d} pacts",
            provider=f"provider-{number:03d}",
            url=f"https://api.github.com/repos/acme/provider-{number:03d}/dispatches",
            created_at=now - timedelta(days=90),
        )
        world.version(f"provider-{number:03d}", "0.1.0", at=now - timedelta(days=90))
    dead = world.webhooks["hook0000AbCdEfGhIjKlMn"]
    waiting = []
    for index in range(pairs):
        provider, consumer = divmod(index, per_provider)
        key = (f"consumer-{consumer:04d}", f"provider-{provider:03d}")
        published = now - timedelta(hours=1 + index % 20, minutes=index % 60)
        if provider == 0:
            # Before the token died: verified then, idle since.
            published = now - timedelta(days=5 if consumer < stale else 3)
            if consumer < stale:
                waiting.append(key)
        publication = world.publish(*key, "1.0.0", at=published, content=f"{key} v1")
        world.verify(publication, at=published + timedelta(minutes=10))
    dead.target = GITHUB_BAD_CREDENTIALS
    for key in waiting:
        world.publish(*key, "1.1.0", at=now - timedelta(days=2), content=f"{key} v2")
    return world
