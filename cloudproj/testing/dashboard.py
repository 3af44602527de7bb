"""Dashboard fixtures: logged-in browsers (Django test clients) of two projects and an admin,
and instances written straight to the DB (the table only reads them)."""
import itertools

import pytest

from .clients import logged_in

_seq = itertools.count()


@pytest.fixture
def member(make_account):
    user, project, _token = make_account("demo", "member", username="demo-user")
    return {"user": user, "project": project, "client": logged_in("demo-user")}


@pytest.fixture
def other(make_account):
    user, project, _token = make_account("other", "member", username="other-user")
    return {"user": user, "project": project, "client": logged_in("other-user")}


@pytest.fixture
def admin(make_account):
    user, project, _token = make_account("admin", "admin", username="admin")
    return {"user": user, "project": project, "client": logged_in("admin")}


@pytest.fixture
def flavor(db):
    from compute.models import Flavor

    return Flavor.objects.create(flavorid="dash.tiny", name="dash.tiny", memory_mb=256, vcpus=1, root_gb=0)


@pytest.fixture
def make_instance(db):
    """make_instance(project, user, name=None, **fields) -> an ACTIVE dash.tiny Instance row."""
    from compute.models import Instance

    def make(project, user, name=None, **fields):
        name = name or f"vm-{next(_seq)}"
        values = dict(display_name=name, hostname=name, project=project, user=user, flavorid="dash.tiny",
                      flavor_name="dash.tiny", memory_mb=256, vcpus=1, reservation_id="r-dash0000",
                      vm_state="active", task_state=None, power_state=1, host="host-a")
        values.update(fields)
        return Instance.objects.create(**values)

    return make


@pytest.fixture
def role(roles):
    from identity.models import Role

    return lambda name: Role.objects.get(name=name)
