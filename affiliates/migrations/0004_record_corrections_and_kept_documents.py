"""Corrections of service periods and salary records (``record_id`` on requests and on the registry's
history; one pending request per record, one per field as before for the affiliate's fields), and the
supporting PDFs kept between two attempts of the correction form."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0003_affiliate_service_ended_on"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [
        migrations.AddField(
            model_name="correctionrequest",
            name="record_id",
            field=models.PositiveBigIntegerField(
                blank=True,
                help_text="The service period or salary record corrected; empty for a missing one.",
                null=True,
                verbose_name="record",
            ),
        ),
        migrations.AddField(
            model_name="fieldchange",
            name="record_id",
            field=models.PositiveBigIntegerField(blank=True, null=True, verbose_name="record"),
        ),
        migrations.RemoveConstraint(
            model_name="correctionrequest",
            name="one_pending_correction_per_field",
        ),
        migrations.AddConstraint(
            model_name="correctionrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("status", "pending"),
                    models.Q(("field__in", ["service_period", "salary"]), _negated=True),
                ),
                fields=("affiliate", "field"),
                name="one_pending_correction_per_field",
            ),
        ),
        migrations.AddConstraint(
            model_name="correctionrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("record_id__isnull", False), ("status", "pending")),
                fields=("field", "record_id"),
                name="one_pending_correction_per_record",
            ),
        ),
        migrations.CreateModel(
            name="KeptDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("document", models.FileField(upload_to="corrections/kept/%Y/%m/")),
                ("name", models.CharField(max_length=200)),
                ("size", models.PositiveIntegerField()),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                (
                    "affiliate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="affiliates.affiliate"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "verbose_name": "document kept for a correction request",
                "verbose_name_plural": "documents kept for correction requests",
            },
        ),
    ]
