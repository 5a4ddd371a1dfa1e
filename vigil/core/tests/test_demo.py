"""The demo network (`seed_demo`) and `make run` (`rundemo`), run as a newcomer would."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import live
from vigil.accounts.models import Role, User
from vigil.core.management.commands.seed_demo import DEMO_PASSWORD, STAFF
from vigil.core.models import Chapter, Zone
from vigil.incidents.models import Incident
from vigil.intake.models import Report


@pytest.fixture
def demo_mode(settings) -> None:
    settings.DEMO_MODE = True


def snapshot() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in apps.get_models()}


def test_seed_demo_builds_the_network_once_and_a_second_run_changes_nothing(db, demo_mode):
    call_command("seed_demo", verbosity=0)
    first = snapshot()
    hashes = dict(User.objects.values_list("username", "password"))

    call_command("seed_demo", verbosity=0)

    assert snapshot() == first
    assert dict(User.objects.values_list("username", "password")) == hashes


def test_the_demo_network_has_two_chapters_every_role_and_clustered_incidents(db, demo_mode):
    call_command("seed_demo", verbosity=0)

    assert set(Chapter.objects.values_list("name", flat=True)) == {"Pilsen", "Little Village"}
    assert set(Zone.objects.values_list("name", flat=True)) == {"Pilsen", "Little Village", "Back of the Yards"}
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)
    for staff in STAFF:
        assert User.objects.get(username=staff.username).check_password(DEMO_PASSWORD)
    regional = User.objects.get(username="regional")
    assert regional.role == Role.DISPATCHER and regional.chapters.count() == 2
    assert set(Report.objects.values_list("channel", flat=True)) == {"web", "sms", "hotline"}
    pilsen = Incident.objects.filter(zone__name="Pilsen").get()
    assert pilsen.report_count == 3 and pilsen.channels == ["hotline", "sms", "web"]
    assert Incident.objects.filter(zone__name="Little Village").get().report_count == 2


def test_zones_do_not_overlap(db, demo_mode):
    call_command("seed_demo", verbosity=0)
    cells = [cell for zone in Zone.objects.all() for cell in zone.cells]
    assert len(cells) == len(set(cells))


def test_seed_demo_and_rundemo_refuse_outside_demo_mode(db):
    with pytest.raises(CommandError, match="VIGIL_DEMO=True"):
        call_command("seed_demo")
    with pytest.raises(CommandError, match="demo"):
        call_command("rundemo")
    assert not User.objects.exists()


def test_the_suite_has_the_database_cache_table(db):
    # Django's test database creation runs createcachetable; rundemo runs it for `make run`.
    cache.set("vigil-test", "ok", 5)
    assert cache.get("vigil-test") == "ok"


# --- make run ---------------------------------------------------------------------------------


def child_pids(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Demo:
    def __init__(self, tmp_path: Path) -> None:
        self.port = live.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "rundemo.log"
        self.var = tmp_path / "var"
        # What `make run` gives it: demo mode and a port, nothing of the test settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL"):
            env.pop(name, None)
        env.update({"VIGIL_DEMO": "True", "VIGIL_VAR_DIR": str(self.var), "PORT": str(self.port)})
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo"],
            cwd=live.ROOT,
            env=env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            if "Press Ctrl-C" in self.output():
                urllib.request.urlopen(self.url + "/healthz", timeout=2).close()
                return
            time.sleep(0.2)
        raise AssertionError(f"rundemo did not start within {timeout} s:\n{self.output()}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    demo = Demo(tmp_path)
    yield demo
    if demo.process.poll() is None:
        demo.process.kill()
        demo.process.wait()
    for pid in child_pids(demo.process.pid):
        os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_make_run_serves_the_demo_prints_the_logins_and_stops_both_children_on_ctrl_c(demo):
    demo.wait_ready()
    children = child_pids(demo.process.pid)
    assert len(children) == 2

    output = demo.output()
    assert f"{demo.url}/" in output
    for staff in STAFF:
        assert any(line.split()[:2] == [staff.username, DEMO_PASSWORD] for line in output.splitlines())
    assert "sandbox" in output

    demo.process.send_signal(signal.SIGINT)
    assert demo.process.wait(timeout=30) == 0, demo.output()
    assert not any(alive(pid) for pid in children)
    with sqlite3.connect(demo.var / "vigil.sqlite3") as db:
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'vigil_cache'").fetchall() == [("vigil_cache",)]


@pytest.mark.slow
def test_make_run_stops_everything_and_fails_loudly_when_a_child_dies(demo):
    demo.wait_ready()
    children = child_pids(demo.process.pid)
    worker = next(pid for pid in children if "worker" in Path(f"/proc/{pid}/cmdline").read_text())

    os.kill(worker, signal.SIGKILL)

    assert demo.process.wait(timeout=30) != 0
    assert "the worker exited unexpectedly" in demo.output()
    assert not any(alive(pid) for pid in children)


def test_the_demo_network_has_sandbox_subscribers_in_every_zone_in_both_languages(db, demo_mode):
    from vigil.alerts.models import AlertTemplate, Subscriber, SubscriberStatus

    call_command("seed_demo", verbosity=0)

    active = Subscriber.objects.filter(status=SubscriberStatus.ACTIVE)
    for zone in Zone.objects.all():
        assert set(active.filter(zones=zone).values_list("language", flat=True)) == {"en", "es"}
    assert active.filter(drill_participant=True).count() == 2
    assert not AlertTemplate.objects.filter(approved_at__isnull=True).exists()
