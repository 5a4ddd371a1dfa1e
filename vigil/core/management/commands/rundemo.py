"""`make run`: migrate, seed the fictional network, then run the web server and the worker
until Ctrl-C. Demo mode only (the Makefile sets VIGIL_DEMO=True).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from vigil.core.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PLAN_CODE, DEMO_PLAN_PIN, STAFF

HOST = "127.0.0.1"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 15.0
READY_TIMEOUT = 60.0


def demo_port() -> int:
    text = os.environ.get("PORT", "8000")
    if not text.isdecimal() or not 1 <= int(text) <= 65535:
        raise CommandError(f"PORT must be a port number, not {text!r}")
    return int(text)


class Command(BaseCommand):
    help = "Run the demo network: web server and worker on 127.0.0.1 (what `make run` starts)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "rundemo only runs the fictional demo network: start it with `make run`, "
                "or set VIGIL_DEMO=True. Never use demo mode for real data."
            )
        port = demo_port()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("createcachetable", verbosity=0)
        call_command("seed_demo", stdout=self.stdout)
        connections.close_all()
        # WhiteNoise serves from the finders in demo mode but warns when STATIC_ROOT is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)

        self.stop_requested = False
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.request_stop)

        # Own process groups: a terminal's Ctrl-C reaches only this process, which then stops
        # each child exactly once (a second signal would make the worker abort its task).
        children = {
            "web server": self.spawn(
                "-m", "uvicorn", "vigil.asgi:application", "--host", HOST, "--port", str(port),
                "--no-access-log", "--lifespan", "off", "--timeout-graceful-shutdown", "5",
            ),
            "worker": self.spawn("manage.py", "worker"),
        }  # fmt: skip
        url = f"http://{HOST}:{port}"
        failed: str | None = None
        try:
            failed = self.wait_until_ready(url, children)
            if failed is None:
                self.banner(url)
                failed = self.supervise(children)
        finally:
            self.stop(children)
        if failed is not None:
            code = children[failed].returncode
            raise CommandError(f"the {failed} exited unexpectedly (exit code {code}); stopped the demo.")
        self.stdout.write("Demo stopped.")

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True

    def spawn(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, *args], cwd=settings.BASE_DIR, process_group=0)  # noqa: S603

    def first_dead(self, children: dict[str, subprocess.Popen[bytes]]) -> str | None:
        return next((name for name, child in children.items() if child.poll() is not None), None)

    def wait_until_ready(self, url: str, children: dict[str, subprocess.Popen[bytes]]) -> str | None:
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.stop_requested and time.monotonic() < deadline:
            dead = self.first_dead(children)
            if dead is not None:
                return dead
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1).close()  # noqa: S310 - our own loopback URL
                return None
            except OSError:
                time.sleep(0.2)
        if not self.stop_requested:
            self.stderr.write(f"The web server did not answer on {url} within {READY_TIMEOUT:.0f} s.")
            return "web server"
        return None

    def supervise(self, children: dict[str, subprocess.Popen[bytes]]) -> str | None:
        while not self.stop_requested:
            dead = self.first_dead(children)
            if dead is not None:
                return dead
            time.sleep(0.2)
        return None

    def stop(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def banner(self, url: str) -> None:
        width = max(len(staff.username) for staff in STAFF)
        lines = [
            "",
            f"Vigil demo network is running at {url}/",
            f"Fictional data only: keys live in {settings.DEMO_KEY_FILE}, staff skip MFA on this computer.",
            "",
            f"Staff log in at {url}/staff/ (one password for every demo account):",
            f"  {'username':<{width}}  {'password':<{len(DEMO_PASSWORD)}}  role",
            *(f"  {staff.username:<{width}}  {DEMO_PASSWORD}  {staff.description}" for staff in STAFF),
            "",
            "Report as a neighbour at the home page; texts go to POST /webhooks/twilio/sms.",
            f"Simulated phones (every outgoing message lands here; text JOIN 60608 from one): {url}/sandbox/",
            f"Subscribe to alerts: {url}/subscribe/   Active alerts: {url}/alerts/",
            f"Volunteers: log in as volunteer for {url}/r/ (pages, field reports), or text 1 15 / INFORME 1 from "
            f"their simulated phone. Apply to volunteer: {url}/volunteer/",
            f"Cases: log in as legal for {url}/staff/cases/. Family plans: {url}/plan/ (demo plan code "
            f"{DEMO_PLAN_CODE}, PIN {DEMO_PLAN_PIN}); text DETENIDO {DEMO_PLAN_CODE} from a simulated phone.",
            "Press Ctrl-C to stop the web server and the worker.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
