"""Production settings come from the environment and are safe by default."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from tests.support.processes import clean_env, run, settings_eval


def settings_of(env: dict[str, str], *names: str) -> dict:
    result = settings_eval("{" + ", ".join(f"{n!r}: settings.{n}" for n in names) + "}", env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_missing_secret_key_without_debug_is_a_clear_error(tmp_path):
    result = run([sys.executable, "manage.py", "check"], clean_env(tmp_path))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_must_be_asked_for_and_then_needs_no_secret(tmp_path):
    values = settings_of(clean_env(tmp_path, DJANGO_DEBUG="1"), "DEBUG", "ALLOWED_HOSTS")
    assert values["DEBUG"] is True
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]


def test_production_settings_are_secure_by_default(production_env):
    values = settings_of(
        production_env,
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "STORAGES",
        "WHITENOISE_USE_FINDERS",
    )
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["ALLOWED_HOSTS"] == ["approvals.example.com"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://approvals.example.com"]
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
    assert values["WHITENOISE_USE_FINDERS"] is False


def test_check_deploy_with_production_env_has_no_warnings(production_env):
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_check_deploy_fails_with_a_weak_secret(production_env):
    production_env["SECRET_KEY"] = "short"
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env,
    )
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_database_url_switches_to_postgresql_and_default_is_sqlite(tmp_path, production_env):
    assert settings_of(production_env, "DATABASES")["DATABASES"]["default"]["ENGINE"] == (
        "django.db.backends.postgresql"
    )
    sqlite = settings_of(clean_env(tmp_path, DJANGO_DEBUG="1"), "DATABASES")["DATABASES"]
    assert sqlite["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["default"]["NAME"].startswith(str(tmp_path / "var"))


def test_postgresql_in_production_uses_the_psycopg_pool(production_env):
    db = settings_of(production_env, "DATABASES")["DATABASES"]["default"]
    assert db["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 24, "timeout": 10.0}
    # Against the real server: connections handed back at close() are handed out again.
    # Which of the pool's connections comes next is the pool's business, so the check is
    # on server sessions: 12 checkouts in turn share a few (the pool's 2, and one it may
    # open while the first checkout waits; seen: 3), where without a pool each checkout is
    # a new session (12).
    code = (
        "from django.db import connection as c\n"
        "pids = set()\n"
        "for _ in range(12):\n"
        "    pids.add(c.cursor().execute('select pg_backend_pid()').fetchone()[0]); c.close()\n"
        "print(c.pool is not None, len(pids) <= 4, c.cursor().execute('select 1').fetchone()[0])"
    )
    # (A long wait for a pooled connection: a loaded CI machine is slow to open them.)
    env = {
        **production_env,
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "DATABASE_POOL_TIMEOUT": "60",
    }
    result = run([sys.executable, "-c", "import django; django.setup()\n" + code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["True", "True", "1"]


def test_the_pool_is_off_when_asked_for_under_debug_and_for_sqlite(tmp_path, production_env):
    plain = settings_of({**production_env, "DATABASE_POOL": "0"}, "DATABASES")["DATABASES"]
    assert "pool" not in plain["default"].get("OPTIONS", {})
    env = {**production_env, "DJANGO_DEBUG": "1"}
    assert "pool" not in settings_of(env, "DATABASES")["DATABASES"]["default"].get("OPTIONS", {})
    # Persistent connections asked for explicitly: those, not the pool (Django allows one).
    env = {**production_env, "DATABASE_CONN_MAX_AGE": "60"}
    persistent = settings_of(env, "DATABASES")["DATABASES"]["default"]
    assert persistent["CONN_MAX_AGE"] == 60 and "pool" not in persistent.get("OPTIONS", {})
    sqlite = settings_of(clean_env(tmp_path, DJANGO_DEBUG="1"), "DATABASES")["DATABASES"]
    assert "pool" not in sqlite["default"]["OPTIONS"]


def test_worker_cache_and_threads_come_from_the_environment(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="1")
    names = ("TEMPORAL_MAX_CACHED_WORKFLOWS", "TEMPORAL_ACTIVITY_THREADS")
    assert settings_of(env, *names) == dict(zip(names, (500, 16), strict=True))
    env.update(TEMPORAL_MAX_CACHED_WORKFLOWS="50", TEMPORAL_ACTIVITY_THREADS="4")
    assert settings_of(env, *names) == dict(zip(names, (50, 4), strict=True))


def test_temporal_address_and_ports_come_from_the_environment(tmp_path):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", TEMPORAL_PORT="7299", TEMPORAL_UI_PORT="8299")
    values = settings_of(env, "TEMPORAL_ADDRESS", "TEMPORAL_UI_URL")
    assert values == {
        "TEMPORAL_ADDRESS": "127.0.0.1:7299",
        "TEMPORAL_UI_URL": "http://127.0.0.1:8299",
    }
    env["TEMPORAL_ADDRESS"] = "temporal.internal:7233"
    assert settings_of(env, "TEMPORAL_ADDRESS")["TEMPORAL_ADDRESS"] == "temporal.internal:7233"


def test_embedded_mode_uses_the_in_memory_channel_layer(tmp_path):
    layers = settings_of(clean_env(tmp_path, DJANGO_DEBUG="1"), "CHANNEL_LAYERS")
    assert layers["CHANNEL_LAYERS"]["default"]["BACKEND"] == (
        "channels.layers.InMemoryChannelLayer"
    )


def test_redis_url_switches_to_a_working_redis_channel_layer(tmp_path):
    """A message sent to a group through real Redis reaches a member channel."""
    env = clean_env(tmp_path, DJANGO_DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/0")
    env["REDIS_PREFIX"] = f"approvals-test-{tmp_path.name}"
    code = """
import asyncio, json, django
django.setup()
from channels.layers import get_channel_layer

async def main():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("user.1", channel)
    await layer.group_send("user.1", {"type": "request.changed", "request_id": 7})
    message = await asyncio.wait_for(layer.receive(channel), 10)
    await layer.group_discard("user.1", channel)
    print(json.dumps({"backend": type(layer).__module__, "message": message}))

asyncio.run(main())
"""
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["backend"] == "channels_redis.core"
    assert out["message"] == {"type": "request.changed", "request_id": 7}


def test_production_without_payload_keys_is_a_clear_error(production_env):
    del production_env["TEMPORAL_PAYLOAD_KEYS"]
    result = run([sys.executable, "manage.py", "check"], production_env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "TEMPORAL_PAYLOAD_KEYS is not set" in result.stderr


def test_debug_without_secrets_makes_random_ones_into_var_and_keeps_them(tmp_path):
    """`make run` (DEBUG, nothing set): SECRET_KEY and the payload key are random, made
    on first start into var/ (0600) and the same on every later start; another var/ (another
    machine) gets others; nothing derives from a value written in the repository."""
    env = clean_env(tmp_path, DJANGO_DEBUG="1")
    first = settings_of(env, "SECRET_KEY", "TEMPORAL_PAYLOAD_KEYS")
    again = settings_of(env, "SECRET_KEY", "TEMPORAL_PAYLOAD_KEYS")
    assert first == again
    var = Path(env["APPROVALS_VAR_DIR"])
    assert (var / "secret_key").read_text().strip() == first["SECRET_KEY"]
    assert (var / "payload_keys").read_text().strip() == first["TEMPORAL_PAYLOAD_KEYS"]
    for name in ("secret_key", "payload_keys"):
        assert (var / name).stat().st_mode & 0o777 == 0o600
    key_id, key = first["TEMPORAL_PAYLOAD_KEYS"].split(":")
    assert key_id.startswith("local-") and len(base64.b64decode(key)) == 32
    assert len(first["SECRET_KEY"]) >= 50 and "insecure" not in first["SECRET_KEY"]
    elsewhere = settings_of(
        dict(env, APPROVALS_VAR_DIR=str(tmp_path / "other")), "SECRET_KEY", "TEMPORAL_PAYLOAD_KEYS"
    )
    assert elsewhere["SECRET_KEY"] != first["SECRET_KEY"]
    assert elsewhere["TEMPORAL_PAYLOAD_KEYS"] != first["TEMPORAL_PAYLOAD_KEYS"]
    # A secret given in the environment wins and writes nothing.
    given = clean_env(tmp_path, DJANGO_DEBUG="1", SECRET_KEY="s" * 50)
    given["APPROVALS_VAR_DIR"] = str(tmp_path / "given")
    assert settings_of(given, "SECRET_KEY")["SECRET_KEY"] == "s" * 50
    assert not (tmp_path / "given" / "secret_key").exists()


def test_malformed_payload_keys_fail_the_check(production_env):
    production_env["TEMPORAL_PAYLOAD_KEYS"] = "k1:REPLACE-WITH-32-RANDOM-BYTES-BASE64"
    result = run([sys.executable, "manage.py", "check"], production_env)
    assert result.returncode != 0
    assert "approvals.E001" in result.stdout + result.stderr


def test_schedule_times_default_to_the_morning_and_monday(tmp_path):
    values = settings_of(
        clean_env(tmp_path, DJANGO_DEBUG="1"),
        "APPROVALS_DIGEST_TIME",
        "APPROVALS_OVERDUE_REPORT_DAY",
        "APPROVALS_OVERDUE_REPORT_TIME",
    )
    assert values == {
        "APPROVALS_DIGEST_TIME": "07:30",
        "APPROVALS_OVERDUE_REPORT_DAY": "mon",
        "APPROVALS_OVERDUE_REPORT_TIME": "08:00",
    }
    env = clean_env(
        tmp_path,
        DJANGO_DEBUG="1",
        APPROVALS_DIGEST_TIME="6:05",
        APPROVALS_OVERDUE_REPORT_DAY="Friday",
    )
    values = settings_of(env, "APPROVALS_DIGEST_TIME", "APPROVALS_OVERDUE_REPORT_DAY")
    assert values == {"APPROVALS_DIGEST_TIME": "06:05", "APPROVALS_OVERDUE_REPORT_DAY": "fri"}


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("APPROVALS_DIGEST_TIME", "7.30", "must be a local time HH:MM"),
        ("APPROVALS_DIGEST_TIME", "24:00", "must be a local time HH:MM"),
        ("APPROVALS_OVERDUE_REPORT_TIME", "noon", "must be a local time HH:MM"),
        ("APPROVALS_OVERDUE_REPORT_DAY", "someday", "must be one of sun, mon"),
        ("APPROVALS_SCHEDULE_CATCHUP_SECONDS", "a while", "must be an integer"),
    ],
)
def test_a_bad_schedule_setting_is_a_clear_error(tmp_path, name, value, words):
    env = clean_env(tmp_path, DJANGO_DEBUG="1", **{name: value})
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} {words}" in result.stderr
