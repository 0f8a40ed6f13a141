"""The portal's words, Chinese first and English on request (``?lang=en``, kept in a cookie)."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("zh", "en")
DEFAULT = "zh"

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("绩效成绩", "Performance scores"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "sign_out": ("退出", "Sign out"),
    "signed_out": ("您已退出。", "You have signed out."),
    "sign_in": ("用钉钉登录", "Sign in with DingTalk"),
    "role.hr": ("人事（全部人员）", "HR (everyone)"),
    "role.leader": ("部门主管（本部门及下级部门）", "Leader (own departments and below)"),
    "role.employee": ("员工（本人）", "Employee (own scores)"),
    "period": ("月份", "Month"),
    "department": ("部门", "Department"),
    "template": ("考核模板", "Template"),
    "grade": ("等级", "Grade"),
    "status": ("状态", "Status"),
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "job_number": ("工号", "Job number"),
    "name": ("姓名", "Name"),
    "total": ("总分", "Total"),
    "version": ("版本", "Version"),
    "scores_of": ("{period} 成绩", "Scores of {period}"),
    "count": ("共 {n} 人", "{n} people"),
    "no_scores": ("该月份没有可查看的成绩。", "No scores to show for this month."),
    "grade_distribution": ("等级分布", "Grade distribution"),
    "components": ("考核项", "Components"),
    "kpi": ("指标", "KPI"),
    "actual": ("实际值", "Actual"),
    "target": ("目标值", "Target"),
    "target_source": ("目标来源", "Target from"),
    "attainment": ("达成率", "Attainment"),
    "weight": ("权重", "Weight"),
    "points": ("得分", "Points"),
    "note": ("说明", "Note"),
    "adjustments": ("加减分", "Adjustments"),
    "rule": ("规则", "Rule"),
    "amount": ("分值", "Amount"),
    "subtotal": ("小计", "Subtotal"),
    "rank": ("排名", "Rank"),
    "hold_reasons": ("暂缓原因", "Held because"),
    "history": ("版本历史", "Version history"),
    "reason": ("原因", "Reason"),
    "published_at": ("发布时间", "Published"),
    "facts": ("事实数据", "Facts"),
    "records": ("源记录", "Source records"),
    "source": ("来源系统", "System"),
    "stream": ("数据流", "Stream"),
    "record_key": ("记录键", "Record key"),
    "fetched_at": ("抓取时间", "Fetched"),
    "payload_sha256": ("内容哈希", "Payload hash"),
    "value": ("数值", "Value"),
    "trend": ("历月趋势", "Trend over the months"),
    "back": ("返回列表", "Back to the list"),
    "not_found": ("没有这个成绩。", "There is no such score."),
    "sign_in_first": ("请先登录。", "Please sign in first."),
    "sign_in_failed": ("登录失败", "Sign-in failed"),
    "state_mismatch": (
        "登录请求已过期或无效，请重新登录。",
        "The sign-in request expired or is not valid; please sign in again.",
    ),
    "not_in_directory": (
        "您的钉钉账号不在已同步的通讯录中。",
        "Your DingTalk account is not in the synced directory.",
    ),
    "csrf": (
        "请求无效，请刷新页面后重试。",
        "The request is not valid; reload the page and retry.",
    ),
    "talent_pool": ("核心人才库", "Core talent pool"),
    "template_version": ("模板版本", "Template version"),
    "language": ("English", "中文"),
    "step_refused": ("无法执行该操作", "That step cannot be taken"),
    "review": ("审核", "Review"),
    "review_state": ("审核状态", "Review state"),
    "confirm_by": ("确认截止", "Confirm by"),
    "comment": ("意见", "Comment"),
    "step.approve": ("审核通过", "Approve"),
    "step.return": ("退回人事", "Return to HR"),
    "step.confirm": ("签字确认", "Confirm"),
    "step.appeal": ("提出申诉", "Appeal"),
    "step.answer": ("答复申诉", "Answer the appeal"),
    "step.archive": ("归档", "Archive"),
    "appeals": ("申诉", "Appeals"),
    "appeal_reason": ("申诉理由", "Why you disagree"),
    "appeal_component": ("针对的考核项（可选）", "Component (optional)"),
    "appeal_record": ("针对的源记录键（可选）", "Source record key (optional)"),
    "outcome": ("处理结果", "Outcome"),
    "upheld": ("维持原结果", "upheld"),
    "amended": ("修正", "amended"),
    "open": ("待处理", "open"),
    "answer": ("答复", "Answer"),
    "filed_by": ("申诉人", "Filed by"),
    "answered_by": ("答复人", "Answered by"),
    "amend_hint": (
        "需修正成绩时，请在下方提出目标调整或手动加减分并填写答复。",
        "To amend the score, propose a target change or an adjustment below with your answer.",
    ),
    "step.target": ("提出目标调整", "Propose a target change"),
    "step.adjust": ("手动加减分", "Adjust by hand"),
    "step.approve_change": ("批准", "Approve"),
    "step.reject_change": ("驳回", "Reject"),
    "new_target": ("新目标", "New target"),
    "adjust_points": ("分数（负数为扣分）", "Points (negative: a deduction)"),
    "change_reason": ("调整原因", "Reason"),
    "answer_amended": (
        "同时答复申诉：将予以修正（可选）",
        "Answer the appeal as amended (optional)",
    ),
    "changes": ("目标调整与加减分", "Target changes and adjustments"),
    "kind.target": ("目标调整", "target change"),
    "kind.adjustment": ("手动加减分", "manual adjustment"),
    "change.proposed": ("待人事审批", "waiting for HR"),
    "change.approved": ("已批准", "approved"),
    "change.rejected": ("已驳回", "rejected"),
    "from": ("原值", "Before"),
    "to": ("新值", "After"),
    "proposed_by": ("提出人", "Proposed by"),
    "decided_by": ("审批人", "Decided by"),
    "decision_note": ("审批意见", "Note"),
    "audit_history": ("审计记录", "Audit history"),
    "at": ("时间", "When"),
    "action": ("操作", "Action"),
    "actor": ("操作人", "Who"),
    "action.score.published": ("发布成绩", "score published"),
    "action.review.approve": ("审核通过", "reviewed"),
    "action.review.return": ("退回人事", "returned to HR"),
    "action.review.reopen": ("重新提交审核", "reopened"),
    "action.review.confirm": ("签字确认", "confirmed"),
    "action.review.appeal": ("提出申诉", "appealed"),
    "action.review.archive": ("归档", "archived"),
    "action.review.reset": ("新版本，重新审核", "new version: back to final"),
    "action.review.amended": ("修正后待确认", "amended: back for confirmation"),
    "action.appeal.upheld": ("申诉答复：维持", "appeal upheld"),
    "action.appeal.amended": ("申诉答复：修正", "appeal amended"),
    "action.appeal.reopened": ("申诉重新打开", "appeal reopened"),
    "action.target.proposed": ("提出目标调整", "target change proposed"),
    "action.target.approved": ("批准目标调整", "target change approved"),
    "action.target.rejected": ("驳回目标调整", "target change rejected"),
    "action.adjustment.proposed": ("提出手动加减分", "adjustment added"),
    "action.adjustment.approved": ("批准手动加减分", "adjustment approved"),
    "action.adjustment.rejected": ("驳回手动加减分", "adjustment rejected"),
    "action.fact.corrected": ("数据更正", "fact corrected"),
}

STATUS_WORDS: dict[str, tuple[str, str]] = {
    "final": ("已发布", "final"),
    "held": ("暂缓", "held"),
    "reviewed": ("已审核", "reviewed"),
    "returned": ("已退回人事", "returned to HR"),
    "confirmed": ("已确认", "confirmed"),
    "appealed": ("申诉中", "appealed"),
    "archived": ("已归档", "archived"),
}


def translator(lang: str) -> Callable[..., str]:
    index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

    def t(key: str, **values: object) -> str:
        words = MESSAGES.get(key) or STATUS_WORDS.get(key)
        text = words[index] if words else key
        return text.format(**values) if values else text

    return t


def choose(query_lang: str | None, cookie_lang: str | None) -> str:
    for lang in (query_lang, cookie_lang):
        if lang in LANGUAGES:
            return lang
    return DEFAULT
