"""The end of service (death, leaving, retirement): nothing is counted after it."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("affiliates", "0002_search_indexes_and_no_overlap")]

    operations = [
        migrations.AddField(
            model_name="affiliate",
            name="service_ended_on",
            field=models.DateField(
                blank=True,
                null=True,
                help_text="The last day of service. Nothing is counted after it; empty while in activity.",
                verbose_name="end of service (death, leaving, retirement)",
            ),
        ),
    ]
