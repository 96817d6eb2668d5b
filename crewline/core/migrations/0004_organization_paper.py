from django.db import migrations, models

# As crewline.core.models.LETTER_COUNTRIES when this migration was written: job reports were
# on Letter in these countries and on A4 elsewhere.
LETTER_COUNTRIES = ("US", "CA", "MX", "PH", "CL", "CO", "VE", "GT", "CR", "PA", "DO", "PR")


def paper_from_country(apps, schema_editor):
    """Keep each organization on the paper its job reports were printed on."""
    Organization = apps.get_model("core", "Organization")
    (Organization.objects.exclude(country__in=LETTER_COUNTRIES).exclude(country="")
     .update(paper="a4"))


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0003_getting_started"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="paper",
            field=models.CharField(choices=[("us-letter", "Letter"), ("a4", "A4")],
                                   default="us-letter",
                                   help_text="Of job reports, quotes and invoices.",
                                   max_length=10, verbose_name="paper size"),
        ),
        migrations.RunPython(paper_from_country, migrations.RunPython.noop),
    ]
