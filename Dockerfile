# syntax=docker/dockerfile:1
#
# Haoban API image.
#   docker build -t haoban .
#   docker run --rm -e DATABASE_URL=... -e HAOBAN_FIELD_KEYS=... -e HAOBAN_TOKEN_HMAC_KEY=... \
#       -e HAOBAN_ISSUER=https://api.example.org haoban haoban db migrate
#   docker run -p 8000:8000 -e DATABASE_URL=... (same secrets) -e HAOBAN_WORKERS=4 haoban
# Secrets come only from the environment at run time; none is baked in here.
# Production mode refuses a database that is behind: run `haoban db migrate` (and, once,
# `haoban keys rotate`) as a release step before starting the new version.

ARG PYTHON_IMAGE=python:3.11-slim
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# --- builder: resolve the locked dependencies into /app/.venv ------------------------
FROM ${PYTHON_IMAGE} AS builder
COPY --from=uv /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, so a code change does not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-project
COPY src ./src
# Not editable: the venv holds the package itself and does not need /src at run time.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# --- runtime: the venv, the migrations, an unprivileged user --------------------------
# The same base image as the builder: the venv's python links to /usr/local/bin/python3.11.
FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 haoban \
    && useradd --system --uid 10001 --gid haoban --home-dir /app --no-create-home --shell /usr/sbin/nologin haoban \
    && mkdir -p /app/var \
    && chown haoban:haoban /app/var
WORKDIR /app
COPY --from=builder /app/.venv /app/.venv
COPY migrations /app/migrations
# Configuration only; DATABASE_URL, HAOBAN_FIELD_KEYS, HAOBAN_TOKEN_HMAC_KEY and
# HAOBAN_ISSUER are given at run time.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HAOBAN_MIGRATIONS_DIR=/app/migrations \
    HAOBAN_DATA_DIR=/app/var \
    HAOBAN_PORT=8000 \
    HAOBAN_WORKERS=1
USER 10001:10001
EXPOSE 8000
# No curl in the slim image; urlopen raises (exit 1) on a refused connection or a 503.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HAOBAN_PORT', '8000') + '/health/ready', timeout=4)"]
# uvicorn with uvloop and httptools, HAOBAN_WORKERS processes (see haoban.serve).
CMD ["haoban", "serve", "--host", "0.0.0.0"]
