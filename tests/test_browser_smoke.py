import pytest


@pytest.mark.browser
def test_live_server_serves_health_to_chromium(browser_page, live_asgi):
    browser_page.goto("/healthz")
    assert '"database": "ok"' in browser_page.content()
