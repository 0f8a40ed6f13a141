"""Assets built from the connector registry: one per source stream (raw landing), one fact asset
per source with a mapping, and the published scores. Nothing here names a particular source."""

from collections.abc import Mapping, Sequence
from datetime import timedelta

import dagster as dg
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from connectors.registry import Connector
from connectors.sdk.errors import AuthError, ConnectorError
from connectors.sdk.timeparse import now_utc
from orchestration.asset_versions import OWNERS, facts_code_version, scores_code_version
from orchestration.checks import (
    anomaly_check_spec,
    fact_check_specs,
    run_anomaly_check,
    run_fact_checks,
)
from orchestration.partitions import monthly
from orchestration.raw_checks import raw_check_specs, run_raw_checks
from orchestration.resources import StoresResource, source_resource_key
from orchestration.score_metadata import scores_metadata
from pipelines.amendments import land_changes
from pipelines.directory import read_directory, reminder_receivers
from pipelines.facts import current_facts
from pipelines.landing import land_stream
from pipelines.leases import stream_lease
from pipelines.normalise import normalise_source
from pipelines.publishing import score_period
from pipelines.review import carry_amendments
from schemas.catalog import load_catalog
from schemas.settings import get_settings
from schemas.templates import load_templates

SCORES_KEY = dg.AssetKey(["scores"])


def raw_key(connector: Connector, stream: str) -> dg.AssetKey:
    return dg.AssetKey([connector.name, stream])


def facts_key(connector: Connector) -> dg.AssetKey:
    return dg.AssetKey(["facts", connector.name])


def build_stream_asset(connector: Connector, stream_name: str) -> dg.AssetsDefinition:
    resource_key = source_resource_key(connector)

    @dg.asset(
        key=raw_key(connector, stream_name),
        group_name=f"{connector.name}_raw",
        kinds={connector.kind},
        owners=OWNERS,
        tags={"layer": "raw", "source": connector.name},
        # Streams of one source share its API's budget, across runs too (deploy/dagster.yaml).
        pool=f"{connector.name}_api",
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=connector.freshness_hours or get_settings().freshness_hours)
        ),
        required_resource_keys={resource_key, "stores"},
        check_specs=raw_check_specs(connector, stream_name, raw_key(connector, stream_name)),
        description=f"{connector.title} `{stream_name}` records as fetched, one row per version.",
    )
    def _stream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        stores: StoresResource = context.resources.stores
        source = getattr(context.resources, resource_key).open(connector)
        try:
            stats = land_stream(
                stores.stores().hub, source, connector.stream(stream_name), context.run.run_id
            )
        except AuthError as exc:
            # Which variables to fix, never their values.
            names = ", ".join(connector.env.names()[1:]) or connector.env.endpoint
            refused = AuthError(connector.name, f"{exc.reason}; check {names}")
            context.log.error(str(refused))
            raise refused from None
        except ConnectorError as exc:
            # The cause as a line of its own in the run's log, not only inside a stack trace.
            context.log.error(str(exc))
            raise
        finally:
            source.close()
        metadata: dict[str, object] = {
            "records_pulled": stats.pulled,
            "new_versions": stats.landed,
            "changed_records": stats.changed,
            "pages": stats.pages,
            "requests": source.requests_made,
            "rejected": stats.rejected,
        }
        if stats.rejected_by_reason:
            metadata["rejected_by_reason"] = dg.MetadataValue.json(stats.rejected_by_reason)
        if stats.watermark:
            metadata["watermark"] = stats.watermark
        if stats.future_stamped:
            metadata["future_stamped_records"] = len(stats.future_stamped)
            metadata["watermark_held_at_now"] = stats.watermark_held
            context.log.warning(
                f"{len(stats.future_stamped)} records are stamped later than the hub's clock "
                "allows; they are landed and counted in a finding, and the watermark was held "
                "at now"
            )
        if stats.served_twice:
            metadata["served_twice"] = len(stats.served_twice)
            context.log.warning(
                f"the source served {len(stats.served_twice)} record(s) twice in this pull; "
                "each is landed once, and a finding names them"
            )
        checks = run_raw_checks(
            stores.stores().hub, connector, stream_name, context.asset_key, context.run.run_id
        )
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _stream


def build_facts_asset(
    connector: Connector, connectors: Mapping[str, Connector]
) -> dg.AssetsDefinition:
    mapping = connector.mapping
    assert mapping is not None
    identity_streams = [raw_key(c, s) for c in connectors.values() for s in c.identity_streams]
    own_streams = [raw_key(connector, s) for s in mapping.streams]
    read_streams = [dg.AssetKey(ref.split("/", 1)) for ref in mapping.reads]
    deps = sorted(
        set(identity_streams + own_streams + read_streams), key=lambda k: k.to_user_string()
    )

    @dg.asset(
        key=facts_key(connector),
        group_name="facts",
        partitions_def=monthly,
        deps=deps,
        kinds={"sql"},
        owners=OWNERS,
        tags={"layer": "facts", "source": connector.name},
        code_version=facts_code_version(connector),
        required_resource_keys={"stores"},
        check_specs=[
            *fact_check_specs(connector, facts_key(connector)),
            *anomaly_check_spec(connector, facts_key(connector)),
        ],
        description=(
            f"KPI facts from {connector.title} ({', '.join(mapping.kpi_codes)}) per job number "
            "and month, with lineage to every raw record version used."
        ),
    )
    def _facts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        stores: StoresResource = context.resources.stores
        stats = normalise_source(
            stores.stores().hub, connector, context.partition_key, context.run.run_id, connectors
        )
        metadata: dict[str, object] = {
            "facts": stats.facts,
            "people_covered": stats.people,
            "new_fact_versions": stats.stored.created + stats.stored.corrected,
            "corrected_facts": stats.stored.corrected,
            "unchanged_facts": stats.stored.unchanged,
            "quarantined": sum(stats.quarantined_by_reason.values()),
            "quarantined_by_reason": dg.MetadataValue.json(stats.quarantined_by_reason),
        }
        if stats.stored.corrections:
            rows = "\n".join(
                f"| {c['job_number']} | {c['kpi_code']} | {c['old_value']} | {c['new_value']} |"
                for c in stats.stored.corrections[:50]
            )
            metadata["corrections"] = dg.MetadataValue.md(
                "| job number | KPI | old | new |\n|---|---|---|---|\n" + rows
            )
        checks = run_fact_checks(
            stores.stores().hub, connector, facts_key(connector), context.partition_key
        )
        # Right after the month's facts are stored, so its findings are there before scoring.
        checks += run_anomaly_check(
            stores.stores().hub,
            connector,
            facts_key(connector),
            context.partition_key,
            context.run.run_id,
        )
        # Here, once per source and month, after the checks have judged the month's facts.
        metadata.update(
            queue_reminders(
                stores.stores().hub, connector, context.partition_key, blocked=_blocks(checks)
            )
        )
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _facts


def _blocks(checks: Sequence[dg.AssetCheckResult]) -> bool:
    """Whether a check failed at ERROR: the month's facts are in question and are not scored."""
    return any(not c.passed and c.severity == dg.AssetCheckSeverity.ERROR for c in checks)


def queue_reminders(
    hub: Engine, connector: Connector, period: str, blocked: bool
) -> dict[str, object]:
    """Queue a personal reminder for each current fact of ``connector`` in ``period`` past its
    KPI's alert threshold, to the person and their leaders as the landed DingTalk directory
    names them; the outbox's key (person, KPI, period) keeps a re-run from queuing it again.
    Nothing is queued while a blocking check fails (a reminder about a value that may be wrong
    cannot be taken back), nor without a work-notification sink to send it."""
    from quality.alerts import configured_secrets, enqueue
    from quality.alerts.reminders import Reading, reminders_enabled, threshold_reminders

    catalog = load_catalog()
    mapping = connector.mapping
    assert mapping is not None
    codes = [c for c in mapping.kpi_codes if c in catalog and catalog.get(c).alert_threshold]
    if not codes:
        return {}
    settings = get_settings()
    if not reminders_enabled(settings):
        return {"reminders": "off: no DingTalk agent id and app credentials are configured"}
    if blocked:
        return {"reminders": "held: a blocking check failed for this month"}
    with Session(hub) as session:
        readings = [
            Reading(f.job_number, f.kpi_code, f.period, f.value)
            for f in current_facts(session, period, codes, connector.name)
        ]
    plan = threshold_reminders(readings, catalog, reminder_receivers(read_directory(hub)))
    queued = enqueue(hub, plan.alerts, now_utc(), forbidden=configured_secrets(settings))
    metadata: dict[str, object] = {
        "reminders_due": plan.crossed,
        "reminders_queued": queued,
        "reminders_not_in_directory": len(plan.not_in_directory),
    }
    if plan.not_in_directory:
        metadata["not_in_directory"] = dg.MetadataValue.json(plan.not_in_directory[:50])
    return metadata


def build_scores_asset(
    fact_assets: Sequence[dg.AssetKey], connectors: Mapping[str, Connector]
) -> dg.AssetsDefinition:
    @dg.asset(
        key=SCORES_KEY,
        group_name="scores",
        partitions_def=monthly,
        deps=list(fact_assets),
        kinds={"sql"},
        owners=OWNERS,
        tags={"layer": "scores"},
        code_version=scores_code_version(),
        required_resource_keys={"stores"},
        description="Performance scores from the scoring templates, published to the HR store.",
    )
    def _scores(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        stores = context.resources.stores.stores()
        period = context.partition_key
        templates_dir = get_settings().templates_dir
        assert templates_dir is not None
        templates = load_templates(templates_dir)
        # One publisher per month: two runs scoring it at once would both write version n + 1.
        with stream_lease(stores.hub, "scores", period, context.run.run_id):
            decided = land_changes(stores, period, context.run.run_id)
            stats = score_period(stores, period, templates, connectors, context.run.run_id)
        amended = carry_amendments(stores, period, get_settings().confirm_working_days)
        if decided.created or decided.corrected:
            context.log.info(
                f"{decided.created + decided.corrected} fact(s) of approved target changes and "
                "manual adjustments landed before scoring"
            )
        for job_number, _ in amended:
            context.log.info(f"{job_number}: the amended score is back for confirmation")
        for left_out in stats.unassigned:
            context.log.warning(f"{left_out.person.job_number} is not scored: {left_out.reason}")
        return dg.MaterializeResult(metadata=scores_metadata(stats))

    return _scores


def build_assets(connectors: Mapping[str, Connector]) -> list[dg.AssetsDefinition]:
    assets = [build_stream_asset(c, s.name) for c in connectors.values() for s in c.streams]
    fact_assets = [build_facts_asset(c, connectors) for c in connectors.values() if c.mapping]
    assets.extend(fact_assets)
    assets.append(build_scores_asset([a.key for a in fact_assets], connectors))
    return assets
