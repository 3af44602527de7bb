import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="ImageId",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("image_uuid", models.CharField(max_length=36, unique=True)),
                ("kind", models.CharField(choices=[("ami", "ami"), ("aki", "aki"), ("ari", "ari")], default="ami",
                                          max_length=3)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.CreateModel(
            name="ClientToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("project_id", models.CharField(max_length=64)),
                ("token", models.CharField(max_length=64)),
                ("reservation_id", models.CharField(max_length=255)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.AddConstraint(
            model_name="clienttoken",
            constraint=models.UniqueConstraint(fields=("project_id", "token"), name="ec2_client_token_unique"),
        ),
    ]
