"""The outbox's own rules, on SQLite and PostgreSQL: the same alert is queued once, a refused
batch waits for its backoff and holds back what follows, failed alerts are kept and requeued,
and two deliverers never send the same batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from pipelines.stores import Stores
from quality.alerts import Alert, Backoff, DeliveryFailed, Queued, deliver, enqueue, requeue
from quality.alerts.outbox import claim, due
from tests.quality.alert_helpers import FakeClock, alerts, keys, rows, states


class Recorder:
    """A sink that records what it was handed and fails on demand."""

    name = "test"
    per_minute: int | None = None

    def __init__(self, batch_size: int = 2, failures: int = 0) -> None:
        self.batch_size = batch_size
        self.failures = failures
        self.batches: list[list[str]] = []

    def secrets(self) -> tuple[str, ...]:
        return ("s3cr3t-value",)

    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        if self.failures:
            self.failures -= 1
            raise DeliveryFailed("test sink down (token s3cr3t-value)")
        self.batches.append([a.delivery_key for a in batch])
        return None


def test_enqueueing_the_same_alerts_twice_adds_them_once(stores: Stores) -> None:
    now = FakeClock().at
    assert enqueue(stores.hub, alerts("test", 3), now) == 3
    assert enqueue(stores.hub, alerts("test", 4), now + timedelta(minutes=5)) == 1
    assert enqueue(stores.hub, alerts("test", 2) * 2, now) == 0
    assert states(stores.hub, "test") == [(k, "queued", 0) for k in keys(4)]
    # The same key to another sink is another delivery.
    assert enqueue(stores.hub, alerts("other", 1), now) == 1
    assert [r.created_at for r in rows(stores.hub, "test")] == [now] * 3 + [
        now + timedelta(minutes=5)
    ]


def test_an_alert_carrying_a_secret_is_refused(stores: Stores) -> None:
    leaky = Alert("test", "finding:1", "anomaly", "x", {"url": "https://h/?token=s3cr3t-value"})
    with pytest.raises(ValueError, match="carries a secret") as caught:
        enqueue(stores.hub, [leaky], FakeClock().at, forbidden=("s3cr3t-value",))
    assert "s3cr3t-value" not in str(caught.value)
    assert rows(stores.hub, "test") == []


def test_a_refused_batch_backs_off_and_holds_back_the_rest(stores: Stores) -> None:
    clock = FakeClock()
    enqueue(stores.hub, alerts("test", 5), clock.at)
    sink = Recorder(batch_size=2, failures=2)
    policy = Backoff(base=timedelta(seconds=30))

    report = deliver(stores.hub, [sink], clock.at, policy)
    assert (report.sent, report.sinks["test"].retried, report.sinks["test"].waiting) == (0, 2, 0)
    first = rows(stores.hub, "test")[0]
    assert (first.attempts, first.next_try_at) == (1, clock.at + timedelta(seconds=30))
    assert first.last_error == "test sink down (token ***)"
    # Not yet due: nothing is sent, not even the alerts behind the waiting ones.
    clock.advance(29)
    assert deliver(stores.hub, [sink], clock.at, policy).sent == 0
    clock.advance(1)
    assert deliver(stores.hub, [sink], clock.at, policy).sent == 0
    assert rows(stores.hub, "test")[0].next_try_at == clock.at + timedelta(seconds=60)
    clock.advance(60)
    assert deliver(stores.hub, [sink], clock.at, policy).sent == 5
    assert sink.batches == [keys(2), keys(2, 3), keys(1, 5)]
    assert states(stores.hub, "test") == [
        ("finding:1", "sent", 3), ("finding:2", "sent", 3), ("finding:3", "sent", 1),
        ("finding:4", "sent", 1), ("finding:5", "sent", 1),
    ]  # fmt: skip
    assert {r.last_error for r in rows(stores.hub, "test")} == {None}
    assert deliver(stores.hub, [sink], clock.at + timedelta(hours=1), policy).sent == 0
    assert sink.batches == [keys(2), keys(2, 3), keys(1, 5)]


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = Backoff(base=timedelta(seconds=30), cap=timedelta(minutes=10))
    assert [policy.delay(n).total_seconds() for n in range(1, 8)] == [
        30, 60, 120, 240, 480, 600, 600,
    ]  # fmt: skip


def test_alerts_failing_too_often_are_kept_as_failed_and_can_be_requeued(stores: Stores) -> None:
    clock = FakeClock()
    enqueue(stores.hub, alerts("test", 3), clock.at)
    sink = Recorder(batch_size=3, failures=3)
    policy = Backoff(base=timedelta(seconds=1), max_attempts=3)
    for _ in range(3):
        deliver(stores.hub, [sink], clock.at, policy)
        clock.advance(3600)
    assert states(stores.hub, "test") == [(k, "failed", 3) for k in keys(3)]
    assert deliver(stores.hub, [sink], clock.at, policy).sent == 0
    assert requeue(stores.hub, "test", clock.at) == 3
    assert deliver(stores.hub, [sink], clock.at, policy).sent == 3
    assert sink.batches == [keys(3)]
    assert states(stores.hub, "test") == [(k, "sent", 4) for k in keys(3)]


def test_a_batch_claimed_by_one_deliverer_is_not_sent_by_another(stores: Stores) -> None:
    clock = FakeClock()
    enqueue(stores.hub, alerts("test", 2), clock.at)
    with Session(stores.hub) as session:
        batch = due(session, "test", clock.at, 10)
        assert claim(session, batch, clock.at, timedelta(minutes=5))
        assert not claim(session, batch, clock.at, timedelta(minutes=5))
    sink = Recorder(batch_size=2)
    assert deliver(stores.hub, [sink], clock.at).sent == 0
    # A deliverer that died after claiming leaves the batch to be sent once the lease is over.
    clock.advance(300)
    assert deliver(stores.hub, [sink], clock.at).sent == 2
    assert sink.batches == [keys(2)]


def test_deliver_works_on_a_session_the_caller_holds(stores: Stores) -> None:
    clock = FakeClock()
    sink = Recorder(batch_size=10)
    with Session(stores.hub) as session:
        assert enqueue(session, alerts("test", 2), clock.at) == 2
        assert deliver(session, [sink], clock.at).sent == 2
    assert states(stores.hub, "test") == [(k, "sent", 1) for k in keys(2)]


class Broken(Recorder):
    def send(self, batch: Sequence[Queued], batch_id: str, now: datetime) -> str | None:
        raise KeyError("s3cr3t-value")


def test_a_sink_that_breaks_keeps_its_alerts_and_the_next_sink_still_delivers(
    stores: Stores,
) -> None:
    clock = FakeClock()
    enqueue(stores.hub, alerts("test", 1) + alerts("other", 1), clock.at)
    other = Recorder()
    other.name = "other"
    report = deliver(stores.hub, [Broken(), other], clock.at)
    assert report.sinks["test"].errors == ["test failed unexpectedly (KeyError)"]
    assert (report.sinks["other"].sent, other.batches) == (1, [["finding:1"]])
    assert states(stores.hub, "test") == [("finding:1", "queued", 1)]
