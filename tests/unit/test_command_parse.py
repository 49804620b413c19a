"""`/pact …`: what a person typed, read as a subcommand, a mistake, or a leaked token."""

from __future__ import annotations

import dataclasses

import pytest

from bot.domain.command import Command, Invalid, TokenTyped, parse

# Token-shaped, built here so no literal in the repository looks like a leaked secret.
TOKENS = {
    "classic PAT": "ghp_" + "a1B2c3D4e5" * 3 + "F6g7H8",
    "fine-grained PAT": "github_pat_11ABCDEFG0" + "aB3dE5" * 10,
    "OAuth token": "gho_" + "Zz9Yy8Xx7W" * 3 + "w6Vv5U",
    "app installation token": "ghs_" + "Q1w2E3r4T5" * 3 + "y6U7i8",
    "Slack bot token": "xoxb-" + "1234567890-" * 2 + "AbCdEfGhIjKlMnOpQrStUvWx",
    "Slack user token": "xoxp-" + "1234567890-" * 3 + "a1b2c3d4e5f6",
    "Slack app-level token": "xapp-1-A0123456789-" + "1234567890123-" + "ab12" * 16,
}


def test_nothing_after_pact_means_help() -> None:
    assert parse("") == Command("help")
    assert parse("   \t ") == Command("help")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status", Command("status")),
        ("status pricing", Command("status", "pricing")),
        ("test", Command("test")),
        ("test Pricing Service", Command("test", "Pricing Service")),
        (
            "test 7f1c2a9e-0b3d-4c5e-8f60-1a2b3c4d5e6f",
            Command("test", "7f1c2a9e-0b3d-4c5e-8f60-1a2b3c4d5e6f"),
        ),
        ("digest", Command("digest")),
        ("help", Command("help")),
    ],
)
def test_each_subcommand_is_read_with_its_argument(text: str, expected: Command) -> None:
    assert parse(text) == expected


def test_an_argument_with_spaces_is_kept_whole_and_trimmed() -> None:
    assert parse("  test   Pricing  Service  ") == Command("test", "Pricing  Service")
    assert parse("status\tCheckout Web") == Command("status", "Checkout Web")


def test_the_case_of_the_subcommand_is_ignored_but_not_the_arguments() -> None:
    assert parse("STATUS Pricing") == Command("status", "Pricing")
    assert parse("Test Pricing Service") == Command("test", "Pricing Service")
    assert parse("Help") == Command("help")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("statsu", "status"), ("tset", "test"), ("hlep", "help"), ("digets", "digest")],
)
def test_a_mistyped_subcommand_is_invalid_and_names_the_closest(typed: str, meant: str) -> None:
    assert parse(f"{typed} Pricing") == Invalid(f"there is no `/pact {typed}`", meant)


def test_a_subcommand_like_none_is_invalid_without_a_suggestion() -> None:
    assert parse("xyzzy") == Invalid("there is no `/pact xyzzy`", None)


def test_a_mistyped_subcommand_is_named_in_lower_case() -> None:
    assert parse("STATSU") == Invalid("there is no `/pact statsu`", "status")


@pytest.mark.parametrize("name", ["digest", "help"])
def test_a_subcommand_without_an_argument_given_one_is_invalid_and_names_it(name: str) -> None:
    assert parse(f"{name} right now") == Invalid(
        f"`/pact {name}` takes no argument (got “right now”)"
    )


@pytest.mark.parametrize("kind", sorted(TOKENS))
@pytest.mark.parametrize(
    "shape",
    [
        "{token}",
        "test {token}",
        "status Pricing {token} Service",
        "digest {token}",
        "test token={token}",
        "test “{token}”",
        "STATUS\n{token}",
    ],
)
def test_anything_token_shaped_anywhere_is_refused_as_a_token(kind: str, shape: str) -> None:
    text = shape.format(token=TOKENS[kind])

    assert parse(text) == TokenTyped()


def test_a_refused_token_is_not_kept_in_what_parse_returns() -> None:
    assert dataclasses.fields(TokenTyped) == ()


def test_a_name_that_starts_like_a_token_prefix_is_refused_to_be_safe() -> None:
    # A pacticipant really named `xapp-gateway` cannot be told from a truncated app token.
    assert parse("status xapp-gateway") == TokenTyped()


@pytest.mark.parametrize(
    "text", ["status Pricing", "status github", "test ghost-service", "status xoxo"]
)
def test_ordinary_words_are_not_tokens(text: str) -> None:
    assert not isinstance(parse(text), TokenTyped)


@pytest.mark.parametrize("name", ["laughs_api", "taxapp-backend", "mexoxb-feed"])
def test_a_prefix_inside_an_ordinary_word_is_not_a_token(name: str) -> None:
    assert parse(f"status {name}") == Command("status", name)


@pytest.mark.parametrize(
    ("text", "restricted"),
    [("test", True), ("test Pricing", True), ("digest", True), ("status", False), ("help", False)],
)
def test_only_test_and_digest_are_restricted(text: str, restricted: bool) -> None:
    parsed = parse(text)

    assert isinstance(parsed, Command)
    assert parsed.restricted is restricted
