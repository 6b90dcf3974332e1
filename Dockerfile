# The panel in production mode: one port (SAAS_PANEL_BACKEND_PORT, by default PORT+1 behind the edge
# of deploy/edge), the prebuilt frontend served by the backend.
# Inputs prepared on the host by `make image-inputs` (build/): pinned requirements,
# wheels for an offline install (OFFLINE=1), and the built frontend.
ARG BASE_IMAGE=python:3.12-slim

FROM ${BASE_IMAGE} AS dependencies
ARG OFFLINE=0
COPY build/requirements.txt /tmp/requirements.txt
COPY build/wheels /wheels
RUN set -eu; \
    if [ "$OFFLINE" = 1 ]; then \
        python3 "$(ls /wheels/pip-*.whl)/pip" install --no-cache-dir --disable-pip-version-check --break-system-packages \
            --no-index --find-links /wheels --target /opt/deps -r /tmp/requirements.txt; \
    else \
        python3 -m pip install --no-cache-dir --disable-pip-version-check --target /opt/deps -r /tmp/requirements.txt; \
    fi

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="saas-panel"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/opt/deps \
    PORT=8000 \
    REFLEX_ENV_MODE=prod \
    REFLEX_DB_URL=sqlite:////data/saas_control_panel.db \
    REFLEX_STATES_WORKDIR=/home/panel/states \
    SAAS_PANEL_SECRET_FILE=/data/secret_key
# pg_dump, pg_restore and psql for `python -m saas_panel backup` and `restore` on PostgreSQL:
# Debian's, the same major version as the scale profile's server (deploy/postgres).
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
# The panel runs as its own unprivileged user: /app is root's (read-only to it), /data is its own.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/panel panel \
    && mkdir -p /data && chown panel:panel /data
COPY --from=dependencies /opt/deps /opt/deps
WORKDIR /app
COPY rxconfig.py alembic.ini pyproject.toml ./
COPY alembic ./alembic
COPY assets ./assets
COPY saas_panel ./saas_panel
COPY build/frontend ./.web/build/client
# Reflex writes a marker in .web/backend at start: the one place under /app the panel may write.
RUN mkdir .web/backend && chown panel:panel .web/backend
USER panel
VOLUME /data
EXPOSE 8001
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=5 \
    CMD ["python3", "-c", "import urllib.request; from saas_panel.config import get_settings; urllib.request.urlopen('http://127.0.0.1:%d/ping' % get_settings().backend_port, timeout=2)"]
CMD ["python3", "-m", "saas_panel", "serve"]
