"""Pure Block Kit builders: models in, Slack message and view JSON out; they never call Slack.

Every name that came from outside goes through `mrkdwn.escape`; every builder keeps within
`limits`.
"""
