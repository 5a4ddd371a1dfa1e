"""Shared personas and helpers for the whole suite.

The network under test has two chapters. Pilsen's staff are the personas; the outsider is a
dispatcher of the other chapter, who must see nothing of Pilsen's (404, never 403).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from vigil.accounts.models import Role, User
from vigil.accounts.signals import SESSION_STARTED
from vigil.core.models import Chapter, Zone

PASSWORD = "correct horse battery staple 42"  # noqa: S105


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("VIGIL_TEST_DATABASE") != "postgres":
        return
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], connect_timeout=3
        ).close()
    except psycopg.OperationalError:
        if os.environ.get("CI"):
            raise pytest.UsageError(f"CI needs PostgreSQL at {db['HOST']}:{db['PORT']}, and none answered") from None
        skip = pytest.mark.skip(reason=f"PostgreSQL tests skipped: no server answered at {db['HOST']}:{db['PORT']}")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def english_by_default() -> Iterator[None]:
    """Requests activate their language in this thread; a test must not inherit the last one."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


def make_staff(username: str, role: str, *chapters: Chapter, mfa: bool = True) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, role=role)
    user.chapters.set(chapters)
    if mfa:
        user.totp_secret = generate_totp_secret()  # type: ignore[attr-defined]
        TOTP.activate(user, user.totp_secret)  # type: ignore[attr-defined]
    return user


@pytest.fixture
def chapter(db: Any) -> Chapter:
    return Chapter.objects.create(slug="pilsen", name="Pilsen")


@pytest.fixture
def other_chapter(db: Any) -> Chapter:
    return Chapter.objects.create(slug="cicero", name="Cicero")


@pytest.fixture
def zone(chapter: Chapter) -> Zone:
    # Pilsen, Chicago: the h3 resolution-6 cell around 18th St & Blue Island, plus ZIP 60608.
    import h3

    return Zone.objects.create(
        chapter=chapter, name="Pilsen", cells=[h3.latlng_to_cell(41.8575, -87.6600, 6)], zip_codes=["60608"]
    )


@pytest.fixture
def other_zone(other_chapter: Chapter) -> Zone:
    import h3

    return Zone.objects.create(
        chapter=other_chapter, name="Cicero", cells=[h3.latlng_to_cell(41.8456, -87.7539, 6)], zip_codes=["60804"]
    )


@pytest.fixture
def dispatcher(chapter: Chapter) -> User:
    return make_staff("dana.dispatcher", Role.DISPATCHER, chapter)


@pytest.fixture
def verifier(chapter: Chapter) -> User:
    return make_staff("vero.verifier", Role.VERIFIER, chapter)


@pytest.fixture
def legal_coordinator(chapter: Chapter) -> User:
    return make_staff("lucia.legal", Role.LEGAL, chapter)


@pytest.fixture
def organizer(chapter: Chapter) -> User:
    return make_staff("omar.organizer", Role.ORGANIZER, chapter)


@pytest.fixture
def admin_user(chapter: Chapter) -> User:
    return make_staff("ada.admin", Role.ADMIN, chapter)


@pytest.fixture
def outsider(other_chapter: Chapter) -> User:
    """A dispatcher of another chapter."""
    return make_staff("otto.outsider", Role.DISPATCHER, other_chapter)


@pytest.fixture
def volunteer(chapter: Chapter, zone: Zone) -> User:
    """Vale, a trained volunteer of Pilsen with a login, assigned to nothing yet."""
    from vigil.responders.tests.conftest import make_responder

    user = make_responder(chapter, 9001, home_zones=[zone], username="vale.volunteer", mfa=True).user
    assert user is not None
    return user


def login(client: Client, user: User) -> Client:
    """A logged-in session that has passed MFA (the login flow itself is tested in accounts)."""
    client.force_login(user)
    session = client.session
    session[SESSION_STARTED] = int(time.time())
    session.save()
    return client


@pytest.fixture
def as_dispatcher(client: Client, dispatcher: User) -> Client:
    return login(client, dispatcher)


@pytest.fixture
def neighbour() -> Iterator[Client]:
    """An anonymous neighbour: no account, no cookies but what the site sets."""
    yield Client()


from tests.live import browser_page, live_asgi  # noqa: E402,F401  (fixtures for the whole suite)

# Fake providers (real HTTP servers on 127.0.0.1): fake_twilio, fake_signal, fake_push.
pytest_plugins = ["tests.fakes.fixtures"]
