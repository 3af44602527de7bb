"""The `browser` fixture: headless Chromium (Debian's `chromium` + `chromium-driver`) driven by Selenium, with a
screenshot helper whose files land in test-artifacts/dashboard/ (git-ignored, kept by CI)."""
import importlib.util
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return "the selenium Python package (pip install -r requirements-dev.txt)"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists() and not shutil.which(Path(path).name):
            return f"{path} (Debian package {package}; scripts/host-packages.sh installs it)"
    return None


class Browser:
    def __init__(self, driver, base_url: str, test_name: str, downloads: Path):
        self.driver, self.base_url, self.downloads = driver, base_url, downloads
        self.name = re.sub(r"[^\w.-]+", "_", test_name)
        self.shots = 0

    def get(self, path: str):
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        return self.driver.find_element("css selector", css)

    def wait(self, condition, timeout: float = 30, what: str = "the page"):
        from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        # the page under the condition may be navigating away or swapping the element
        ignored = (NoSuchElementException, StaleElementReferenceException)
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2, ignored_exceptions=ignored).until(condition)
        except TimeoutException:
            self.screenshot("timeout")
            raise AssertionError(f"timed out after {timeout}s waiting for {what}") from None

    def wait_css(self, css: str, timeout: float = 30):
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait(ec.presence_of_element_located(("css selector", css)), timeout, css)

    def screenshot(self, step: str) -> Path:
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{step}.png"
        self.driver.save_screenshot(str(path))
        return path

    def open_menu(self, row_css: str):
        """Open the action menu of a table row (a <details>), as a user clicks its summary."""
        menu = self.find(f"{row_css} details.row-menu")
        if not menu.get_attribute("open"):
            self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", menu)
            menu.find_element("css selector", "summary").click()
        return menu

    def login(self, username: str, password: str = "secret-pass"):
        self.get("/dashboard/login/")
        self.find("#id_username").send_keys(username)
        self.find("#id_password").send_keys(password)
        self.screenshot("login")
        self.find("form button[type=submit]").click()
        self.wait_css("header.top .user")


@pytest.fixture
def browser(live_server, request, tmp_path):
    yield from open_browser(live_server.url, request, tmp_path)


def open_browser(base_url: str, request, tmp_path):
    """The `browser` fixture's session against the site at `base_url` (a generator: yield from)."""
    missing = _missing()
    if missing:
        pytest.skip(f"browser tests need {missing}")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900"):
        options.add_argument(arg)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f"chromium could not start headless: {exc.msg}")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    session = Browser(driver, base_url, request.node.name, downloads)
    for old in ARTIFACTS.glob(f"{session.name}-*.png"):  # screenshots of an earlier run of this test
        old.unlink()
    yield session
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        session.screenshot("failed")
    driver.quit()


# The widths the dashboard's browser tests take: a desktop's and a 390 px phone's.
WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def answer_confirmation(browser, button, accept: bool) -> str:
    """Click `button` (opening the row's action menu it sits in first), answer the confirmation dialog
    it opens; the dialog's text."""
    menu = browser.driver.execute_script("return arguments[0].closest('details:not([open])')", button)
    if menu is not None:
        browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", menu)
        menu.find_element("css selector", "summary").click()
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    alert = browser.wait(lambda d: d.switch_to.alert, 10, "the confirmation dialog")
    text = alert.text
    alert.accept() if accept else alert.dismiss()
    return text
