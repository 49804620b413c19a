# syntax=docker/dockerfile:1
# pactbot serve in a container: build the package in one stage, run it slim and unprivileged.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
RUN python -m venv /opt/pactbot && /opt/pactbot/bin/pip install --no-cache-dir .

FROM python:3.12-slim
COPY --from=build /opt/pactbot /opt/pactbot
RUN useradd --system --uid 10001 --home-dir /data --create-home pactbot
USER pactbot
WORKDIR /data
ENV PATH=/opt/pactbot/bin:$PATH \
    PORT=3000 \
    PYTHONUNBUFFERED=1
EXPOSE 3000
# The image has no curl: Python itself asks /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]
CMD ["pactbot", "serve"]
