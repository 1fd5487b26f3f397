#!/bin/sh
# Container start for the web server and the worker (same image, see README):
# refuse to start on unsafe production settings, migrate, then run the command.
#   DJANGO_MIGRATE=0  skip migrations (set it on the worker so only one
#                     container migrates).
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"

# --fail-level WARNING: a deploy warning (weak secret, DEBUG on, no hosts)
# stops the container instead of serving with it.
"$PYTHON" manage.py check --deploy --fail-level WARNING

if [ "${DJANGO_MIGRATE:-1}" = "1" ]; then
    "$PYTHON" manage.py migrate --noinput
fi

exec "$@"
