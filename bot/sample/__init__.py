"""A sample Pact Broker on loopback: behind `pactbot demo`, the tests and the benchmarks."""
