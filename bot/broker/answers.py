"""Reading the broker's HTTP answers: JSON bodies and its own error texts."""

from __future__ import annotations

from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from bot.errors import BrokerBadResponse

Model = TypeVar("Model", bound=BaseModel)


def json_model(response: httpx.Response, endpoint: str, model: type[Model]) -> Model:
    """The body as `model`; parsed and validated in one pass (pydantic-core's own JSON parser:
    the dashboard of a large broker is megabytes, read every few minutes)."""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or response.content.lstrip()[:1] == b"<":
        raise BrokerBadResponse(
            endpoint,
            "an HTML page instead of JSON: a proxy or login page answered; check "
            "PACT_BROKER_BASE_URL and the proxy in front of the broker",
        )
    if "json" not in content_type:
        raise BrokerBadResponse(endpoint, f"{content_type or 'no content type'} instead of JSON")
    try:
        return model.model_validate_json(response.content)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            start = response.text[:60].replace("\n", " ")
            raise BrokerBadResponse(endpoint, f"malformed JSON (starts {start!r})") from None
        raise BrokerBadResponse(endpoint, missing_field(error)) from None


def missing_field(error: ValidationError) -> str:
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "(body)"
    if problem["type"] == "missing":
        return f"the field {field} is missing"
    return f"the field {field} is not what the broker API promises ({problem['msg']})"


def broker_says(response: httpx.Response) -> str | None:
    """The broker's own error text: `{"error": "..."}` or `{"errors": [...]}`."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return str(body["error"])
        errors = body.get("errors")
        if isinstance(errors, list):
            return "; ".join(str(item) for item in errors)
        if isinstance(errors, dict):
            return "; ".join(f"{key}: {value}" for key, value in errors.items())
    return None
