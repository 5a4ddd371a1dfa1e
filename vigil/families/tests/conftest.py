"""Personas of the family plan tests.

Rosa, a neighbour in Pilsen with no account, makes a plan. Her sister Marta is her trusted
emergency contact (Spanish); Juan, a coworker, is a second contact who reads English and is not
trusted to send the panic for her.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from vigil.core.models import Chapter, Zone
from vigil.families import plans
from vigil.families.models import Plan

ROSA = "+13125550177"
MARTA = "+13125550188"
JUAN = "+13125550199"
STRANGER = "+13125550166"
ROSA_PIN = "2580"
MARTA_MESSAGE = "Marta: me detuvieron. Recoge a Sofi en la escuela Jungman a las 3."
JUAN_MESSAGE = "Juan, I was detained. Please tell the foreman and call my sister Marta."


def rosa_input(**changes: object) -> plans.PlanInput:
    data = plans.PlanInput(
        contacts=[
            plans.ContactInput(name="Marta Flores", phone=MARTA, language="es", message=MARTA_MESSAGE, trusted=True),
            plans.ContactInput(name="Juan Pérez", phone=JUAN, language="en", message=JUAN_MESSAGE, trusted=False),
        ],
        name="Rosa Flores",
        phone=ROSA,
        zip_code="60608",
        children_pickup="Marta recoge a Sofi",
        school="Escuela Jungman",
        documents="Caja azul en el closet",
        attorney="Lic. Ana Ruiz 312 555 0123",
        medical="Insulina diaria",
        notes="",
        language="es",
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data


def make_rosa_plan(**changes: object) -> tuple[Plan, str]:
    plan, code, _pin = plans.create_plan(rosa_input(**changes), now=timezone.now(), pin=ROSA_PIN)
    return plan, code


@pytest.fixture
def rosa_plan(chapter: Chapter, zone: Zone) -> tuple[Plan, str]:
    return make_rosa_plan()


@pytest.fixture(autouse=True)
def _families_keywords() -> None:
    # Another module's test may register a keyword of its own over ours and unregister it.
    from vigil.families import sms

    sms.register()
