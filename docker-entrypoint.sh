#!/bin/sh
# Container start for the web server and the worker (same image, see README):
# refuse to start on unsafe production settings, migrate, then run the command.
#   DJANGO_MIGRATE=0       skip migrations (set it on the worker so only one
#                          container migrates).
#   REGISTER_SCHEDULES=1/0 create or update the Temporal Schedules first; by
#                          default only for the worker's command (run_worker,
#                          not `run_worker --ocr-only`, the receipt reader);
#                          Temporal unreachable for REGISTER_SCHEDULES_WAIT
#                          seconds (60) stops the container.
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"

# --fail-level WARNING: a deploy warning (weak secret, DEBUG on, no hosts)
# stops the container instead of serving with it.
"$PYTHON" manage.py check --deploy --fail-level WARNING

if [ "${DJANGO_MIGRATE:-1}" = "1" ]; then
    "$PYTHON" manage.py migrate --noinput
fi

register="${REGISTER_SCHEDULES:-auto}"
if [ "$register" = "auto" ]; then
    case " $* " in
        *" --ocr-only "*) register=0 ;;  # the receipt reader schedules nothing
        *" run_worker "*) register=1 ;;
        *) register=0 ;;
    esac
fi
if [ "$register" = "1" ]; then
    "$PYTHON" manage.py register_schedules --wait "${REGISTER_SCHEDULES_WAIT:-60}"
fi

exec "$@"
