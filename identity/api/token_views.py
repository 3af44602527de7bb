"""Version discovery, /v3/auth/* and the seeds' /v2.0 token call."""
from django.utils.cache import patch_vary_headers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cloudproj.api.errors import BadRequest, Forbidden, NotFound

from identity.services import catalog, accounts, tokens
from identity.services.policy import enforce
from . import token_requests
from .bodies import domain_body, project_body
from .common import IdentityView

V3_UPDATED = "2020-04-07T00:00:00Z"
V2_UPDATED = "2014-04-17T00:00:00Z"


def v3_version(base_url: str) -> dict:
    return {
        "id": "v3.14",
        "status": "stable",
        "updated": V3_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url}/identity/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


def v2_version(base_url: str) -> dict:
    return {
        "id": "v2.0",
        "status": "deprecated",
        "updated": V2_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url}/v2.0/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v2.0+json"}],
    }


class PublicIdentityView(IdentityView):
    """No token needed (and a stale X-Auth-Token header is ignored)."""

    authentication_classes = []
    permission_classes = [AllowAny]


class VersionListView(PublicIdentityView):
    """GET /identity/ — Keystone answers 300 Multiple Choices with the version list."""

    def get(self, request):
        return Response({"versions": {"values": [v3_version(self.base_url())]}}, status=300)


class V3VersionView(PublicIdentityView):
    def get(self, request):
        return Response({"version": v3_version(self.base_url())})


class V2VersionView(PublicIdentityView):
    def get(self, request):
        return Response({"version": v2_version(self.base_url())})


def _with_vary(response: Response) -> Response:
    patch_vary_headers(response, ["X-Auth-Token"])
    return response


class AuthTokensView(IdentityView):
    """POST issues (no token needed); GET/HEAD validate and DELETE revokes `X-Subject-Token`."""

    def perform_authentication(self, request):
        if request.method != "POST":
            super().perform_authentication(request)

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return super().get_permissions()

    def post(self, request):
        token_id, token = token_requests.authenticate_v3(request.data)
        body = token_requests.v3_token_body(token, self.base_url(), self._include_catalog())
        return _with_vary(Response(body, status=201, headers={"X-Subject-Token": token_id}))

    def _include_catalog(self) -> bool:
        """`?nocatalog` leaves the catalog out, as Keystone does."""
        return "nocatalog" not in self.request.query_params

    def _subject_token(self, action: str):
        subject_id = self.request.headers.get("X-Subject-Token")
        if not subject_id:
            raise BadRequest("X-Subject-Token header is required.")
        try:
            subject = tokens.find_valid_token(subject_id)
        except AuthenticationFailed:
            raise NotFound("Could not find token.") from None
        enforce(self.ctx, action, {"user_id": subject.user_id})
        return subject_id, subject

    def get(self, request):
        subject_id, subject = self._subject_token("identity:validate_token")
        body = token_requests.v3_token_body(subject, self.base_url(), self._include_catalog())
        return _with_vary(Response(body, headers={"X-Subject-Token": subject_id}))

    def head(self, request):
        subject_id, _ = self._subject_token("identity:check_token")
        return _with_vary(Response(status=200, headers={"X-Subject-Token": subject_id}))

    def delete(self, request):
        _, subject = self._subject_token("identity:revoke_token")
        tokens.revoke_token(subject)
        return _with_vary(Response(status=204))


class AuthCatalogView(IdentityView):
    def get(self, request):
        if self.ctx.project is None and not self.ctx.system:
            raise Forbidden("An unscoped token has no service catalog.")
        return Response(
            {"catalog": catalog.service_catalog(self.base_url(), self.ctx.project_id), "links": self.collection_links()}
        )


class AuthProjectsView(IdentityView):
    def get(self, request):
        projects = accounts.projects_of_user(self.ctx.user)
        return Response(
            {"projects": [project_body(p, self.v3_url()) for p in projects], "links": self.collection_links()}
        )


class AuthDomainsView(IdentityView):
    def get(self, request):
        domains = accounts.domains_of_user(self.ctx.user)
        return Response(
            {"domains": [domain_body(d, self.v3_url()) for d in domains], "links": self.collection_links()}
        )


class V2TokensView(PublicIdentityView):
    """POST /v2.0/tokens (the seeds' EC2-era clients): 200 with an `access` document."""

    def post(self, request):
        token_id, token = token_requests.authenticate_v2(request.data)
        return _with_vary(Response(token_requests.v2_access_body(token_id, token, self.base_url())))
