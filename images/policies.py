"""Policy actions of the Image API (registered in identity.services.policy by the app's ready())."""
from identity.services.policy import register

register({
    "image:get_images": "any_authenticated",
    "image:get_image": "any_authenticated",
    "image:add_image": "any_authenticated",
    "image:upload_image": "admin_or_owner",
    "image:download_image": "any_authenticated",
    "image:modify_image": "admin_or_owner",
    "image:delete_image": "admin_or_owner",
    "image:publicize_image": "admin_api",
    "image:communitize_image": "admin_or_owner",
    "compute:images:list": "any_authenticated",
    "compute:images:show": "any_authenticated",
    "compute:images:delete": "admin_or_owner",
})
register({
    # Glance's defaults: admins and the image's project members
    "image:deactivate": "admin_or_owner",
    "image:reactivate": "admin_or_owner",
    # tasks (Glance's tasks_api_access: admins)
    "image:get_tasks": "admin_api",
    "image:get_task": "admin_api",
    "image:add_task": "admin_api",
    "image:get_members": "any_authenticated",
    "image:get_member": "any_authenticated",
    "image:add_member": "admin_or_owner",
    "image:delete_member": "admin_or_owner",
    "image:modify_member": "any_authenticated",
})
# Metadata definitions: anyone reads (private namespaces: their owner); admins write (Glance's
# defaults).
register({
    **{f"metadef:{a}": "any_authenticated" for a in (
        "get_namespaces", "get_namespace", "list_resource_types")},
    **{f"metadef:{a}": "admin_api" for a in (
        "add_namespace", "modify_namespace", "delete_namespace", "add_object", "modify_object",
        "delete_object", "add_property", "modify_property", "delete_property", "add_tag", "add_tags",
        "modify_tag", "delete_tag", "add_resource_type_association", "remove_resource_type_association")},
})
