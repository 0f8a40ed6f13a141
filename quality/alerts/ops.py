"""Alerts for HR operations: findings HR must look at, and runs that failed. They go to every
configured operations sink (the DingTalk robot, the webhook, e-mail), never to people's work
notifications, which are for the person a reminder or a review step is about.

An ERROR finding is one alert of its own: it holds scores until HR decides it. WARN findings are
one digest per month and batch, so a month of anomalies is one message, not a flood. A failed run
is one alert naming the job, the step and why. Every delivery key names what it is about (the
finding, the digest's last finding, the run), so a sensor tick repeated never alerts twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from quality.alerts import mail, robot, webhook
from quality.alerts.outbox import Alert
from schemas.tables import Finding

OPS_SINKS = (robot.SINK, webhook.SINK, mail.SINK)
FINDING_KIND, DIGEST_KIND, RUN_KIND = "finding", "findings_digest", "run_failure"


def finding_alerts(findings: Iterable[Finding], sinks: Sequence[str]) -> list[Alert]:
    """One alert per ERROR finding and one digest per month of the WARN ones, to each sink."""
    errors: list[Finding] = []
    warnings: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.severity == "ERROR":
            errors.append(finding)
        else:
            warnings[finding.period].append(finding)
    alerts: list[Alert] = []
    for sink in sinks:
        for f in errors:
            where = "/".join(p for p in (f.source, f.stream) if p) or "hub"
            alerts.append(
                Alert(
                    sink=sink,
                    delivery_key=f"finding:{f.id}",
                    kind=FINDING_KIND,
                    subject=f"ERROR finding {f.id}: {f.check_name} ({f.period})",
                    payload={
                        "text": f"{f.count} item(s) in {where}; the scores they touch are held "
                        f"until HR decides: kpihub findings show {f.id}",
                        "finding_id": f.id,
                        "period": f.period,
                        "source": f.source or "",
                        "stream": f.stream or "",
                        "job_number": f.job_number or "",
                        "kpi_code": f.kpi_code or "",
                    },
                )
            )
        for period, found in sorted(warnings.items()):
            last = max(f.id for f in found)
            checks = sorted({f.check_name for f in found})
            alerts.append(
                Alert(
                    sink=sink,
                    delivery_key=f"findings:{period}:upto{last}",
                    kind=DIGEST_KIND,
                    subject=f"{len(found)} new WARN finding(s) for {period}",
                    payload={
                        "text": f"to review: kpihub findings list --period {period} --status open",
                        "period": period,
                        "checks": checks[:20],
                        "finding_ids": sorted(f.id for f in found)[:50],
                    },
                )
            )
    return alerts


def run_failure_alerts(
    job_name: str, run_id: str, reason: str, sinks: Sequence[str]
) -> list[Alert]:
    """One alert per failed run, to each sink: the job, the run and the failure's own words."""
    return [
        Alert(
            sink=sink,
            delivery_key=f"run:{run_id}",
            kind=RUN_KIND,
            subject=f"run of {job_name} failed",
            payload={"text": reason, "job": job_name, "run_id": run_id},
        )
        for sink in sinks
    ]
