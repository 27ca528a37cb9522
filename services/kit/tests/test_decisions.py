"""The step tracker's decisions, pure, over random arrival orders, duplicates, undos and
withdrawals: every step starts at most once and only on completed prerequisites, a withdrawn
case starts nothing, and an undo reaches everything that waited for what it undid."""

from hypothesis import given, settings, strategies as st
from yjs_contracts.steps import StepStatus
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
        "seal_carving.carve", "tax.register", "tax.grant_invoices", "bank_account.open", "licensing.issue",
        "social_insurance.register"]
    assert decisions.depends_on(ESTABLISHMENT, "seal_carving.carve") == ["tax.grant_invoices", "bank_account.open"]
    assert decisions.depends_on(DEREGISTRATION, "deregistration.notice") == [
        "deregistration.liquidation_report", "registration.deregister", "bank_account.close",
        "seal_carving.cancel", "licensing.revoke"]


def test_a_department_knows_from_the_event_alone_when_a_case_is_none_of_its_business():
    plan = [{"step": step, "after": after} for step, after in ESTABLISHMENT]
    tax, deregistration = {"tax.register", "tax.grant_invoices"}, {"deregistration.accept"}
    assert decisions.concerns("case.submitted", {"plan": plan}, tax)
    assert not decisions.concerns("case.submitted", {"plan": plan}, deregistration)
    assert decisions.concerns("case.withdrawn", {"steps": [s for s, _ in ESTABLISHMENT]}, tax)
    assert not decisions.concerns("case.withdrawn", {"steps": [s for s, _ in ESTABLISHMENT]}, deregistration)
    assert decisions.concerns("case.withdrawal_requested", {"pivot": "registration.establish"}, {"registration.establish"})
    assert not decisions.concerns("case.withdrawal_requested", {"pivot": "registration.establish"}, tax)
    # anything else may concern it: a report, a supplement (what it means is read under the case's lock)
    assert decisions.concerns("registration.enterprise_registered", {}, deregistration)
    assert decisions.concerns("case.supplement_provided", {}, deregistration)


def test_a_withdrawal_undoes_what_holds_something_and_skips_what_ended_without_an_outcome():
    assert decisions.on_undo("rejected", True) == decisions.SKIP
    assert decisions.on_undo("not_required", False) == decisions.SKIP
    assert decisions.on_undo("completed", False) == decisions.LEAVE
    assert decisions.on_undo("completed", True) == decisions.UNDO
    assert decisions.on_undo("awaiting_review", False) == decisions.UNDO


@st.composite
def outcomes(draw):
    """A plan, the steps that are ours, and what became of the others' steps — none, completed,
    refused, or completed then undone — as their reports reach us: in any order (an undo may
    overtake the completion it undoes), some delivered more than once."""
    plan = draw(st.sampled_from([ESTABLISHMENT, DEREGISTRATION]) | dags())
    steps = [s for s, _ in plan]
    ours = set(draw(st.lists(st.sampled_from(steps), unique=True, min_size=1)))
    fates, could, fell = {}, {}, {}  # a step completes only once everything it waits for could have
    for step, after in plan:
        possible = all(could[a] for a in after)
        fell[step] = any(fell[a] or fates.get(a) == "undone" for a in after)
        if step not in ours:
            fates[step] = draw(st.sampled_from(["none", "completed", "rejected", "undone"] if possible
                                               else ["none", "rejected"]))
            if fell[step] and fates[step] == "completed":
                fates[step] = "undone"  # its own department hears the undo it rests on, and cascades it
        could[step] = possible and (step in ours or fates[step] in ("completed", "undone"))
    reports = []
    for step, fate in fates.items():
        if fate in ("completed", "undone"):
            reports.append((step, "completed", False))
        if fate == "rejected":
            reports.append((step, "rejected", False))
        if fate == "undone":
            reports.append((step, "rejected", True))
    reports = draw(st.permutations(reports))
    again = draw(st.lists(st.sampled_from(reports), max_size=4)) if reports else []
    for report in again:  # a redelivery, anywhere after the first
        reports.insert(draw(st.integers(reports.index(report) + 1, len(reports))), report)
    return plan, ours, fates, reports


def follow(plan, ours, reports):
    """The tracker's decisions over these reports: facts kept by `folds_into`, ready steps run
    (completing), and an undo cascading to what started on it. Returns the facts and what each
    of our steps went through."""
    facts, history = {}, {}

    def conclude(step, status):
        facts[step] = status
        history.setdefault(step, []).append(status)

    def start_ready():
        while ready := decisions.turn_came(plan, ours, facts, history):
            conclude(ready[0], "completed")

    def undo_built_on(undone):
        started = {step: statuses[-1] for step, statuses in history.items()}
        for step, action in decisions.undone_with(plan, undone, ours, started, ours):
            if action == decisions.UNDO:
                conclude(step, "rejected" if started[step] == "completed" else "cancelled")

    start_ready()
    for step, status, undoes in reports:
        if step in facts and not decisions.folds_into(facts[step], status, undoes):
            continue
        facts[step] = status
        if decisions.cascades(status, undoes):
            undo_built_on(step)
        start_ready()
    return facts, history


def took_effect(plan, ours, fates):
    """Declaratively: our step stands completed when everything it rests on, directly or not,
    completed and was not undone (an undo not yet heard from the department between counts)."""
    holds = {}
    for step, after in plan:
        holds[step] = all(holds[a] for a in after) and (step in ours or fates[step] == "completed")
    return {step for step in ours if holds[step]}


@settings(max_examples=400, deadline=None)
@given(outcomes())
def test_nothing_stays_completed_on_an_undone_prerequisite_whatever_the_order_and_redeliveries(outcome):
    plan, ours, fates, reports = outcome
    facts, history = follow(plan, ours, reports)
    completed = {step for step in ours if facts.get(step) == "completed"}
    # order and duplicates do not matter: what stands is what everything it rests on allows
    assert completed == took_effect(plan, ours, fates)
    for step, statuses in history.items():
        # started once, and undone at most once: a step that ended stays ended
        assert statuses[0] == "completed"
        assert len(statuses) <= 2 and statuses[1:] in ([], ["rejected"])


@settings(max_examples=200, deadline=None)
@given(outcomes())
def test_a_step_whose_prerequisite_was_undone_before_its_turn_never_starts(outcome):
    plan, ours, fates, reports = outcome
    undone_first = [step for step, status, undoes in reports if undoes]
    undone_first = [step for step in undone_first
                    if [r for r in reports if r[0] == step][0] == (step, "rejected", True)]
    _, history = follow(plan, ours, reports)
    for step in undone_first:  # its undo overtook its completion: what waits for it never starts
        assert not {waiting for waiting, after in plan if step in after} & set(history)


def test_a_registration_undone_reaches_every_step_built_on_it_latest_first():
    ours = {"tax.register", "tax.grant_invoices", "tax.clear"}
    started = {"tax.register": "completed", "tax.grant_invoices": "completed"}
    assert decisions.undone_with(ESTABLISHMENT, "registration.establish", ours, started, ours) == [
        ("tax.grant_invoices", decisions.UNDO), ("tax.register", decisions.UNDO)]
    # the bank waits for seals too: seals undone, the account goes; registration's other steps stay
    assert decisions.undone_with(ESTABLISHMENT, "seal_carving.carve", {"bank_account.open"},
                                 {"bank_account.open": "awaiting_review"}, ()) == [
        ("bank_account.open", decisions.UNDO)]
    assert decisions.undone_with(ESTABLISHMENT, "seal_carving.carve", ours, started, ours) == [
        ("tax.grant_invoices", decisions.UNDO)]
    assert decisions.undone_with(ESTABLISHMENT, "tax.register", {"seal_carving.carve"},
                                 {"seal_carving.carve": "completed"}, {"seal_carving.carve"}) == []


def test_only_an_undo_announced_rejected_cascades():
    assert decisions.cascades(StepStatus.rejected, True)
    assert not decisions.cascades(StepStatus.rejected, False)  # a refusal: nothing was built on it
    assert not decisions.cascades(StepStatus.cancelled, True)  # a withdrawal: every department hears it


def test_an_undone_fact_is_never_revived():
    assert decisions.folds_into("completed", "rejected", undoes=True)
    assert not decisions.folds_into("rejected", "completed")
    assert not decisions.folds_into("rejected", "rejected", undoes=True)


def test_a_withdrawal_is_refused_only_once_the_pivot_completed():
    assert decisions.on_withdrawal_request(None, withdrawn=False) == decisions.ACCEPT  # before its plan came
    for open_or_undone in ("in_progress", "awaiting_review", "awaiting_applicant", "rejected", "cancelled"):
        assert decisions.on_withdrawal_request(open_or_undone, withdrawn=False) == decisions.ACCEPT
    assert decisions.on_withdrawal_request("completed", withdrawn=False) == decisions.REFUSE
    assert decisions.on_withdrawal_request(None, withdrawn=True) is None  # answered already


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["request", "pivot_turn", "review_decision"]), max_size=12))
def test_a_withdrawal_racing_the_pivot_is_never_a_mix(arrivals):
    """The pivot's department, under its case lock, sees requests (duplicates among them) and the
    pivot's turn (its plan, a staff decision) in any order: either it accepted once and the pivot
    never completed, or it refused every request, each after the pivot completed."""
    pivot, withdrawn, answers = None, False, []
    for arrival in arrivals:
        if arrival == "request":
            answer = decisions.on_withdrawal_request(pivot, withdrawn)
            if answer is not None:
                answers.append((answer, pivot))
            withdrawn = withdrawn or answer == decisions.ACCEPT
        elif pivot is None:  # its turn came, or staff decided it: it runs unless withdrawn
            pivot = "completed" if decisions.on_turn(withdrawn) == decisions.RUN else "cancelled"
    accepted = [a for a in answers if a[0] == decisions.ACCEPT]
    assert len(accepted) <= 1
    if accepted:
        assert pivot != "completed" and answers == accepted
    assert all(status == "completed" for answer, status in answers if answer == decisions.REFUSE)
    if "request" in arrivals:
        assert answers  # every case with a request has its answer
