"""GET /v3/domains/config/default, /config/{group}/default, /config/{group}/{option}/default."""
from rest_framework.response import Response

from cloudproj.api.errors import NotFound
from cloudproj.exceptions import NotFound as NotFoundError

from identity.services import domain_config
from identity.services.policy import enforce
from .common import IdentityView


class DefaultDomainConfigView(IdentityView):
    def get(self, request, group=None, option=None):
        enforce(self.ctx, "identity:get_domain_config_default")
        try:
            return Response({"config": domain_config.default_config(group, option)})
        except NotFoundError as exc:
            raise NotFound(exc.message) from None
