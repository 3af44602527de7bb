"""Issue 20, item 4, in headless Chromium at a desktop's and a phone's width: an admin disables a
user, resets its password and deletes it (each destructive step confirmed by name); a member
changes its own password from the link on its name and can log in with the new one."""
import pytest

from identity.models import User

from cloudproj.testing.browser import WIDTHS, answer_confirmation

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_disables_resets_and_deletes_a_user(browser, make_account, width):
    browser.driver.set_window_size(*WIDTHS[width])
    make_account("admin", "admin", username="admin")
    user, _project, _ = make_account("demo", "member", username="leaver")
    browser.login("admin")
    browser.get("/dashboard/admin/users/")
    browser.find(f'#user-{user.id} a[href="/dashboard/admin/users/{user.id}/"]').click()
    box = browser.wait_css("#id_edit-enabled")
    assert box.is_selected()
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    box.click()
    browser.find("#edit-user button[type=submit]").click()
    browser.wait(lambda d: "User leaver saved (disabled)." in d.page_source, 20, "the saved message")
    browser.screenshot(f"{width}-user-disabled")
    assert not User.objects.get(pk=user.id).is_active

    browser.find("#id_reset-password").send_keys("fresh-pass-9")
    browser.find("#id_reset-confirm").send_keys("fresh-pass-9")
    assert answer_confirmation(browser, browser.find("#reset-password button[type=submit]"), accept=True) == \
        "Reset the password of leaver?"
    browser.wait(lambda d: "Password of leaver reset" in d.page_source, 20, "the reset message")
    assert User.objects.get(pk=user.id).check_password("fresh-pass-9")  # (disabled: it cannot log in yet)

    delete = browser.find("#delete-user button.danger")
    assert answer_confirmation(browser, delete, accept=False) == "Delete user leaver?"
    assert User.objects.filter(pk=user.id).exists()
    answer_confirmation(browser, browser.find("#delete-user button.danger"), accept=True)
    browser.wait(lambda d: "User leaver deleted." in d.page_source, 20, "the deleted message")
    browser.screenshot(f"{width}-user-deleted")
    assert not User.objects.filter(pk=user.id).exists()
    assert not browser.driver.find_elements("css selector", f"#user-{user.id}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_member_changes_its_own_password(browser, make_account, width):
    browser.driver.set_window_size(*WIDTHS[width])
    make_account("demo", "member", username="demo-user")
    browser.login("demo-user")
    browser.find('header.top a.user[href="/dashboard/password/"]').click()
    browser.wait_css("#id_original").send_keys("wrong-one")
    browser.find("#id_password").send_keys("n3w-secret")
    browser.find("#id_confirm").send_keys("n3w-secret")
    browser.find("#own-password button[type=submit]").click()
    assert "The current password is wrong." in browser.wait_css("#own-password .field-error").text
    browser.find("#id_original").send_keys("secret-pass")
    browser.find("#id_password").send_keys("n3w-secret")
    browser.find("#id_confirm").send_keys("n3w-secret")
    browser.find("#own-password button[type=submit]").click()
    browser.wait(lambda d: "Your password is changed." in d.page_source, 20, "the changed message")
    browser.screenshot(f"{width}-password-changed")
    browser.find("header.top form[action='/dashboard/logout/'] button").click()
    browser.wait_css("#id_username")
    browser.login("demo-user", "n3w-secret")
    assert "Overview of demo" in browser.find("h1").text
