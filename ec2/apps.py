"""The ec2 app: the EC2 Query API over the other apps' services, and the EC2 ids of images."""
from django.apps import AppConfig


class Ec2Config(AppConfig):
    name = "ec2"
    default_auto_field = "django.db.models.BigAutoField"
