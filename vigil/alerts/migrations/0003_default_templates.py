"""Default alert texts in English and Spanish, as unapproved drafts: an organizer approves them.

Short, calm and factual, no personal data, and one GSM-7 SMS segment with a network and zone
name of about 20 characters each (Spanish without accents, which would force UCS-2). Drills get
their "DRILL: "/"SIMULACRO: " label when sent, not here.
"""

from django.db import migrations

TEXTS = {
    ("activity", "en"): (
        "{network}: Immigration enforcement confirmed in {zone} at {time}. Stay calm. "
        "Do not open the door without a judge's warrant."
    ),
    ("activity", "es"): (
        "{network}: Actividad de inmigracion confirmada en {zone} a las {time}. Mantenga la calma. "
        "No abra sin orden de un juez."
    ),
    ("checkpoint", "en"): (
        "{network}: Checkpoint confirmed in {zone} at {time}. Avoid the area if you can. "
        "You have the right to remain silent."
    ),
    ("checkpoint", "es"): (
        "{network}: Reten confirmado en {zone} a las {time}. Si puede, evite la zona. "
        "Tiene derecho a guardar silencio."
    ),
    ("false_alarm", "en"): (
        "{network}: FALSE ALARM ({time}). No immigration enforcement in {zone}. "
        "Please do not forward the earlier alert."
    ),
    ("false_alarm", "es"): (
        "{network}: FALSA ALARMA ({time}). No hay actividad de inmigracion en {zone}. "
        "No reenvie la alerta anterior."
    ),
    ("all_clear", "en"): (
        "{network}: ALL CLEAR ({time}). Our volunteers no longer see enforcement in {zone}. Stay alert."
    ),
    ("all_clear", "es"): (
        "{network}: FIN DE ALERTA ({time}). Ya no vemos actividad de inmigracion en {zone}. Siga atento."
    ),
}


def add_defaults(apps, schema_editor):
    AlertTemplate = apps.get_model("alerts", "AlertTemplate")
    for (kind, language), body in TEXTS.items():
        AlertTemplate.objects.get_or_create(kind=kind, language=language, defaults={"body": body})


def remove_defaults(apps, schema_editor):
    AlertTemplate = apps.get_model("alerts", "AlertTemplate")
    for (kind, language), body in TEXTS.items():
        AlertTemplate.objects.filter(kind=kind, language=language, body=body, approved_at__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_initial")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
