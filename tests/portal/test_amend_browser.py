"""The whole review cycle of one person in a real browser, through an amendment: the manager
reviews, the employee appeals on a component, the manager proposes a target change and answers
the appeal with it, HR approves, the next run publishes a new version whose reason is the approved
change, the employee confirms, HR archives; the audit log shows each step with its actor, and
each person in the chain hears of their turn once."""

from __future__ import annotations

import json
from decimal import Decimal

from playwright.sync_api import Browser, BrowserContext, Page

from sandbox.apps.dingtalk_login import hr_userids
from sandbox.company import Employee
from tests.portal.conftest import Site
from tests.portal.test_browser import (  # noqa: F401
    ARTIFACTS,
    browser,
    people_of,
    review_state,
    signed_in_at,
)

EAST_SALES = 211


def test_an_appeal_amended_by_a_target_change_carries_through_to_the_archive(
    site: Site,
    browser: Browser,  # noqa: F811
) -> None:
    people = people_of(site, EAST_SALES)
    manager = next(p for p in people if p.leader and p.home_dept == EAST_SALES)
    listed = json.loads(site.kpihub("scores", "--period", site.period, "--json").stdout)
    final = {r["job_number"] for r in listed if r["status"] == "final"}
    employee = [
        p for p in people if not p.leader and p.home_dept == EAST_SALES and p.job_number in final
    ][-1]
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    url = f"{site.url}/scores/{employee.job_number}/{site.period}"
    before = json.loads(
        site.kpihub("trace", employee.job_number, "--period", site.period, "--json").stdout
    )
    contract = next(c for c in before["components"] if c["kpi_code"] == "contract_amount")
    new_target = str((Decimal(contract["target"]) * Decimal("0.8")).quantize(Decimal(1)))

    def as_person(person: Employee) -> tuple[BrowserContext, Page]:
        return signed_in_at(browser, site, person, url, height=1400)

    context, page = as_person(manager)
    page.click('form[data-step="approve"] button')
    assert review_state(page) == "reviewed"
    context.close()

    context, page = as_person(employee)
    assert page.locator('form[data-step="target"]').count() == 0  # not on one's own score
    appeal = page.locator('form[data-step="appeal"]')
    appeal.locator('textarea[name="reason"]').fill("大客户年中流失，合同金额目标应下调")
    appeal.locator('select[name="kpi_code"]').select_option("contract_amount")
    appeal.locator("button").click()
    assert review_state(page) == "appealed"
    context.close()

    context, page = as_person(manager)
    proposal = page.locator('form[data-step="target"]')
    proposal.locator('select[name="kpi_code"]').select_option("contract_amount")
    proposal.locator('input[name="target"]').fill(new_target)
    proposal.locator('input[name="reason"]').fill("大客户流失，目标下调两成")
    proposal.locator('textarea[name="answer"]').fill("同意下调目标，待人事审批后重新计算")
    proposal.locator("button").click()
    assert review_state(page) == "appealed"
    change_row = page.locator("tr[data-change]")
    assert change_row.get_attribute("data-status") == "proposed"
    change_id = change_row.get_attribute("data-change")
    assert page.locator("form.decide").count() == 0  # the manager does not decide
    context.close()

    context, page = as_person(hr)
    page.fill('form[data-decide="approve"] input[name="note"]', "同意")
    page.click('form[data-decide="approve"] button')
    assert page.locator("tr[data-change]").get_attribute("data-status") == "approved"
    context.close()

    rescored = site.kpihub("score", "--period", site.period)
    assert rescored.returncode == 0, rescored.stdout + rescored.stderr
    after = json.loads(
        site.kpihub("trace", employee.job_number, "--period", site.period, "--json").stdout
    )
    assert after["score"]["version"] == before["score"]["version"] + 1
    reason = after["history"][-1]["reason"]
    assert reason.startswith(
        f"contract_amount target {contract['target']} ({contract['target_source']}) -> "
        f"{new_target} (review): target change {change_id} approved by {hr.job_number} "
        f"(proposed by {manager.job_number}): 大客户流失，目标下调两成"
    ), reason
    target_record = next(c for c in after["components"] if c["kpi_code"] == "contract_amount")[
        "target_facts"
    ][0]["records"][0]
    assert (target_record["source"], target_record["stream"], target_record["record_key"]) == (
        "review",
        "target_changes",
        change_id,
    )

    context, page = as_person(employee)
    assert review_state(page) == "reviewed"
    assert page.get_by_test_id("total").inner_text() == after["score"]["total"]
    page.click('form[data-step="confirm"] button')
    assert review_state(page) == "confirmed"
    context.close()

    context, page = as_person(hr)
    page.click('form[data-step="archive"] button')
    assert review_state(page) == "archived"
    shown = page.locator("table.audit tr[data-action]").evaluate_all(
        "rows => rows.map(r => [r.dataset.action, r.dataset.actor])"
    )
    page.screenshot(path=str(ARTIFACTS / "review-amended-archived.png"), full_page=True)
    context.close()

    audit = site.kpihub(
        "audit", "--period", site.period, "--job-number", employee.job_number, "--json"
    )
    steps = [
        (e["action"], e["actor"], e["detail"].get("before"), e["detail"].get("after"))
        for e in json.loads(audit.stdout)
        if e["action"].startswith(("review.", "appeal.", "target."))
    ]
    assert steps == [
        ("review.approve", manager.job_number, "final", "reviewed"),
        ("review.appeal", employee.job_number, "reviewed", "appealed"),
        ("target.proposed", manager.job_number, contract["target"], new_target),
        ("appeal.amended", manager.job_number, "appealed", "appealed"),
        ("target.approved", hr.job_number, "proposed", "approved"),
        ("review.reset", "kpihub", "appealed", "final"),
        ("review.amended", "kpihub", "final", "reviewed"),
        ("review.confirm", employee.job_number, "reviewed", "confirmed"),
        ("review.archive", hr.job_number, "confirmed", "archived"),
    ]
    assert [a for a, _ in shown if not a.startswith(("score.", "fact."))] == [s[0] for s in steps]

    received = site.delivered_notices()  # a second delivery sends nothing again
    leaders = sorted(p.userid for p in people if p.leader and p.home_dept == EAST_SALES)
    about = [(users, text) for users, text in received if "绩效成绩" in text]
    assert [users for users, _ in about] == [
        [employee.userid],  # reviewed
        leaders,  # appealed
        [employee.userid],  # answered: to be amended
        [employee.userid],  # amended and back for confirmation
    ]
    assert "将予以修正" in about[2][1] and "已按申诉修正" in about[3][1]
