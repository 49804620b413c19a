"""The broker API fixtures (a copy of shared/broker-api/fixtures, see tests/fixtures/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BROKER_FIXTURES = Path(__file__).parent.parent / "fixtures" / "broker-api"
CAPTURED = BROKER_FIXTURES / "captured-v2.120.0"
CAPTURED_ROOT = "http://127.0.0.1:9292"


def fixture(name: str) -> Any:
    """Load a fixture by its path under broker-api/, e.g. `captured-v2.120.0/23_dashboard.json`."""
    return json.loads((BROKER_FIXTURES / name).read_text(encoding="utf-8"))


def captured(name: str) -> Any:
    return fixture(f"captured-v2.120.0/{name}.json")


def shape(value: Any) -> Any:
    """Keys and value types, recursively; a list by its first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__
