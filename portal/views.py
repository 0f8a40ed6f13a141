"""The portal's pages and their JSON twins (``Accept: application/json``).

Every handler that shows a score first works out the signed-in person's scope on the server.
A score outside it gets the very answer a score that does not exist gets, so the portal never
tells anyone whether a colleague has a score at all.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipelines import amendments, review
from pipelines.lineage import TraceNotFound, money_text, trace
from pipelines.review import Actor, ReviewError
from pipelines.score_list import current_scores, matches, scored_periods
from portal import audit, i18n
from portal.app import Portal
from portal.charts import HEIGHT, WIDTH, grade_bars, trend_points
from portal.scope import Scope, Viewer, scope_of
from portal.signin import SignInError
from schemas.tables import Score

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LANG_COOKIE = "kpihub_lang"
SORTS: dict[str, Callable[[Score], Any]] = {
    "job_number": lambda s: s.job_number,
    "name": lambda s: s.employee_name,
    "department": lambda s: s.department,
    "template": lambda s: s.template,
    "total": lambda s: (s.total is None, s.total or Decimal(0)),
    "grade": lambda s: (s.grade is None, s.grade or ""),
    "status": lambda s: s.status,
}


def portal_of(request: Request) -> Portal:
    return request.app.state.portal


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def language(request: Request) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    lang = language(request)
    viewer = viewer_of(request)
    portal = portal_of(request)

    def kpi_name(code: str | None) -> str:
        if not code or code not in portal.catalog:
            return code or ""
        kpi = portal.catalog.get(code)
        return kpi.name_zh if lang == "zh" else kpi.name_en

    response = portal.templates.TemplateResponse(
        request,
        template,
        {
            "t": i18n.translator(lang),
            "lang": lang,
            "viewer": viewer,
            "csrf": request.session.get("csrf", ""),
            "chart_width": WIDTH,
            "chart_height": HEIGHT,
            "kpi_name": kpi_name,
            # Relative, so the page itself never repeats the address it was asked at.
            "other_language_url": "?"
            + urlencode({**request.query_params, "lang": "en" if lang == "zh" else "zh"}),
            **context,
        },
        status_code=status_code,
    )
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


def problem(request: Request, status_code: int, key: str, detail: str | None = None) -> Response:
    """An error page, or ``{"error": ...}`` for a JSON client, in the reader's language."""
    t = i18n.translator(language(request))
    if wants_json(request):
        return JSONResponse({"error": t(key)}, status_code=status_code)
    return render(
        request, "problem.html", {"message": t(key), "detail": detail}, status_code=status_code
    )


def not_found(request: Request) -> Response:
    """The one answer for a score that does not exist and a score outside the reader's scope."""
    return problem(request, 404, "not_found")


def viewer_of(request: Request) -> Viewer | None:
    data = request.session.get("viewer")
    if not isinstance(data, dict):
        return None
    try:
        return Viewer(
            userid=str(data["userid"]),
            job_number=str(data["job_number"]),
            name=str(data["name"]),
            roles=tuple(str(r) for r in data.get("roles", [])),
            leader_depts=None
            if data.get("leader_depts") is None
            else tuple(int(d) for d in data["leader_depts"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def scope_for(portal: Portal, viewer: Viewer) -> Scope:
    settings = portal.settings
    return scope_of(viewer, portal.directory.get(), settings.hr_job_numbers, settings.hr_roles)


def sign_in_first(request: Request) -> Response:
    if wants_json(request):
        return problem(request, 401, "sign_in_first")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path of this site: an open redirect would hand a signed-in session to anyone."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/scores"


# --- sign-in --------------------------------------------------------------------------------


async def home(request: Request) -> Response:
    return RedirectResponse("/scores" if viewer_of(request) else "/login", status_code=303)


async def login(request: Request) -> Response:
    portal = portal_of(request)
    state = secrets.token_urlsafe(24)
    request.session["oauth_state"] = state
    request.session["next"] = safe_next(request.query_params.get("next"))
    redirect_uri = str(request.url_for("callback"))
    return RedirectResponse(portal.signin.authorize_url(redirect_uri, state), status_code=303)


async def callback(request: Request) -> Response:
    portal = portal_of(request)
    expected = request.session.pop("oauth_state", None)
    state = request.query_params.get("state")
    code = request.query_params.get("authCode") or request.query_params.get("code")
    if not expected or not state or not secrets.compare_digest(expected, state) or not code:
        return problem(request, 400, "state_mismatch")
    try:
        user = await run_in_threadpool(portal.signin.user_for, code)
    except SignInError as exc:
        return problem(request, 401, "sign_in_failed", str(exc))
    member = (await run_in_threadpool(portal.directory.get)).members.get(user.userid)
    if member is None:
        return problem(request, 403, "not_in_directory")
    viewer = Viewer(member.userid, member.job_number, member.name, user.roles, user.leader_depts)
    target = safe_next(request.session.get("next"))
    request.session.clear()
    request.session["viewer"] = {
        "userid": viewer.userid,
        "job_number": viewer.job_number,
        "name": viewer.name,
        "roles": list(viewer.roles),
        "leader_depts": None if viewer.leader_depts is None else list(viewer.leader_depts),
    }
    request.session["csrf"] = secrets.token_urlsafe(24)
    scope = await run_in_threadpool(scope_for, portal, viewer)
    await run_in_threadpool(
        audit.record, portal.stores.hub, viewer, audit.SIGN_IN, viewer.job_number, role=scope.role
    )
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    form = await request.form()
    sent = str(form.get("csrf") or "")
    expected = str(request.session.get("csrf") or "")
    if not expected or not secrets.compare_digest(expected, sent):
        return problem(request, 403, "csrf")
    request.session.clear()
    return render(request, "signed_out.html", {})


# --- scores ---------------------------------------------------------------------------------


def _list_context(request: Request, portal: Portal, viewer: Viewer) -> dict[str, Any] | None:
    scope = scope_for(portal, viewer)
    periods = scored_periods(portal.stores)
    query = request.query_params
    period = query.get("period") or (periods[0] if periods else None)
    if period is None:
        return {"scope": scope, "period": None, "periods": [], "scores": [], "filters": {}}
    if not PERIOD.match(period):
        return None
    filters = {key: query.get(key) or None for key in ("department", "template", "grade", "status")}
    visible = [
        s for s in current_scores(portal.stores, period) if scope.allows(s.job_number, s.department)
    ]
    options = {
        "department": sorted({s.department for s in visible}),
        "template": sorted({s.template for s in visible}),
        "grade": sorted({s.grade for s in visible if s.grade}),
        "status": sorted({s.status for s in visible}),
    }
    scores = [s for s in visible if matches(s, **filters)]
    sort = query.get("sort") or "job_number"
    key = SORTS.get(sort.lstrip("-"), SORTS["job_number"])
    scores.sort(key=key, reverse=sort.startswith("-"))
    return {
        "scope": scope,
        "period": period,
        "periods": periods,
        "scores": scores,
        "filters": filters,
        "options": options,
        "sort": sort,
        "bars": grade_bars([s.grade for s in scores]),
    }


def list_row(s: Score) -> dict[str, Any]:
    return {
        "job_number": s.job_number,
        "name": s.employee_name,
        "department": s.department,
        "template": s.template,
        "total": money_text(s.total),
        "grade": s.grade,
        "status": s.status,
        "version": s.version,
    }


async def score_list(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return sign_in_first(request)
    portal = portal_of(request)
    context = await run_in_threadpool(_list_context, request, portal, viewer)
    if context is None:
        return not_found(request)
    if wants_json(request):
        return JSONResponse([list_row(s) for s in context["scores"]])
    return render(request, "scores.html", context)


def _scope_over(portal: Portal, viewer: Viewer, job_number: str, period: str) -> Scope | None:
    """The viewer's scope when the score of ``job_number`` for ``period`` exists and lies in it;
    None otherwise, and the caller answers as for a score that does not exist."""
    scope = scope_for(portal, viewer)
    with Session(portal.stores.hr) as hr:
        department = hr.scalar(
            select(Score.department)
            .where(Score.job_number == job_number, Score.period == period)
            .order_by(Score.version.desc())
            .limit(1)
        )
    if department is None or not scope.allows(job_number, department):
        return None
    return scope


def _score_of(
    portal: Portal, viewer: Viewer, job_number: str, period: str, version: int | None
) -> dict[str, Any] | None:
    if _scope_over(portal, viewer, job_number, period) is None:
        return None
    try:
        data = trace(portal.stores, job_number, period, version, portal.pool_rules)
    except TraceNotFound:
        return None
    return data


async def score_page(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return sign_in_first(request)
    portal = portal_of(request)
    job_number = request.path_params["job_number"]
    period = request.path_params["period"]
    version_text = request.query_params.get("version")
    if not PERIOD.match(period) or (version_text is not None and not version_text.isdigit()):
        return not_found(request)
    version = int(version_text) if version_text is not None else None
    data = await run_in_threadpool(_score_of, portal, viewer, job_number, period, version)
    if data is None:
        return not_found(request)
    form = "json" if wants_json(request) else "html"
    await run_in_threadpool(
        audit.score_viewed,
        portal.stores.hub,
        viewer,
        job_number,
        period,
        int(data["score"]["version"]),
        form,
    )
    if form == "json":
        return JSONResponse(data)
    scope = await run_in_threadpool(scope_for, portal, viewer)
    changes, history = await run_in_threadpool(_changes_and_history, portal, job_number, period)
    steps = steps_for(viewer, scope.role, data)
    return render(
        request,
        "score.html",
        {
            "data": data,
            "steps": steps,
            "role": scope.role,
            "changes": changes,
            "history": history,
            "decides": scope.role == "hr",
        },
    )


HISTORY_LEFT_OUT = ("score.view", "portal.sign_in")


def _changes_and_history(
    portal: Portal, job_number: str, period: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The target changes and adjustments asked for on this score, and its own audit history:
    every step, change and publication, without the views."""
    changes = amendments.list_changes(portal.stores, period=period, job_number=job_number)
    history = [
        e
        for e in review.audit_entries(portal.stores, period, job_number)
        if e["action"] not in HISTORY_LEFT_OUT and e["subject"].split("/")[0] == job_number
    ]
    return changes, history


def steps_for(viewer: Viewer, role: str, data: dict[str, Any]) -> list[str]:
    """The review steps the signed-in person may take on this score now, as buttons: a manager
    reviews others' scores, the employee confirms or appeals their own, HR archives."""
    state = data["review"]["state"]
    own = data["employee"]["job_number"] == viewer.job_number
    manages = role in ("hr", "leader") and not own
    steps: list[str] = []
    if state == review.FINAL and manages:
        steps += ["approve", "return"]
    if state == review.REVIEWED and own:
        steps += ["confirm", "appeal"]
    if (
        state == review.APPEALED
        and manages
        and any(a["status"] == review.OPEN for a in data["review"]["appeals"])
    ):
        steps.append("answer")
    if state == review.CONFIRMED and role == "hr":
        steps.append("archive")
    if manages and state != review.ARCHIVED:
        steps.append("target")
        policy = amendments.policy_of(data["score"]["template"])
        if role == "hr" or policy.by_managers:
            steps.append("adjust")
    return steps


def _trend(portal: Portal, viewer: Viewer, job_number: str) -> list[Score] | None:
    scope = scope_for(portal, viewer)
    with Session(portal.stores.hr, expire_on_commit=False) as hr:
        scores = list(
            hr.scalars(
                select(Score)
                .where(Score.job_number == job_number, Score.is_current.is_(True))
                .order_by(Score.period)
            )
        )
    if not scores or not scope.allows(job_number, scores[-1].department):
        return None
    return scores


async def person_page(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer is None:
        return sign_in_first(request)
    portal = portal_of(request)
    job_number = request.path_params["job_number"]
    scores = await run_in_threadpool(_trend, portal, viewer, job_number)
    if scores is None:
        return not_found(request)
    rows = [
        {
            "period": s.period,
            "total": money_text(s.total),
            "grade": s.grade,
            "status": s.status,
            "version": s.version,
        }
        for s in scores
    ]
    if wants_json(request):
        return JSONResponse(rows)
    points = trend_points([(s.period, s.total) for s in scores])
    latest = scores[-1]
    return render(
        request,
        "person.html",
        {"rows": rows, "points": points, "person": latest, "job_number": job_number},
    )


# --- the review cycle -----------------------------------------------------------------------


async def _checked_form(request: Request) -> tuple[Viewer, dict[str, str]] | Response:
    """The signed-in person and the form they sent, once its CSRF token matches the session's."""
    viewer = viewer_of(request)
    if viewer is None:
        return sign_in_first(request)
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    expected = str(request.session.get("csrf") or "")
    if not expected or not secrets.compare_digest(expected, fields.get("csrf", "")):
        return problem(request, 403, "csrf")
    return viewer, fields


def _act(
    portal: Portal, viewer: Viewer, job_number: str, period: str, action: str, form: dict[str, str]
) -> str | None:
    """Take one review step as the signed-in person; None when the score is not theirs to see.
    Raises ReviewError when the step is not theirs to take or not its turn."""
    scope = _scope_over(portal, viewer, job_number, period)
    if scope is None:
        return None
    actor = Actor(viewer.job_number, scope.role)
    days = portal.settings.confirm_working_days
    stores = portal.stores
    comment = form.get("comment", "").strip() or None
    if action == "approve":
        return review.approve(stores, actor, job_number, period, comment, days)
    if action == "return":
        return review.send_back(stores, actor, job_number, period, comment or "")
    if action == "confirm":
        return review.confirm(stores, actor, job_number, period)
    if action == "appeal":
        review.file_appeal(
            stores, actor, job_number, period, form.get("reason", ""),
            form.get("kpi_code") or None, form.get("record_key") or None,
        )  # fmt: skip
        return review.APPEALED
    if action == "answer":
        return review.answer_appeal(
            stores, actor, job_number, period, form.get("outcome", ""), form.get("answer", ""),
            days,
        )  # fmt: skip
    if action == "archive":
        return review.archive(stores, actor, job_number, period)
    answer = form.get("answer", "").strip() or None
    if action == "target":
        amendments.propose_target(
            stores, actor, job_number, period, form.get("kpi_code", ""), form.get("target", ""),
            form.get("reason", ""), answer,
        )  # fmt: skip
        return review.review_view(stores, job_number, period)["state"]
    if action == "adjust":
        amendments.add_adjustment(
            stores, actor, job_number, period, form.get("points", ""), form.get("reason", ""),
            answer,
        )  # fmt: skip
        return review.review_view(stores, job_number, period)["state"]
    if action in ("approve_change", "reject_change"):
        change_id = form.get("change_id", "")
        if not change_id.isdigit() or not _change_on(stores, int(change_id), job_number, period):
            return None
        amendments.decide(
            stores, actor, int(change_id), action == "approve_change", form.get("note") or None
        )
        return review.review_view(stores, job_number, period)["state"]
    raise ReviewError(f"there is no review step {action!r}")


def _change_on(stores: Any, change_id: int, job_number: str, period: str) -> bool:
    """Whether the change belongs to this score: a change is decided on its own score's page,
    whose scope was checked, never through another's."""
    return any(
        c["id"] == change_id for c in amendments.list_changes(stores, period, None, job_number)
    )


async def review_step(request: Request) -> Response:
    checked = await _checked_form(request)
    if isinstance(checked, Response):
        return checked
    viewer, form = checked
    portal = portal_of(request)
    job_number = request.path_params["job_number"]
    period = request.path_params["period"]
    action = request.path_params["action"]
    if not PERIOD.match(period):
        return not_found(request)
    try:
        state = await run_in_threadpool(_act, portal, viewer, job_number, period, action, form)
    except ReviewError as exc:
        if wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=409)
        return problem(request, 409, "step_refused", str(exc))
    if state is None:
        return not_found(request)
    if wants_json(request):
        return JSONResponse({"job_number": job_number, "period": period, "state": state})
    return RedirectResponse(f"/scores/{job_number}/{period}", status_code=303)
