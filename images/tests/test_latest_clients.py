"""Today's openstacksdk and python-openstackclient (latest releases) on the Image API:
images with data, tags, schemas, metadefs."""
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_latest_sdk_images_tags_schema_metadefs(latest_sdk, admin_account, raw_file):
    result = latest_sdk(f"""
        image = conn.image.create_image(name="sdk-img", filename={str(raw_file)!r}, disk_format="raw",
                                        container_format="bare", wait=True, visibility="private")
        conn.image.add_tag(image, "blue")
        shown = conn.image.get_image(image.id)
        tags_after_add = list(shown.tags)
        conn.image.remove_tag(shown, "blue")
        schema = conn.image.get_images_schema()
        member_schema = conn.image.get_member_schema()
        ns = conn.image.create_metadef_namespace(namespace="OS::SDK::Test", display_name="SDK",
                                                 visibility="public")
        conn.image.create_metadef_property(ns, name="cores", title="Cores", type="integer")
        nss = [n.namespace for n in conn.image.metadef_namespaces()]
        props = [p.name for p in conn.image.metadef_properties(ns)]
        rts = [r.name for r in conn.image.metadef_resource_types()]
        stores = [s.id for s in conn.image.stores()]
        print(json.dumps({{
            "listed": [i.name for i in conn.image.images()], "status": shown.status, "size": shown.size,
            "tags_after_add": tags_after_add, "tags_after_remove": list(conn.image.get_image(image.id).tags),
            "schema_name": schema.name if hasattr(schema, "name") else None,
            "schema_props": sorted(schema.properties) if getattr(schema, "properties", None) else [],
            "member_schema": getattr(member_schema, "name", None),
            "namespaces": nss, "properties": props, "resource_types": rts, "stores": stores,
        }}))
        conn.image.delete_metadef_namespace(ns)
        conn.image.delete_image(image)
    """)
    assert result["listed"] == ["sdk-img"]
    assert result["status"] == "active" and result["size"] == raw_file.stat().st_size
    assert result["tags_after_add"] == ["blue"] and result["tags_after_remove"] == []
    assert result["schema_name"] == "images" and "images" in result["schema_props"]
    assert result["member_schema"] == "member"
    assert result["namespaces"] == ["OS::SDK::Test"] and result["properties"] == ["cores"]
    assert "OS::Glance::Image" in result["resource_types"]
    assert result["stores"] == ["local"]


def test_latest_osc_image_lifecycle_with_tags(latest_osc, admin_account, raw_file):
    created = latest_osc("image", "create", "--file", str(raw_file), "--disk-format", "raw",
                         "--container-format", "bare", "--tag", "first", "osc-img")
    assert created["status"] == "active", created
    assert [row["Name"] for row in latest_osc("image", "list")] == ["osc-img"]
    latest_osc("image", "set", "--tag", "second", "osc-img", raw=True)
    shown = latest_osc("image", "show", "osc-img")
    assert sorted(shown["tags"]) == ["first", "second"]
    latest_osc("image", "unset", "--tag", "first", "osc-img", raw=True)
    assert latest_osc("image", "show", "osc-img")["tags"] == ["second"]
    latest_osc("image", "metadef", "namespace", "create", "--public", "OS::OSC::Test")
    listed = latest_osc("image", "metadef", "namespace", "list")
    assert listed == [{"namespace": "OS::OSC::Test"}]
    latest_osc("image", "metadef", "namespace", "delete", "OS::OSC::Test", raw=True)
    latest_osc("image", "delete", "osc-img", raw=True)
    assert latest_osc("image", "list") == []
