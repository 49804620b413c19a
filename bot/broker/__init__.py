"""The only code that knows the Pact Broker's HTTP API (see shared/broker-api/README.md)."""
