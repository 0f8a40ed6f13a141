"""The contract checks. Each takes a run and a stream and says pass, fail or skip with the
evidence, so a failing connector learns exactly which record or state was wrong."""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable

from pydantic import ValidationError

from connectors.sdk.calendar import REVISIT
from connectors.sdk.errors import AuthError, ConnectorError
from connectors.sdk.stream import Stream
from connectors.testing.reading import ReadOutcome, describe_error
from connectors.testing.results import CONNECTOR_WIDE, CheckResult, failed, passed, skipped
from connectors.testing.run import ContractRun
from connectors.testing.timing import Restart, local_day, record_time, restart_point, time_field

SAMPLES = 3

Check = Callable[[ContractRun, Stream | None], CheckResult]


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:SAMPLES])
    return shown + (f" and {len(items) - SAMPLES} more" if len(items) > SAMPLES else "")


def check_connect(run: ContractRun, stream: Stream | None) -> CheckResult:
    error = run.probe_good()
    if error is None:
        return passed(run.name, "connect", CONNECTOR_WIDE, "the configured credentials work")
    return failed(run.name, "connect", CONNECTOR_WIDE, describe_error(error, run.secrets()))


def check_bad_credentials(run: ContractRun, stream: Stream | None) -> CheckResult:
    name = "bad_credentials"
    spoiled, error = run.probe_bad()
    if spoiled is None:
        reason = "the source has no credential and no local endpoint to spoil"
        return skipped(run.name, name, CONNECTOR_WIDE, reason)
    if error is None:
        return failed(run.name, name, CONNECTOR_WIDE, f"{spoiled.what} was accepted")
    secrets = run.secrets()
    told = describe_error(error, secrets)
    logged = "".join(traceback.format_exception(error))
    if any(secret in logged or secret in repr(error) for secret in secrets):
        return failed(run.name, name, CONNECTOR_WIDE, f"the error repeats a secret: {told}")
    expected = AuthError if spoiled.credential else ConnectorError
    if not isinstance(error, expected):
        detail = f"with {spoiled.what}, expected {expected.__name__}, got {told}"
        return failed(run.name, name, CONNECTOR_WIDE, detail)
    if run.name not in str(error):
        return failed(run.name, name, CONNECTOR_WIDE, f"the error does not name the source: {told}")
    return passed(run.name, name, CONNECTOR_WIDE, f"with {spoiled.what}: {told}")


def _unreadable(run: ContractRun, check: str, stream: Stream, outcome: ReadOutcome) -> CheckResult:
    assert outcome.error is not None
    detail = f"the read failed: {describe_error(outcome.error, run.secrets())}"
    return failed(run.name, check, stream.name, detail)


def check_read(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    first = run.full(stream)
    if first.error is not None:
        return _unreadable(run, "read", stream, first)
    if not first.final_seen:
        return failed(run.name, "read", stream.name, "no page was marked final")
    if not first.records:
        return failed(run.name, "read", stream.name, "the twin served no records for it")
    misnamed = [
        r.record_key for r in first.records if (r.source, r.stream) != (run.name, stream.name)
    ]
    if misnamed:
        detail = f"records not enveloped as {run.name}/{stream.name}: {_some(misnamed)}"
        return failed(run.name, "read", stream.name, detail)
    detail = f"{len(first.records)} records in {first.pages} pages"
    if first.rejected:
        reasons = Counter(r.reason for r in first.rejected)
        detail += "; set aside: " + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
    return passed(run.name, "read", stream.name, detail)


def check_schema(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    first = run.full(stream)
    if first.error is not None:
        return _unreadable(run, "schema", stream, first)
    schema = stream.record_schema
    if schema is None:
        return failed(run.name, "schema", stream.name, "the stream declares no record_schema")
    problems = [
        f"{r.payload!r:.80} ({r.detail})" for r in first.rejected if r.reason == "schema_mismatch"
    ]
    for record in first.records:
        try:
            schema.model_validate(record.payload)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"])
            problems.append(f"{record.record_key} ({where}: {error['msg']})")
    if problems:
        detail = f"{len(problems)} records do not match {schema.__name__}: {_some(problems)}"
        return failed(run.name, "schema", stream.name, detail)
    detail = f"{len(first.records)} records match {schema.__name__}"
    return passed(run.name, "schema", stream.name, detail)


def check_keys(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    first = run.full(stream)
    if first.error is not None:
        return _unreadable(run, "keys", stream, first)
    empty = [f"{r.payload!r:.60}" for r in first.records if not r.record_key]
    if empty:
        return failed(run.name, "keys", stream.name, f"records without a key: {_some(empty)}")
    counts = Counter(r.record_key for r in first.records)
    repeated = [f"{key} x{n}" for key, n in counts.items() if n > 1]
    if repeated:
        detail = f"{len(repeated)} keys read more than once in one read: {_some(repeated)}"
        return failed(run.name, "keys", stream.name, detail)
    detail = f"{len(counts)} distinct, non-empty {stream.record_key!r} keys"
    return passed(run.name, "keys", stream.name, detail)


def check_repeatable(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    first, second = run.full(stream, 1), run.full(stream, 2)
    for outcome in (first, second):
        if outcome.error is not None:
            return _unreadable(run, "repeatable", stream, outcome)
    a, b = first.hashes(), second.hashes()
    only_first = sorted(set(a) - set(b))
    only_second = sorted(set(b) - set(a))
    changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    if only_first or only_second or changed:
        parts = []
        if only_first:
            parts.append(f"only in the first read: {_some(only_first)}")
        if only_second:
            parts.append(f"only in the second read: {_some(only_second)}")
        if changed:
            parts.append(f"payload differs: {_some(changed)}")
        return failed(run.name, "repeatable", stream.name, "; ".join(parts))
    return passed(run.name, "repeatable", stream.name, f"{len(a)} keys, same payload hashes")


def _state_or_skip(run: ContractRun, check: str, stream: Stream) -> CheckResult | Restart:
    first = run.full(stream)
    if first.error is not None:
        return _unreadable(run, check, stream, first)
    state = {k: v for k, v in (first.state or {}).items() if v not in (None, "")}
    if not state:
        if stream.incremental:
            detail = f"declares cursor {stream.cursor_field!r} but committed no watermark"
            return failed(run.name, check, stream.name, detail)
        return skipped(run.name, check, stream.name, "full-refresh stream: it commits no state")
    return restart_point(stream, state)


def check_incremental(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    restart = _state_or_skip(run, "incremental", stream)
    if isinstance(restart, CheckResult):
        return restart
    first, again = run.full(stream), run.from_state(stream)
    if again.error is not None:
        return _unreadable(run, "incremental", stream, again)
    if restart.kind == "ledger":
        if again.records:
            keys = [r.record_key for r in again.records]
            detail = f"nothing changed, yet the read from its state returned {_some(keys)}"
            return failed(run.name, "incremental", stream.name, detail)
        detail = "nothing changed and the read from its state returned nothing"
        return passed(run.name, "incremental", stream.name, detail)
    both = first.records + again.records
    untimed = [r.record_key for r in both if record_time(stream, r) is None]
    if untimed:
        field = time_field(stream) or "source_updated_at"
        detail = f"records without a time in {field!r}: {_some(untimed)}"
        return failed(run.name, "incremental", stream.name, detail)

    def due(moment: object) -> bool:
        assert moment is not None
        if restart.by_day:
            return local_day(moment) >= local_day(restart.since)  # type: ignore[arg-type]
        return moment >= restart.since  # type: ignore[operator]

    def certainly_due(moment: object) -> bool:
        return due(moment) if restart.by_day else moment > restart.since  # type: ignore[operator]

    known = first.hashes()
    problems: list[str] = []
    # Records the state keeps for a revisit come again whatever their time.
    revisit = {str(k) for k in (first.state or {}).get(REVISIT, [])}
    older = [
        f"{r.record_key} ({record_time(stream, r)})"
        for r in again.records
        if not due(record_time(stream, r)) and r.record_key not in revisit
    ]
    if older:
        problems.append(f"{len(older)} records from before {restart.since}: {_some(older)}")
    unknown = [r.record_key for r in again.records if r.record_key not in known]
    if unknown:
        problems.append(f"records the full read did not return: {_some(unknown)}")
    served = again.hashes()
    missed = [
        r.record_key
        for r in first.records
        if certainly_due(record_time(stream, r)) and r.record_key not in served
    ]
    if missed:
        problems.append(f"{len(missed)} records after {restart.since} missing: {_some(missed)}")
    if problems:
        return failed(run.name, "incremental", stream.name, "; ".join(problems))
    detail = (
        f"{len(again.records)} of {len(first.records)} records, "
        f"from {restart.since.isoformat()} ({restart.kind} minus lookback {stream.lookback})"
    )
    return passed(run.name, "incremental", stream.name, detail)


def check_future_state(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    restart = _state_or_skip(run, "future_state", stream)
    if isinstance(restart, CheckResult):
        return restart
    if restart.kind == "ledger":
        detail = "its state is a ledger with no time in it to move forward"
        return skipped(run.name, "future_state", stream.name, detail)
    state, later = run.from_future(stream)
    if later.error is not None:
        return _unreadable(run, "future_state", stream, later)
    if later.records:
        keys = [f"{r.record_key} ({record_time(stream, r)})" for r in later.records]
        detail = f"state {state} returned {len(keys)} records: {_some(keys)}"
        return failed(run.name, "future_state", stream.name, detail)
    return passed(run.name, "future_state", stream.name, f"no records from state {state}")


def check_faults(run: ContractRun, stream: Stream | None) -> CheckResult:
    assert stream is not None
    if run.faulty is None:
        return skipped(run.name, "faults", stream.name, run.faulty_missing)
    secrets = run.secrets()
    clean, faulty = run.landed(False), run.landed(True)
    if isinstance(faulty, Exception):
        detail = f"the {run.faults} twin did not start: {describe_error(faulty, secrets)}"
        return failed(run.name, "faults", stream.name, detail)
    assert not isinstance(clean, Exception)
    for label, landed in (("clean", clean), (run.faults, faulty)):
        error = landed.errors.get(stream.name)
        if error is not None:
            detail = f"landing under {label} failed: {describe_error(error, secrets)}"
            return failed(run.name, "faults", stream.name, detail)
    want = clean.versions.get(stream.name, set())
    got = faulty.versions.get(stream.name, set())
    if not want:
        return failed(run.name, "faults", stream.name, "the clean landing landed nothing")
    if want != got:
        extra = sorted(f"{key} {sha[:12]}" for _, _, key, sha in got - want)
        lost = sorted(f"{key} {sha[:12]}" for _, _, key, sha in want - got)
        parts = [f"under {run.faults} the landed versions differ from a clean run"]
        if lost:
            parts.append(f"{len(lost)} missing: {_some(lost)}")
        if extra:
            parts.append(f"{len(extra)} extra: {_some(extra)}")
        return failed(run.name, "faults", stream.name, "; ".join(parts))
    detail = f"{len(want)} landed versions identical under {run.faults}"
    return passed(run.name, "faults", stream.name, detail)


CONNECTOR_CHECKS: dict[str, Check] = {
    "connect": check_connect,
    "bad_credentials": check_bad_credentials,
}
STREAM_CHECKS: dict[str, Check] = {
    "read": check_read,
    "schema": check_schema,
    "keys": check_keys,
    "repeatable": check_repeatable,
    "incremental": check_incremental,
    "future_state": check_future_state,
    "faults": check_faults,
}
CHECK_NAMES = (*CONNECTOR_CHECKS, *STREAM_CHECKS)


def run_check(run: ContractRun, check: str, stream_name: str = CONNECTOR_WIDE) -> CheckResult:
    """One check; any exception inside it is itself reported as that check's failure."""
    try:
        if check in CONNECTOR_CHECKS:
            return CONNECTOR_CHECKS[check](run, None)
        return STREAM_CHECKS[check](run, run.connector.stream(stream_name))
    except Exception as exc:
        detail = f"the check itself raised {describe_error(exc, run.secrets())}"
        return failed(run.name, check, stream_name, detail)


def all_checks(run: ContractRun) -> list[CheckResult]:
    results = [run_check(run, check) for check in CONNECTOR_CHECKS]
    for stream in run.connector.streams:
        results.extend(run_check(run, check, stream.name) for check in STREAM_CHECKS)
    return results
