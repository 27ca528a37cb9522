"""The bank on the real broker and database: plans, registrations and seals in, accounts out."""

from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, func, select
from yjs_bank_account.models import accounts, metadata
from yjs_bank_account.service import BankAccountService
from yjs_contracts import samples
from yjs_contracts.codes import make_uscc
from yjs_contracts.envelope import new_event
from yjs_contracts.events import CarvedSeal, EnterpriseRegistered, SealsCarved, step_report
from yjs_contracts.steps import STEP_KINDS, StepStatus
from yjs_kit.testing import publish, step_undone, wait_until_consumed
from yjs_kit.testing import case_submitted as submitted

SEALS = ("official", "finance", "invoice", "contract", "legal_representative")



def registered(case_id: str, n: int):
    kind = STEP_KINDS["registration.establish"]
    return new_event(kind.completed_event, step_report(kind.step, StepStatus.completed, EnterpriseRegistered(
        uscc=make_uscc("330402", n), licence_number=f"330402{n:09d}", enterprise_name=f"嘉兴企业{n}有限公司",
        registered_at=datetime.now(timezone.utc))), case_id=case_id)


def carved(case_id: str, types=SEALS):
    kind = STEP_KINDS["seal_carving.carve"]
    seals = [CarvedSeal(type=t, name=t, filing_code=f"330402{i:07d}") for i, t in enumerate(types, 1)]
    return new_event(kind.completed_event, step_report(kind.step, StepStatus.completed, SealsCarved(seals=seals)),
                     case_id=case_id)


def deliver(broker_uri: str, *events) -> None:
    """Publish, and return once the bank has handled and acked every one (duplicates included)."""
    publish(broker_uri, *events)
    wait_until_consumed(broker_uri, "bank_account.inbox")


def count(engine, table) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def bank(start_service):
    container = start_service(BankAccountService)
    engine = create_engine(container.config["DATABASE_URL"])
    yield engine
    engine.dispose()


@pytest.mark.parametrize("order", [("registered", "carved"), ("carved", "registered")])
def test_each_prerequisite_twice_in_either_order_opens_one_account(bank, broker_uri, watch, order):
    watcher = watch("bank_account.account_opened", "bank_account.account_opening_refused")
    prerequisites = {"registered": registered("C1", 1), "carved": carved("C1")}
    first, second = (prerequisites[name] for name in order)
    deliver(broker_uri, submitted("C1", samples.establishment_application("奔腾")))
    for event in (first, first, second, second):  # one at a time, so the order is the one named
        deliver(broker_uri, event)
    [opened] = watcher.wait_for()
    assert opened.causation_id == str(second.event_id)
    outputs = opened.data["outputs"]
    assert outputs["account_number"].startswith("1204330402") and len(outputs["account_number"]) == 19
    assert outputs["bank"] == "中国工商银行" and outputs["branch"] == "嘉兴南湖支行"
    assert outputs["account_type"] == "basic_deposit"
    assert outputs["specimen_seals"] == ["3304020000002", "3304020000005"]  # 财务专用章, 法定代表人名章
    with bank.connect() as connection:
        [account] = connection.execute(select(accounts)).mappings().all()
    assert (account["account_number"], account["uscc"], account["case_id"]) == (
        outputs["account_number"], make_uscc("330402", 1), "C1")
    assert count(bank, metadata.tables["kit_outbox"]) == 1  # nothing else can still be on its way
    assert len(watcher.drain()) == 1


def test_without_seals_the_account_opens_right_after_registration(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened")
    application = samples.establishment_application("飞跃", seals=())
    deliver(broker_uri, submitted("C2", application), registered("C2", 2))
    [opened] = watcher.wait_for()
    assert opened.data["outputs"]["specimen_seals"] == []
    assert count(bank, accounts) == 1


def test_account_numbers_are_unique_across_cases(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened")
    banks = ("中国工商银行", "招商银行", "交通银行")  # the last two share a prefix, and so a counter
    events = []
    for n in range(10):
        application = samples.establishment_application(samples.unique_trade_name(n), seals=())
        application["bank_account"]["bank"] = banks[n % 3]
        events += [submitted(f"C{n}", application), registered(f"C{n}", 100 + n)]
    publish(broker_uri, *events)
    opened = watcher.wait_for(count=10)
    numbers = {e.data["outputs"]["account_number"] for e in opened}
    assert len(numbers) == 10
    assert all(len(number) == 19 and number.isdigit() for number in numbers)
    assert {number[:4] for number in numbers} == {"1204", "6222"}
    assert count(bank, accounts) == 10


def test_the_step_never_starts_without_the_registration(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened", "bank_account.account_opening_refused")
    deliver(broker_uri, submitted("C3", samples.establishment_application("远航")), carved("C3"))
    assert count(bank, metadata.tables["kit_steps"]) == 0
    assert count(bank, accounts) == 0
    assert count(bank, metadata.tables["kit_outbox"]) == 0
    assert watcher.drain() == []
    deliver(broker_uri, registered("C3", 3))  # and once it comes, the account opens
    [opened] = watcher.wait_for()
    assert (opened.event_type, opened.case_id) == ("bank_account.account_opened", "C3")


def test_an_account_opened_on_seals_that_are_undone_is_closed_once_and_the_undo_announced(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened", "bank_account.account_opening_refused")
    deliver(broker_uri, submitted("U1", samples.establishment_application("撤章")), registered("U1", 21), carved("U1"))
    [opened] = watcher.wait_for()
    undo = step_undone("U1", "seal_carving.carve", "prerequisite_undone", "所依据的设立登记已撤销")
    # the seals' undo (twice), and then the registration's that caused it: the account closes once
    deliver(broker_uri, undo, undo)
    deliver(broker_uri, step_undone("U1", "registration.establish"))
    [undone] = watcher.wait_for(lambda e: e.event_type == "bank_account.account_opening_refused")
    assert undone.data["undoes"] is True and undone.causation_id == str(undo.event_id)
    assert [(r["code"], r["field"]) for r in undone.data["reasons"]] == [("prerequisite_undone", "step:seal_carving.carve")]
    with bank.connect() as connection:
        account = connection.execute(select(accounts)).mappings().one()
    assert account["account_number"] == opened.data["outputs"]["account_number"]
    assert (account["status"], account["undo_reason"]) == ("closed", "prerequisite_undone") and account["closed_at"]
    assert len(watcher.drain()) == 2


def test_a_registration_undone_before_the_seals_arrive_never_opens_the_account(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened", "bank_account.account_opening_refused")
    deliver(broker_uri, submitted("U2", samples.establishment_application("未开")), registered("U2", 22))
    # the undo handled before the seals arrive (one publish would let both run at once)
    deliver(broker_uri, step_undone("U2", "registration.establish"))
    deliver(broker_uri, carved("U2"))
    assert count(bank, metadata.tables["kit_steps"]) == count(bank, accounts) == 0
    assert watcher.drain() == []


def test_an_enterprise_gets_one_basic_account_only(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened", "bank_account.account_opening_refused")
    deliver(broker_uri, submitted("C4", samples.establishment_application("启明", seals=())), registered("C4", 4))
    watcher.wait_for()
    deliver(broker_uri, submitted("C5", samples.establishment_application("启明", seals=())), registered("C5", 4))
    events = watcher.wait_for(count=2)
    assert [e.event_type for e in events] == ["bank_account.account_opened", "bank_account.account_opening_refused"]
    assert events[1].data["reasons"][0]["code"] == "basic_account_exists"
    assert count(bank, accounts) == 1


def deregistered(case_id: str, n: int):
    kind = STEP_KINDS["registration.deregister"]
    return new_event(kind.completed_event, step_report(kind.step, StepStatus.completed, {
        "uscc": make_uscc("330402", n), "enterprise_name": f"嘉兴企业{n}有限公司", "licence_number": f"330402{n:09d}",
        "deregistered_at": datetime.now(timezone.utc).isoformat()}), case_id=case_id)


def test_the_account_is_closed_once_the_registration_is_cancelled(bank, broker_uri, watch):
    watcher = watch("bank_account.account_opened", "bank_account.account_closed")
    deliver(broker_uri, submitted("C6", samples.establishment_application("长风", seals=())), registered("C6", 6))
    [opened] = watcher.wait_for()
    closing = samples.deregistration_application(make_uscc("330402", 6))
    without_account = samples.deregistration_application(make_uscc("330402", 7))
    deliver(broker_uri, submitted("D6", closing, "deregistration"), submitted("D7", without_account, "deregistration"))
    assert count(bank, metadata.tables["kit_steps"]) == 1  # only the opening: closing waits for the registration
    deliver(broker_uri, deregistered("D6", 6), deregistered("D6", 6), deregistered("D7", 7))
    closed = {e.case_id: e.data["outputs"] for e in watcher.wait_for(
        lambda e: e.event_type == "bank_account.account_closed", count=2)}
    assert closed["D6"]["account_number"] == opened.data["outputs"]["account_number"]
    assert closed["D7"]["account_number"] is None  # no account here: nothing to close
    with bank.connect() as connection:
        account = connection.execute(select(accounts)).mappings().one()
    assert (account["status"], account["closing_case_id"]) == ("closed", "D6") and account["closed_at"]
    assert len([e for e in watcher.drain() if e.event_type == "bank_account.account_closed"]) == 2
