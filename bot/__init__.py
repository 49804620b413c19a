"""pactbot: keeps consumer-driven contract testing from stalling silently."""

__version__ = "0.2.0"
