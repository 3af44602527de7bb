from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_catalog(sender, using="default", **kwargs):
    """After migrate (and after a test database flush): the default domain and the catalog."""
    from identity.services.catalog import ensure_catalog

    if using == "default":
        ensure_catalog()


class IdentityConfig(AppConfig):
    name = "identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_seed_catalog, sender=self, dispatch_uid="identity.seed_catalog")
        from identity.services import quotas, usage_refresh

        quotas.register_user_usage(usage_refresh.user_usage)  # what a user holds (per-user quotas)

