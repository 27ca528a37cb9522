"""Reports folded in one batch, on the real PostgreSQL: the cases whose first event in the batch is
a new report are read in one statement, and the records come out as when each report is folded
on its own."""

from datetime import datetime, timezone

from sqlalchemy.orm import sessionmaker
from yjs_case import cases
from yjs_case.models import metadata
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import EnterpriseRegistered, EventDeadLettered, TaxpayerRegistered, step_report
from yjs_contracts.steps import STEP_KINDS, StepStatus
from yjs_kit.db import make_engine
from yjs_kit.uow import Database, UnitOfWork

BARE = {"matter": "establishment", "application": samples.establishment_application(
    "明远", seals=(), bank_account=False, social_insurance=False)}


class _Unsent:
    """Where a relay would take the committed outbox rows: they stay in the outbox, unpublished."""

    def hand_over(self, rows):
        pass


def _database(url: str) -> Database:
    database = Database(metadata)
    database.relay = _Unsent()
    database.engine = make_engine(url)
    database.sessions = sessionmaker(bind=database.engine, expire_on_commit=False)
    metadata.create_all(database.engine)
    return database


def _report(case_id: str, step: str, n: int):
    now = datetime(2026, 12, 4, 9, n, tzinfo=timezone.utc)
    uscc = make_uscc("330402", n)
    outputs = {"registration.establish": EnterpriseRegistered(uscc=uscc, licence_number=f"330402{n:09d}",
                                                              enterprise_name="嘉兴明远数字科技有限公司", registered_at=now),
               "tax.register": TaxpayerRegistered(uscc=uscc, tax_authority="国家税务总局嘉兴市南湖区税务局",
                                                  taxpayer_type="small_scale", tax_items=["增值税"],
                                                  real_name_confirmed=["legal_representative"])}[step]
    event = new_event(STEP_KINDS[step].completed_event, step_report(step, StepStatus.completed, outputs),
                      case_id=case_id)
    return event.model_copy(update={"occurred_at": now})


def _folded(record: dict) -> dict:
    """What reports make of a record (the submission's own moments differ between two databases)."""
    submitted = record["submitted_at"]
    return {"status": record["status"], "outputs": record["outputs"], "finished_at": record["finished_at"],
            "steps": [{k: v for k, v in step.items() if k != "deadline" and v != submitted} for step in record["steps"]],
            "timeline": [line for line in record["timeline"] if line["event_type"] != "case.submitted"]}


def test_a_batch_reads_its_cases_at_once_and_folds_them_as_one_by_one(database_factory, monkeypatch):
    batched, alone = _database(database_factory()), _database(database_factory())
    try:
        for database in (batched, alone):
            with database.unit_of_work() as uow:
                ids = [cases.submit(uow, "alice", BARE)[0] for _ in range(3)]
        first, second, third = ids
        registered = _report(first, "registration.establish", 1)
        stalled = new_event("tax.event_dead_lettered", EventDeadLettered(
            dead_letter_id="tax:1", event_type="case.submitted", event_id=None, kind="failed", reason="税务系统维护"),
            case_id=third)
        # in the order a batch applies them: case by case, each case's as they came
        events = [registered, registered, _report(first, "tax.register", 1),
                  _report(second, "tax.register", 2), _report(second, "registration.establish", 2),
                  stalled, _report(third, "registration.establish", 3)]

        reads = []
        fetch = UnitOfWork.fetch
        monkeypatch.setattr(UnitOfWork, "fetch", lambda uow, statement, params: (
            reads.append(statement) if statement in (cases.CASE_AND_STEPS, cases.CASES_AND_STEPS) else None,
            fetch(uow, statement, params))[1])

        def apply(event):
            with batched.unit_of_work() as uow:
                if event.event_type.endswith("dead_lettered"):
                    cases.stall(uow, event)
                else:
                    cases.fold(uow, event)

        with batched.batch(events):
            for event in events:
                apply(event)
        # the first and second cases at once; the first's and second's next reports read again,
        # as does the third's, whose first event in the batch was not a report
        assert reads.count(cases.CASES_AND_STEPS) == 1 and reads.count(cases.CASE_AND_STEPS) == 3

        for event in events:
            with alone.unit_of_work() as uow:
                cases.stall(uow, event) if event.event_type.endswith("dead_lettered") else cases.fold(uow, event)
        for case_id in ids:
            with batched.sessions() as one, alone.sessions() as other:
                assert _folded(cases.case_record(one, case_id)) == _folded(cases.case_record(other, case_id))
        with batched.sessions() as session:
            record = cases.case_record(session, first)
            assert record["status"] == "in_progress" and len(record["timeline"]) == 3  # the duplicate added nothing
            assert {s["step"]: s["status"] for s in record["steps"]}["tax.register"] == "completed"
    finally:
        batched.engine.dispose()
        alone.engine.dispose()
