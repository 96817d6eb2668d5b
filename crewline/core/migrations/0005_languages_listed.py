"""French left the language list (its translation was not complete): a member who had chosen it
follows the browser again."""

from django.db import migrations


def forget_unlisted(apps, schema_editor):
    Member = apps.get_model("core", "Member")
    Member.objects.exclude(language__in=["", "en", "es"]).update(language="")


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0004_organization_paper"),
    ]

    operations = [
        migrations.RunPython(forget_unlisted, migrations.RunPython.noop),
    ]
