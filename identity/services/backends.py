"""Django's login (dashboard, admin site) through the same password check and lockout as the
Keystone token API."""
from django.contrib.auth.backends import ModelBackend

from identity.services import lockout
from identity.models import User


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = User.objects.filter(username=username).first()
        return user if lockout.check_password(user, password) else None
