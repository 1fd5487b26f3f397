"""The axe-core check of the browser fixture can fail: a page with serious and
critical violations, served through Playwright's routing under a CSP as strict as
the app's, is reported with the rule, the page and the node; a clean page is not."""

from __future__ import annotations

from tests.support.axe import AxeWatch

STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'"
BROKEN = "<!doctype html><html><head><title>x</title></head><body><img src='/x.png'></body></html>"
CLEAN = (
    "<!doctype html><html lang='en'><head><title>ok</title></head>"
    "<body><main><h1>Fine</h1><img src='/x.png' alt='A receipt'></main></body></html>"
)


def test_axe_reports_violations_of_each_loaded_page_under_a_strict_csp(browser):
    watch = AxeWatch()
    context = browser.new_context()
    watch.attach(context)
    pages = {"/broken": BROKEN, "/clean": CLEAN}
    context.route(
        "http://axe.test/**",
        lambda route: route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": STRICT_CSP},
            body=pages.get(route.request.url.removeprefix("http://axe.test"), ""),
        ),
    )
    page = context.new_page()
    page.goto("http://axe.test/broken")
    page.goto("http://axe.test/clean")
    watch.finish()
    context.close()
    rules = {(rule, path) for rule, path in watch.violations}
    assert ("image-alt", "/broken") in rules  # critical
    assert ("html-has-lang", "/broken") in rules  # serious
    assert not any(path == "/clean" for _, path in rules)
    assert {"/broken", "/clean"} <= watch.checked
    report = watch.report()
    assert "critical image-alt on /broken" in report and "img" in report
