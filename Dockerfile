# One image for web, worker and beat (docker-compose.yml). Python 3.11 as in development.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# postgresql-client: pg_dump for operators; curl: the container healthcheck of /healthz.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 voipxs
WORKDIR /app

# Every package pinned with its SHA-256 (requirements.lock, from requirements.txt by `make lock`).
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock

COPY --chown=voipxs:voipxs . .
# collectstatic (production storage: hashed, compressed) needs settings that start, so it gets a
# throwaway key set that lives only in this build step; the real keys come from the environment.
RUN env $(python -m voipxs.privacy.keys) DJANGO_DEBUG=False python manage.py collectstatic --noinput \
 && mkdir -p /app/var/private && chown -R voipxs:voipxs /app/var /app/staticfiles

USER voipxs
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
