"""A real OpenID Provider for tests: tests/support/oidc_provider.mjs (npm
`oidc-provider`, pinned in package-lock.json) run with node on a free port."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from scripts.run import free_port

from .servers import wait_port

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
ROOT = Path(__file__).resolve().parents[2]


class OpenIdProvider:
    client_id = "approvals-test"
    client_secret = "approvals-test-secret-0123456789"

    def __init__(self, accounts: dict, tmp_path: Path, *, app_urls: list[str]) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.accounts_file = tmp_path / "oidc-accounts.json"
        self.accounts_file.write_text(json.dumps(accounts))
        self.app_urls = app_urls
        self.proc: subprocess.Popen | None = None

    def start(self) -> OpenIdProvider:
        if not (ROOT / "node_modules" / "oidc-provider" / "package.json").exists():
            # `make test` runs `npm ci` first (make node-deps); a bare pytest run does it here.
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENT_ID": self.client_id,
            "OIDC_CLIENT_SECRET": self.client_secret,
            "OIDC_REDIRECT_URIS": ",".join(f"{u}/accounts/oidc/callback/" for u in self.app_urls),
            "OIDC_POST_LOGOUT_URIS": ",".join(f"{u}/accounts/login/" for u in self.app_urls),
            "OIDC_ACCOUNTS": str(self.accounts_file),
        }
        self.proc = subprocess.Popen(
            ["node", str(SCRIPT)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.port, 30)
        return self

    def configure(self, settings) -> None:
        """Point Django at this provider (the settings an operator sets in the environment)."""
        from accounts import oidc

        settings.OIDC_ISSUER = self.issuer
        settings.OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = self.client_id
        settings.OIDC_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET = self.client_secret
        settings.OIDC_RP_SCOPES = "openid email profile groups"
        settings.AUTHENTICATION_BACKENDS = [
            *settings.AUTHENTICATION_BACKENDS,
            "accounts.oidc.Backend",
        ]
        settings.CONTENT_SECURITY_POLICY = {
            "DIRECTIVES": {
                **settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
                "form-action": ["'self'", self.issuer],
            }
        }
        oidc._discovery.update(at=0.0, document=None, failed_at=None)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
