# Production image: non-root, migrations applied before the server starts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ENVIRONMENT=production DATA_DIR=/data
# Behind a reverse proxy, set FORWARDED_ALLOW_IPS to the proxy's address or network as seen from
# this container (e.g. `docker run -e FORWARDED_ALLOW_IPS=172.18.0.0/16 …`): X-Forwarded-For and
# X-Forwarded-Proto are believed from those addresses only. HSTS_MAX_AGE_SECONDS (default one
# year, 0 = off) is sent on https responses. See README.md, "Production".
ENV FORWARDED_ALLOW_IPS=127.0.0.1

RUN useradd --create-home --uid 10001 courtwatch && mkdir -p /data && chown courtwatch /data
WORKDIR /srv/courtwatch

COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install .

USER courtwatch
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "courtwatch db upgrade && exec courtwatch serve --host 0.0.0.0 --port 8000"]
