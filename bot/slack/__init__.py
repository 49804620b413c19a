"""The Slack app: Bolt AsyncApp, its listeners and who may use them."""
