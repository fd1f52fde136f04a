"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server."""
import os
from pathlib import Path

import pytest
from django.conf import settings

CHROMIUM = Path(os.environ.get("SOFAR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The live server listens on loopback only; DJANGO_LIVE_TEST_SERVER_ADDRESS may add a port.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives headless Chromium against the live server")


def screenshot_dir():
    test_data = Path(getattr(settings, "TEST_DATA_DIR", Path(settings.BASE_DIR) / "data" / "test"))
    return Path(os.environ.get("SOFAR_SCREENSHOT_DIR", test_data / "screenshots"))


def pytest_terminal_summary(terminalreporter):
    folder = screenshot_dir()
    if folder.exists() and any(folder.iterdir()):
        terminalreporter.write_line(f"browser test screenshots: {folder}")


@pytest.fixture(scope="module")
def browser(django_db_setup):
    """Launch Chromium once per module, after the test database exists.

    Playwright's sync API keeps an event loop running in this thread while the browser is
    open, and Django refuses ORM calls from a thread with a running loop. The tests call the
    ORM synchronously all the same, so the check is off until the browser closes.
    """
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found; install Debian's chromium (bin/test does where apt-get works)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    """A fresh browser page whose Accept-Language is Korean, as on the team's machines."""
    context = browser.new_context(locale="ko-KR", accept_downloads=True, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.base_url = live_server.url
    yield page
    context.close()


@pytest.fixture
def screenshot(page, request):
    """Save a full-page screenshot named after the test and the step."""
    folder = screenshot_dir()
    folder.mkdir(parents=True, exist_ok=True)

    def save(step):
        path = folder / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


def log_in(page, username, password="secret-pass-1"):
    page.goto(page.base_url + "/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
