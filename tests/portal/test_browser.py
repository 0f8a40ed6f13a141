"""The portal in a real browser (Debian's Chromium driven by Playwright): signing in through the
sandbox's DingTalk as a sales leader, an employee and HR, what each sees, and the requests the
portal must refuse. Screenshots are kept in ``test-artifacts/portal``."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from portal.app import SESSION_COOKIE
from sandbox.apps.dingtalk_login import hr_userids
from sandbox.company import Employee
from tests.conftest import IN_CI
from tests.portal.conftest import Site

ARTIFACTS = (
    Path(
        os.environ.get(
            "KPIHUB_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"
        )
    )
    / "portal"
)
EAST_SALES = 211


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium()
    if executable is None:
        message = "Debian's chromium is not installed (make test installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield fresh
    fresh.close()


def sign_in(page: Page, site: Site, person: Employee) -> None:
    """The way a person does it: the portal sends the browser to DingTalk's login page, where
    choosing oneself stands in for scanning the QR code, and DingTalk sends it back."""
    page.goto(f"{site.url}/login")
    assert page.url.startswith(site.sandbox.endpoints["KPIHUB_DINGTALK_LOGIN_URL"])
    page.click(f'a[data-userid="{person.userid}"]')
    page.wait_for_url(f"{site.url}/scores*")


def signed_in_at(
    browser: Browser, site: Site, person: Employee, url: str, height: int = 900
) -> tuple[BrowserContext, Page]:
    """A fresh browser of ``person``'s own, signed in, on ``url``."""
    context = browser.new_context(viewport={"width": 1280, "height": height})
    page = context.new_page()
    sign_in(page, site, person)
    page.goto(url)
    return context, page


def review_state(page: Page) -> str:
    return page.get_by_test_id("review-state").get_attribute("data-state") or ""


def listed(page: Page) -> set[str]:
    return set(page.locator("tr[data-job-number]").evaluate_all(
        "rows => rows.map(r => r.dataset.jobNumber)"
    ))  # fmt: skip


def people_of(site: Site, dept_id: int) -> list[Employee]:
    return [p for p in site.world.employees if dept_id in p.dept_ids]


def test_a_sales_leader_sees_their_department_and_traces_a_score(
    site: Site, context: BrowserContext
) -> None:
    leader = next(p for p in people_of(site, EAST_SALES) if p.leader)
    page = context.new_page()
    sign_in(page, site, leader)
    page.goto(f"{site.url}/scores?period={site.period}")
    assert listed(page) == {p.job_number for p in people_of(site, EAST_SALES)}
    assert page.get_by_test_id("scope").inner_text().startswith("部门主管")
    page.screenshot(path=str(ARTIFACTS / "scores-list.png"), full_page=True)

    member = next(p for p in people_of(site, EAST_SALES) if not p.leader)
    page.click(f'tr[data-job-number="{member.job_number}"] a >> nth=0')
    page.wait_for_url(f"{site.url}/scores/{member.job_number}/{site.period}")
    cli = site.kpihub("trace", member.job_number, "--period", site.period, "--json")
    assert cli.returncode == 0, cli.stderr
    traced = json.loads(cli.stdout)
    page.locator("details.fact summary").first.click()  # drill down to a fact's records
    shown_records = page.locator(".record").evaluate_all(
        "all => all.map(r => [r.closest('details').dataset.factId, r.dataset.recordKey,"
        " r.querySelector('.hash').textContent])"
    )
    expected_records = [
        [str(fact["fact_id"]), record["record_key"], record["payload_sha256"]]
        for component in traced["components"]
        for fact in component["facts"] + component["target_facts"]
        for record in fact["records"]
    ] + [
        [str(fact["fact_id"]), record["record_key"], record["payload_sha256"]]
        for adjustment in traced["adjustments"]
        for fact in adjustment["facts"]
        for record in fact["records"]
    ]
    assert shown_records == expected_records and expected_records
    assert page.get_by_test_id("total").inner_text() == traced["score"]["total"]
    kpis = page.locator("table.components tr[data-kpi]").evaluate_all(
        "rows => rows.map(r => r.dataset.kpi)"
    )
    assert kpis == [c["kpi_code"] for c in traced["components"]]
    page.screenshot(path=str(ARTIFACTS / "score-trace.png"), full_page=True)

    elsewhere = next(p for p in people_of(site, 212) if not p.leader)
    refused = page.goto(f"{site.url}/scores/{elsewhere.job_number}/{site.period}")
    assert refused is not None and refused.status == 404
    assert page.get_by_test_id("problem").inner_text() == "没有这个成绩。"


def test_an_employee_sees_only_their_own_score_and_their_trend(
    site: Site, context: BrowserContext
) -> None:
    employee = next(p for p in people_of(site, EAST_SALES) if not p.leader)
    page = context.new_page()
    sign_in(page, site, employee)
    assert listed(page) == {employee.job_number}
    page.goto(f"{site.url}/people/{employee.job_number}")
    months = page.get_by_test_id("trend").locator("tbody tr").count()
    assert months == len(site.periods)
    page.screenshot(path=str(ARTIFACTS / "employee-trend.png"), full_page=True)
    colleague = next(p for p in people_of(site, EAST_SALES) if p.leader)
    for path in (
        f"/people/{colleague.job_number}",
        f"/scores/{colleague.job_number}/{site.period}",
    ):
        answer = page.goto(f"{site.url}{path}")
        assert answer is not None and answer.status == 404, path


def test_hr_sees_everyone_and_english_is_a_click_away(site: Site, context: BrowserContext) -> None:
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    page = context.new_page()
    sign_in(page, site, hr)
    everyone = site.kpihub("scores", "--period", site.period, "--json")
    assert everyone.returncode == 0, everyone.stderr
    assert listed(page) == {row["job_number"] for row in json.loads(everyone.stdout)}
    page.click("a.lang")
    assert page.locator("h1").inner_text() == f"Scores of {site.period}"


def test_a_forged_session_cookie_is_no_session(site: Site, context: BrowserContext) -> None:
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    claim = {"viewer": {"userid": hr.userid, "job_number": hr.job_number, "name": hr.name}}
    forged = base64.b64encode(json.dumps(claim).encode()).decode() + ".ZmFrZQ.c2lnbmF0dXJl"
    host = urlsplit(site.url).hostname
    context.add_cookies([{"name": SESSION_COOKIE, "value": forged, "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(f"{site.url}/scores?period={site.period}")
    assert page.url.startswith(site.sandbox.endpoints["KPIHUB_DINGTALK_LOGIN_URL"])
    answer = page.request.get(f"{site.url}/scores", headers={"Accept": "application/json"})
    assert answer.status == 401


def test_a_replayed_auth_code_is_refused(site: Site, browser: Browser) -> None:
    person = next(p for p in people_of(site, EAST_SALES) if not p.leader)
    first = browser.new_context()
    page = first.new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/auth/callback" in r.url else None)
    sign_in(page, site, person)
    first.close()
    old_code = parse_qs(urlsplit(callbacks[0]).query)["authCode"][0]

    second = browser.new_context()
    page = second.new_page()
    page.goto(f"{site.url}/login")  # a sign-in of its own, with its own state
    state = parse_qs(urlsplit(page.url).query)["state"][0]
    answer = page.goto(f"{site.url}/auth/callback?authCode={old_code}&state={state}")
    assert answer is not None and answer.status == 401
    assert page.get_by_test_id("problem").inner_text() == "登录失败"
    page.goto(f"{site.url}/scores")
    assert page.url.startswith(site.sandbox.endpoints["KPIHUB_DINGTALK_LOGIN_URL"])
    second.close()


def test_a_form_without_its_csrf_token_is_refused(site: Site, context: BrowserContext) -> None:
    person = next(p for p in people_of(site, EAST_SALES) if not p.leader)
    page = context.new_page()
    sign_in(page, site, person)
    status = page.evaluate(
        "() => fetch('/logout', {method: 'POST', body: new URLSearchParams({})})"
        ".then(r => r.status)"
    )
    assert status == 403
    page.goto(f"{site.url}/scores")
    assert listed(page) == {person.job_number}  # still signed in: nothing changed
    page.get_by_role("button", name="退出").click()
    assert page.get_by_test_id("signed-out").is_visible()
    page.goto(f"{site.url}/scores")
    assert page.url.startswith(site.sandbox.endpoints["KPIHUB_DINGTALK_LOGIN_URL"])


SOUTH_SALES = 212


def test_the_review_cycle_in_the_browser_every_step_audited(site: Site, browser: Browser) -> None:
    people = people_of(site, SOUTH_SALES)
    manager = next(p for p in people if p.leader and p.home_dept == SOUTH_SALES)
    listed_scores = site.kpihub("scores", "--period", site.period, "--json")
    final = {r["job_number"] for r in json.loads(listed_scores.stdout) if r["status"] == "final"}
    employee = next(
        p for p in people if not p.leader and p.home_dept == SOUTH_SALES and p.job_number in final
    )
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    url = f"{site.url}/scores/{employee.job_number}/{site.period}"

    def as_person(person: Employee) -> tuple[BrowserContext, Page]:
        return signed_in_at(browser, site, person, url)

    context, page = as_person(employee)
    assert review_state(page) == "final"
    assert page.locator("form.step").count() == 0  # nobody reviews their own score
    context.close()

    context, page = as_person(manager)
    page.fill('form[data-step="approve"] input[name="comment"]', "数据核对无误")
    page.click('form[data-step="approve"] button')
    assert review_state(page) == "reviewed"
    context.close()

    context, page = as_person(employee)
    appeal = page.locator('form[data-step="appeal"]')
    appeal.locator('textarea[name="reason"]').fill("11月有一笔订单没有算进来")
    appeal.locator('select[name="kpi_code"]').select_option("contract_amount")
    appeal.locator("button").click()
    assert review_state(page) == "appealed"
    assert page.locator("tr[data-appeal]").count() == 1
    context.close()

    context, page = as_person(manager)
    answer = page.locator('form[data-step="answer"]')
    answer.locator('textarea[name="answer"]').fill("该订单签于12月，计入下月")
    answer.locator("button").click()
    assert review_state(page) == "reviewed"
    page.screenshot(path=str(ARTIFACTS / "review-appeal-answered.png"), full_page=False)
    context.close()

    context, page = as_person(employee)
    page.click('form[data-step="confirm"] button')
    assert review_state(page) == "confirmed"
    context.close()

    context, page = as_person(hr)
    page.click('form[data-step="archive"] button')
    assert review_state(page) == "archived"
    context.close()

    audit = site.kpihub(
        "audit", "--period", site.period, "--job-number", employee.job_number, "--json"
    )
    assert audit.returncode == 0, audit.stderr
    steps = [
        (e["action"], e["actor"], e["detail"].get("before"), e["detail"].get("after"))
        for e in json.loads(audit.stdout)
        if e["action"].startswith(("review.", "appeal."))
    ]
    assert steps == [
        ("review.approve", manager.job_number, "final", "reviewed"),
        ("review.appeal", employee.job_number, "reviewed", "appealed"),
        ("appeal.upheld", manager.job_number, "appealed", "reviewed"),
        ("review.confirm", employee.job_number, "reviewed", "confirmed"),
        ("review.archive", hr.job_number, "confirmed", "archived"),
    ]
    # The next person in the chain hears of each step once: the employee when the score is
    # reviewed and when the appeal is answered, the managers when it is appealed.
    received = site.delivered_notices()  # a second delivery sends nothing again
    about_the_cycle = [(users, text) for users, text in received if "绩效成绩" in text]
    leaders = [p.userid for p in people if p.leader and p.home_dept == SOUTH_SALES]
    assert [users for users, _ in about_the_cycle] == [
        [employee.userid],
        sorted(leaders) if len(leaders) > 1 else leaders,
        [employee.userid],
    ]
    assert "已审核" in about_the_cycle[0][1] and "维持原结果" in about_the_cycle[2][1]
    assert "提出了申诉" in about_the_cycle[1][1]


def test_a_review_step_out_of_scope_or_out_of_turn_changes_nothing(
    site: Site, context: BrowserContext
) -> None:
    east_leader = next(p for p in people_of(site, EAST_SALES) if p.leader)
    south = next(p for p in people_of(site, SOUTH_SALES) if not p.leader and p.home_dept == 212)
    page = context.new_page()
    sign_in(page, site, east_leader)
    page.goto(f"{site.url}/scores?period={site.period}")
    csrf = page.locator('input[name="csrf"]').first.get_attribute("value")
    outside = page.request.post(
        f"{site.url}/scores/{south.job_number}/{site.period}/approve", form={"csrf": csrf or ""}
    )
    assert outside.status == 404  # as if it did not exist
    own = page.request.post(
        f"{site.url}/scores/{east_leader.job_number}/{site.period}/confirm",
        form={"csrf": csrf or ""},
        headers={"Accept": "application/json"},
    )
    assert own.status == 409
    assert own.json()["error"].endswith("not reviewed") or "held" in own.json()["error"]
    no_token = page.request.post(
        f"{site.url}/scores/{east_leader.job_number}/{site.period}/confirm", form={}
    )
    assert no_token.status == 403
