"""The portal over HTTP as scripts use it: every score of a month walked as every leader of the
demo company (nothing outside a leader's departments shown, nothing inside missing), the JSON
twins, the audit of views, and the session cookie's rules."""

from __future__ import annotations

import base64
import json
import re
import time

import httpx
from itsdangerous import TimestampSigner
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.app import KEY_FILE, SESSION_COOKIE
from sandbox.apps.dingtalk_login import hr_userids
from sandbox.company import Employee
from schemas.tables import AuditEntry, Score, ScoreChange
from tests.portal.conftest import EMPLOYEES, Site

JSON = {"Accept": "application/json"}


def _expected_scope(site: Site, leader: Employee) -> set[str]:
    """The department the leader heads (their first) and those below it, from the sandbox
    company itself; a leader may also be a plain member of another department."""
    children: dict[int, list[int]] = {}
    for dept in site.world.departments:
        children.setdefault(dept.parent_id, []).append(dept.dept_id)
    below: set[int] = set()
    pending = [leader.home_dept]
    while pending:
        dept_id = pending.pop()
        if dept_id not in below:
            below.add(dept_id)
            pending.extend(children.get(dept_id, []))
    return {p.job_number for p in site.world.employees if set(p.dept_ids) & below} | {
        leader.job_number
    }


def _month_scores(site: Site) -> dict[str, Score]:
    stores = site.stores()
    with Session(stores.hr) as hr:
        scores = {
            s.job_number: s
            for s in hr.scalars(
                select(Score).where(Score.period == site.period, Score.is_current.is_(True))
            )
        }
    stores.dispose()
    return scores


def test_every_leader_sees_exactly_their_departments_in_list_and_score_pages(site: Site) -> None:
    scores = _month_scores(site)
    leaders = [p for p in site.world.employees if p.leader]
    assert len(leaders) >= 4 and len(scores) >= EMPLOYEES * 0.8  # everyone with a template
    for leader in leaders:
        # The head of 行政部 holds DingTalk's HR role in the sandbox company: they see everyone.
        hr = leader.userid in hr_userids(site.world)
        expected = set(scores) if hr else _expected_scope(site, leader) & set(scores)
        with site.signed_in(leader.userid) as client:
            listed = client.get("/scores", params={"period": site.period}, headers=JSON)
            assert listed.status_code == 200
            assert {row["job_number"] for row in listed.json()} == expected, leader.job_number
            for job_number in scores:
                page = client.get(f"/scores/{job_number}/{site.period}", headers=JSON)
                if job_number in expected:
                    assert page.status_code == 200, (leader.job_number, job_number)
                    assert page.json()["employee"]["job_number"] == job_number
                else:
                    assert page.status_code == 404, (leader.job_number, job_number)
                    assert page.json() == {"error": "没有这个成绩。"}


def test_a_score_outside_the_scope_answers_like_a_score_that_does_not_exist(site: Site) -> None:
    employee = next(p for p in site.world.employees if not p.leader and p.role == "sales")
    other = next(p for p in site.world.employees if p.role == "production")
    with site.signed_in(employee.userid) as client:
        outside = client.get(f"/scores/{other.job_number}/{site.period}")
        missing = client.get(f"/scores/E99999/{site.period}")
        assert outside.status_code == missing.status_code == 404
        assert outside.text == missing.text
        own = client.get("/scores", params={"period": site.period}, headers=JSON).json()
        assert [row["job_number"] for row in own] == [employee.job_number]


def test_the_json_of_a_score_is_the_trace_of_the_cli_and_each_view_is_audited(site: Site) -> None:
    hr = next(p for p in site.world.employees if p.dept_ids[0] == 250 and p.leader)
    target = next(p for p in site.world.employees if p.role == "sales" and not p.leader)
    cli = site.kpihub("trace", target.job_number, "--period", site.period, "--json")
    assert cli.returncode == 0, cli.stderr
    with site.signed_in(hr.userid) as client:
        page = client.get(f"/scores/{target.job_number}/{site.period}", headers=JSON)
    assert page.status_code == 200
    assert page.json() == json.loads(cli.stdout)
    stores = site.stores()
    with Session(stores.hub) as hub:
        views = list(
            hub.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "score.view",
                    AuditEntry.subject.like(f"{target.job_number}/{site.period}/%"),
                )
            )
        )
    stores.dispose()
    assert [(v.detail["userid"], v.detail["format"]) for v in views][-1] == (hr.userid, "json")


def _session_cookie(site: Site, session: dict[str, object], signed_at: float) -> str:
    """A session cookie as the portal signs it, signed at ``signed_at`` (epoch seconds)."""

    class At(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(signed_at)

    key = (site.home / KEY_FILE).read_text().strip()
    data = base64.b64encode(json.dumps(session).encode())
    return At(key).sign(data).decode()


def test_a_session_expires_after_its_minutes(site: Site) -> None:
    person = next(p for p in site.world.employees if p.role == "sales" and not p.leader)
    session = {
        "viewer": {
            "userid": person.userid,
            "job_number": person.job_number,
            "name": person.name,
            "roles": [],
            "leader_depts": [],
        },
        "csrf": "x",
    }
    lifetime = 480 * 60  # KPIHUB_PORTAL_SESSION_MINUTES by default
    for age, status in ((60, 200), (lifetime + 60, 401)):
        cookie = _session_cookie(site, session, time.time() - age)
        answer = httpx.get(
            f"{site.url}/scores",
            headers={**JSON, "Cookie": f"{SESSION_COOKIE}={cookie}"},
            timeout=30,
        )
        assert answer.status_code == status, age


def test_the_session_cookie_is_httponly_and_samesite_lax(site: Site) -> None:
    person = next(p for p in site.world.employees if p.role == "sales" and not p.leader)
    with httpx.Client(base_url=site.url, timeout=30) as client:
        done = client.get(site.sign_in_url(client, person.userid))
    cookie = done.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=28800"} <= attributes
    assert "secure" not in attributes  # served over plain HTTP here


def test_a_callback_without_the_state_it_was_given_is_refused(site: Site) -> None:
    person = next(p for p in site.world.employees if p.role == "sales" and not p.leader)
    with httpx.Client(base_url=site.url, timeout=30) as client:
        back = site.sign_in_url(client, person.userid)
        forged = back.replace("state=", "state=forged")
        refused = client.get(forged, headers=JSON)
        assert refused.status_code == 400
        assert refused.json() == {"error": "登录请求已过期或无效，请重新登录。"}
        assert client.get("/scores", headers=JSON).status_code == 401


def test_the_list_filters_as_the_cli_does(site: Site) -> None:
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    cli = site.kpihub("scores", "--period", site.period, "--template", "sales", "--json")
    assert cli.returncode == 0, cli.stderr
    with site.signed_in(hr.userid) as client:
        listed = client.get(
            "/scores", params={"period": site.period, "template": "sales"}, headers=JSON
        )
    assert [r["job_number"] for r in listed.json()] == [
        r["job_number"] for r in json.loads(cli.stdout)
    ]
    assert {r["template"] for r in listed.json()} == {"sales"}


def _csrf(client: httpx.Client, site: Site) -> str:
    page = client.get("/scores", params={"period": site.period}).text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _changes(site: Site) -> list[tuple[str, str, str]]:
    stores = site.stores()
    with Session(stores.hr) as hr:
        rows = [(c.job_number, c.kind, c.status) for c in hr.scalars(select(ScoreChange))]
    stores.dispose()
    return rows


def test_changes_are_refused_outside_the_scope_out_of_role_and_without_the_token(
    site: Site,
) -> None:
    """A target change or adjustment asked for on a score outside one's scope answers like a
    score that does not exist; out of role it is refused with the reason; without the session's
    token it is forbidden; a change is decided only on its own score's page. Nothing is kept of
    any refused request."""
    east = [p for p in site.world.employees if 211 in p.dept_ids]
    leader = next(p for p in east if p.leader and p.home_dept == 211)
    member = next(p for p in east if not p.leader)
    south = next(p for p in site.world.employees if 212 in p.dept_ids and not p.leader)
    hr = next(p for p in site.world.employees if p.userid in hr_userids(site.world))
    target = {"kpi_code": "contract_amount", "target": "100000", "reason": "调整"}
    with site.signed_in(leader.userid) as client:
        token = _csrf(client, site)
        outside = client.post(
            f"/scores/{south.job_number}/{site.period}/target", data={"csrf": token, **target}
        )
        assert outside.status_code == 404
        no_token = client.post(f"/scores/{member.job_number}/{site.period}/target", data=target)
        assert no_token.status_code == 403
        bad = client.post(
            f"/scores/{member.job_number}/{site.period}/target",
            data={"csrf": token, **target, "target": "1.234"},
            headers=JSON,
        )
        assert (bad.status_code, bad.json()) == (
            409,
            {"error": "a target 1.234 has more than 2 decimal(s)"},
        )
        assert _changes(site) == []
        made = client.post(
            f"/scores/{member.job_number}/{site.period}/target",
            data={"csrf": token, **target},
            headers=JSON,
        )
        assert made.status_code == 200, made.text
        decide = client.post(
            f"/scores/{member.job_number}/{site.period}/approve_change",
            data={"csrf": token, "change_id": "1"},
            headers=JSON,
        )
        assert (decide.status_code, decide.json()) == (
            409,
            {"error": "only HR may approve or reject a change"},
        )
    with site.signed_in(member.userid) as client:
        own = client.post(
            f"/scores/{member.job_number}/{site.period}/adjust",
            data={"csrf": _csrf(client, site), "points": "5", "reason": "我自己"},
            headers=JSON,
        )
        assert (own.status_code, own.json()) == (
            409,
            {"error": "only a manager or HR may adjust a score"},
        )
    with site.signed_in(hr.userid) as client:
        elsewhere = client.post(
            f"/scores/{south.job_number}/{site.period}/approve_change",
            data={"csrf": _csrf(client, site), "change_id": "1"},
            headers=JSON,
        )
        assert elsewhere.status_code == 404  # change 1 is not on that score
    assert _changes(site) == [(member.job_number, "target", "proposed")]
