"""The running bot's I/O shell: the monitor, Slack posting, the digest, the scheduler, HTTP."""
