"""Keystone v3 routes; mounted at /identity/v3/ and at the root alias /v3/.

APPEND_SLASH is off, so every route accepts an optional trailing slash.
"""
from django.urls import re_path

from . import (
    app_credential_views,
    catalog_views,
    credential_views,
    domain_config_views,
    endpoint_group_views,
    group_views,
    implied_role_views,
    inherit_views,
    limit_views,
    policy_views,
    project_views,
    role_views,
    token_views,
    user_views,
)

ID = r"[^/]+"

urlpatterns = [
    re_path(r"^auth/tokens/?$", token_views.AuthTokensView.as_view()),
    re_path(r"^auth/catalog/?$", token_views.AuthCatalogView.as_view()),
    re_path(r"^auth/projects/?$", token_views.AuthProjectsView.as_view()),
    re_path(r"^auth/domains/?$", token_views.AuthDomainsView.as_view()),
    re_path(r"^projects/?$", project_views.ProjectListView.as_view()),
    re_path(rf"^projects/(?P<project_id>{ID})/?$", project_views.ProjectDetailView.as_view()),
    re_path(
        rf"^projects/(?P<project_id>{ID})/users/(?P<user_id>{ID})/roles/?$",
        role_views.ProjectUserRolesView.as_view(),
    ),
    re_path(
        rf"^projects/(?P<project_id>{ID})/users/(?P<user_id>{ID})/roles/(?P<role_id>{ID})/?$",
        role_views.ProjectUserRoleGrantView.as_view(),
    ),
    re_path(r"^domains/?$", project_views.DomainListView.as_view()),
    re_path(rf"^domains/(?P<domain_id>{ID})/?$", project_views.DomainDetailView.as_view()),
    re_path(r"^users/?$", user_views.UserListView.as_view()),
    re_path(rf"^users/(?P<user_id>{ID})/?$", user_views.UserDetailView.as_view()),
    re_path(rf"^users/(?P<user_id>{ID})/password/?$", user_views.UserPasswordView.as_view()),
    re_path(rf"^users/(?P<user_id>{ID})/projects/?$", user_views.UserProjectsView.as_view()),
    re_path(rf"^users/(?P<user_id>{ID})/credentials/OS-EC2/?$", user_views.Ec2CredentialListView.as_view()),
    re_path(
        rf"^users/(?P<user_id>{ID})/credentials/OS-EC2/(?P<access>{ID})/?$",
        user_views.Ec2CredentialDetailView.as_view(),
    ),
    re_path(r"^roles/?$", role_views.RoleListView.as_view()),
    re_path(rf"^roles/(?P<prior_role_id>{ID})/implies/?$", implied_role_views.RoleImpliesListView.as_view()),
    re_path(
        rf"^roles/(?P<prior_role_id>{ID})/implies/(?P<implied_role_id>{ID})/?$",
        implied_role_views.RoleInferenceView.as_view(),
    ),
    re_path(r"^role_inferences/?$", implied_role_views.RoleInferencesView.as_view()),
    re_path(r"^policies/?$", policy_views.PolicyListView.as_view()),
    re_path(r"^OS-EP-FILTER/endpoint_groups/?$", endpoint_group_views.EndpointGroupListView.as_view()),
    re_path(
        rf"^OS-EP-FILTER/endpoint_groups/(?P<group_id>{ID})/?$", endpoint_group_views.EndpointGroupDetailView.as_view()
    ),
    re_path(rf"^policies/(?P<policy_id>{ID})/?$", policy_views.PolicyDetailView.as_view()),
    re_path(
        rf"^OS-INHERIT/(?:domains/(?P<domain_id>{ID})|projects/(?P<project_id>{ID}))/"
        rf"(?:users/(?P<user_id>{ID})|groups/(?P<group_id>{ID}))/roles/inherited_to_projects/?$",
        inherit_views.InheritedRolesView.as_view(),
    ),
    re_path(
        rf"^OS-INHERIT/(?:domains/(?P<domain_id>{ID})|projects/(?P<project_id>{ID}))/"
        rf"(?:users/(?P<user_id>{ID})|groups/(?P<group_id>{ID}))/roles/(?P<role_id>{ID})/inherited_to_projects/?$",
        inherit_views.InheritedRoleGrantView.as_view(),
    ),
    re_path(rf"^roles/(?P<role_id>{ID})/?$", role_views.RoleDetailView.as_view()),
    re_path(r"^role_assignments/?$", role_views.RoleAssignmentListView.as_view()),
    re_path(
        rf"^users/(?P<user_id>{ID})/application_credentials/?$",
        app_credential_views.ApplicationCredentialListView.as_view(),
    ),
    re_path(
        rf"^users/(?P<user_id>{ID})/application_credentials/(?P<credential_id>{ID})/?$",
        app_credential_views.ApplicationCredentialDetailView.as_view(),
    ),
    re_path(r"^registered_limits/?$", limit_views.RegisteredLimitListView.as_view()),
    re_path(rf"^registered_limits/(?P<limit_id>{ID})/?$", limit_views.RegisteredLimitDetailView.as_view()),
    re_path(r"^limits/model/?$", limit_views.LimitModelView.as_view()),
    re_path(r"^limits/?$", limit_views.LimitListView.as_view()),
    re_path(rf"^limits/(?P<limit_id>{ID})/?$", limit_views.LimitDetailView.as_view()),
    re_path(r"^regions/?$", catalog_views.RegionListView.as_view()),
    re_path(rf"^regions/(?P<region_id>{ID})/?$", catalog_views.RegionDetailView.as_view()),
    re_path(r"^services/?$", catalog_views.ServiceListView.as_view()),
    re_path(rf"^services/(?P<service_id>{ID})/?$", catalog_views.ServiceDetailView.as_view()),
    re_path(r"^endpoints/?$", catalog_views.EndpointListView.as_view()),
    re_path(rf"^endpoints/(?P<endpoint_id>{ID})/?$", catalog_views.EndpointDetailView.as_view()),
    re_path(
        rf"^domains/(?P<domain_id>{ID})/users/(?P<user_id>{ID})/roles/?$", role_views.DomainUserRolesView.as_view()
    ),
    re_path(
        rf"^domains/(?P<domain_id>{ID})/users/(?P<user_id>{ID})/roles/(?P<role_id>{ID})/?$",
        role_views.DomainUserRoleGrantView.as_view(),
    ),
    re_path(r"^groups/?$", group_views.GroupListView.as_view()),
    re_path(rf"^groups/(?P<group_id>{ID})/?$", group_views.GroupDetailView.as_view()),
    re_path(rf"^groups/(?P<group_id>{ID})/users/?$", group_views.GroupUsersView.as_view()),
    re_path(rf"^groups/(?P<group_id>{ID})/users/(?P<user_id>{ID})/?$", group_views.GroupUserView.as_view()),
    re_path(rf"^users/(?P<user_id>{ID})/groups/?$", group_views.UserGroupsView.as_view()),
    re_path(
        rf"^projects/(?P<project_id>{ID})/groups/(?P<group_id>{ID})/roles/?$", group_views.GroupRolesView.as_view()
    ),
    re_path(
        rf"^projects/(?P<project_id>{ID})/groups/(?P<group_id>{ID})/roles/(?P<role_id>{ID})/?$",
        group_views.GroupRoleGrantView.as_view(),
    ),
    re_path(
        rf"^domains/(?P<domain_id>{ID})/groups/(?P<group_id>{ID})/roles/?$", group_views.GroupRolesView.as_view()
    ),
    re_path(
        rf"^domains/(?P<domain_id>{ID})/groups/(?P<group_id>{ID})/roles/(?P<role_id>{ID})/?$",
        group_views.GroupRoleGrantView.as_view(),
    ),
    re_path(rf"^system/users/(?P<user_id>{ID})/roles/?$", role_views.SystemRolesView.as_view()),
    re_path(rf"^system/users/(?P<user_id>{ID})/roles/(?P<role_id>{ID})/?$", role_views.SystemRoleGrantView.as_view()),
    re_path(rf"^system/groups/(?P<group_id>{ID})/roles/?$", role_views.SystemRolesView.as_view()),
    re_path(
        rf"^system/groups/(?P<group_id>{ID})/roles/(?P<role_id>{ID})/?$", role_views.SystemRoleGrantView.as_view()
    ),
    re_path(r"^credentials/?$", credential_views.CredentialListView.as_view()),
    re_path(rf"^credentials/(?P<credential_id>{ID})/?$", credential_views.CredentialDetailView.as_view()),
    re_path(rf"^projects/(?P<project_id>{ID})/tags/?$", project_views.ProjectTagsView.as_view()),
    re_path(rf"^projects/(?P<project_id>{ID})/tags/(?P<tag>{ID})/?$", project_views.ProjectTagView.as_view()),
    re_path(r"^domains/config/default/?$", domain_config_views.DefaultDomainConfigView.as_view()),
    re_path(rf"^domains/config/(?P<group>{ID})/default/?$", domain_config_views.DefaultDomainConfigView.as_view()),
    re_path(
        rf"^domains/config/(?P<group>{ID})/(?P<option>{ID})/default/?$",
        domain_config_views.DefaultDomainConfigView.as_view(),
    ),
]
