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

# Base images are pinned by digest (the tag is for people). This digest was taken from public
# references, not read from the registry (the build machine reaches none but PyPI, npm and
# Debian): before a release check it with `docker buildx imagetools inspect python:3.11-slim`
# (docs/install.md, "Image pins").
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7
# uv comes from PyPI, pinned by version and by the hashes of its two Linux wheels (x86_64, aarch64).
ARG UV_VERSION=0.13.9
ARG UV_SHA256_X86_64=d7f459fe4fd247d830351c75686d3996ace3c6f3f728eb0e85a30b7ada0cef19
ARG UV_SHA256_AARCH64=5435c5ce14a56431208ca0996416d310f1598e8c2c8ba707688985a16bb82dbe

# --- builder: resolve the locked dependencies into /app/.venv ------------------------
FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION
ARG UV_SHA256_X86_64
ARG UV_SHA256_AARCH64
RUN printf 'uv==%s --hash=sha256:%s --hash=sha256:%s\n' "$UV_VERSION" "$UV_SHA256_X86_64" "$UV_SHA256_AARCH64" \
        > /tmp/uv-requirements.txt \
    && pip install --no-cache-dir --require-hashes --only-binary=:all: -r /tmp/uv-requirements.txt \
    && rm /tmp/uv-requirements.txt
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# Dependencies first, so a code change does not reinstall them. --no-dev leaves out the embedded
# PostgreSQL too (the `embedded` extra and the dev group): production always has DATABASE_URL.
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
