"""The step tracker's decisions, pure, over random arrival orders, duplicates, undos and
withdrawals: every step starts at most once and only on completed prerequisites, a withdrawn
case starts nothing, and an undo reaches everything that waited for what it undid."""

from hypothesis import given, settings, strategies as st
from yjs_contracts.plans import plan_for
from yjs_contracts import samples
from yjs_kit import decisions

ESTABLISHMENT = [(p.step, p.after) for p in plan_for("establishment", samples.establishment_application(
    scope=("软件开发", "药品零售")))]
DEREGISTRATION = [(p.step, p.after) for p in plan_for("deregistration", {"route": "general"})]


@st.composite
def dags(draw):
    """A plan: steps in dependency order, each waiting for some earlier ones."""
    n = draw(st.integers(1, 8))
    plan = []
    for i in range(n):
        after = draw(st.lists(st.sampled_from(range(i)), unique=True, max_size=3)) if i else []
        plan.append((f"s{i}", [f"s{a}" for a in sorted(after)]))
    return plan


@st.composite
def histories(draw):
    plan = draw(st.sampled_from([ESTABLISHMENT, DEREGISTRATION]) | dags())
    steps = [s for s, _ in plan]
    ours = set(draw(st.lists(st.sampled_from(steps), unique=True, min_size=1)))
    theirs = [s for s in steps if s not in ours]
    # others' reports in any order, repeated, some undone later; a withdrawal somewhere
    report = st.tuples(st.just("fact"), st.sampled_from(theirs), st.sampled_from(["completed", "rejected"])) \
        if theirs else st.nothing()
    events = draw(st.lists(report | st.just(("withdraw", None, None)), max_size=20))
    return plan, ours, events


def simulate(plan, ours, events):
    """What the tracker does with these decisions: facts kept, ready steps started once, our
    own outcomes (completed) becoming facts for our other steps."""
    after = dict(plan)
    facts, started, runs, withdrawn = {}, [], [], False
    for kind, step, status in [("start", None, None), *events]:
        if kind == "fact":
            facts[step] = status
        elif kind == "withdraw":
            withdrawn = True
        while ready := decisions.turn_came(plan, ours, facts, started):
            step = ready[0]
            started.append(step)
            if decisions.on_turn(withdrawn) == decisions.RUN:
                assert all(facts.get(a) == "completed" for a in after[step])
                runs.append((step, withdrawn))
                facts[step] = "completed"
            else:
                facts[step] = "cancelled"
    return started, runs


@settings(max_examples=300, deadline=None)
@given(histories())
def test_every_step_starts_at_most_once_and_a_withdrawn_case_starts_nothing(history):
    plan, ours, events = history
    started, runs = simulate(plan, ours, events)
    assert len(started) == len(set(started))
    assert set(started) <= ours
    assert not any(withdrawn for _, withdrawn in runs)


@settings(max_examples=300, deadline=None)
@given(dags(), st.data())
def test_an_undo_reaches_every_step_that_waited_for_it(plan, data):
    undone = data.draw(st.sampled_from([s for s, _ in plan]))
    reached = {undone, *decisions.depends_on(plan, undone)}
    for step, after in plan:
        # nothing stays completed on an undone prerequisite: whatever waits for one is reached too
        if any(a in reached for a in after):
            assert step in reached
    assert undone not in decisions.depends_on(plan, undone)


def test_the_steps_that_wait_for_a_registration_are_all_it_made_possible():
    assert decisions.depends_on(ESTABLISHMENT, "registration.establish") == [
        "seal_carving.carve", "tax.register", "tax.grant_invoices", "bank_account.open", "licensing.issue"]
    assert decisions.depends_on(ESTABLISHMENT, "seal_carving.carve") == ["tax.grant_invoices", "bank_account.open"]
    assert decisions.depends_on(DEREGISTRATION, "deregistration.notice") == [
        "deregistration.liquidation_report", "registration.deregister", "bank_account.close",
        "seal_carving.cancel", "licensing.revoke"]


def test_a_withdrawal_undoes_what_holds_something_and_skips_what_ended_without_an_outcome():
    assert decisions.on_withdrawal("rejected", True) == decisions.SKIP
    assert decisions.on_withdrawal("not_required", False) == decisions.SKIP
    assert decisions.on_withdrawal("completed", False) == decisions.LEAVE
    assert decisions.on_withdrawal("completed", True) == decisions.UNDO
    assert decisions.on_withdrawal("awaiting_review", False) == decisions.UNDO
