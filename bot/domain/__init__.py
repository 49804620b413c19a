"""Pure core: facts, freshness, webhook health and explanations. No I/O, no clock."""
