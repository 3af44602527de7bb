from django.apps import AppConfig


class ConsolesConfig(AppConfig):
    name = "consoles"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from compute.api.server_actions import register_action

        from consoles.api.views import get_vnc_console_action

        register_action("os-getVNCConsole", get_vnc_console_action)
