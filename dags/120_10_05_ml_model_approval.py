"""ML model approval workflow: a candidate model is reviewed, A/B tested, promoted through a gate, and rolled back if it fails live."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airgate import (
    AirgateApprovalOperator,
    AirgateBranchOperator,
    count_outcome,
    decision_record_of,
    local_db,
)

#: How a visitor's features decide whether they buy when offered: the world today, and the one the first
#: production model learned last year. A model trained on last year's data ranks today's visitors worse.
WORLD = (1.4, -1.1, 0.8, 0.0)
LAST_YEAR = (1.4, 0.3, -0.2, 0.9)
BIAS = -0.3
#: Where live traffic moves as conf `live_drift` goes from 0 to 1 (at 1 the first two features flip).
DRIFT = (-2.8, 2.2, 0.0, 0.0)
TRAIN_ROWS, HOLDOUT_ROWS, LIVE_ROWS = 800, 1000, 1000
#: The chance a visitor buys, by (offered by the model, would buy): a better model offers to the right people.
CONVERSION = {(True, True): 0.6, (True, False): 0.03, (False, True): 0.05, (False, False): 0.01}
#: How much lower than on the holdout the production model's live AUC may be before it is rolled back.
LIVE_AUC_TOLERANCE = 0.1
SIGNIFICANCE = 0.05

DOC = f"""
# ML model approval workflow

A propensity model decides which visitors get an offer. A new candidate goes to production only after people
have reviewed its figures twice — on a holdout, then on real traffic — and the previous model stays one step away.

1. `load_champion` reads the production model from the **model registry** (a SQLite file in Airflow's home,
   one entry per model name, conf `model`); the first run of a model registers a baseline trained on last
   year's data as v1. `train_candidate` trains a logistic regression on today's data (generated from `seed`,
   pure Python) and registers it as the next version.
2. **Model performance review**: `review_performance` scores both models on the same holdout — accuracy, AUC
   and calibration error (ECE, 10 bins) — and renders them side by side as Markdown.
3. **A/B test approval**: `approve_ab_test` (`AirgateApprovalOperator`, at most 4 hours; unanswered is *Reject*)
   shows that table; the reviewer sets the candidate's `traffic_share` in the form. Policy `ml-ab-test`: one
   reviewer other than the requester.
4. `run_ab_test` records the split in the registry (the candidate is the challenger) and simulates `ab_users`
   visitors, each assigned to an arm at random and offered what that arm's model predicts; it computes each
   arm's conversion, the lift and a two-proportion z-test's p-value (significant below {SIGNIFICANCE}).
5. **Production deployment gate**: `approve_promotion` (`AirgateBranchOperator`, at most 4 hours; unanswered is
   *Hold*) shows the A/B result with the holdout figures. Policy `ml-promotion`: a reviewer, then a release
   manager. **Ship** runs `promote_candidate`: in one registry transaction the candidate becomes production and
   the champion is kept as `previous`. **Hold** (a reason is required) runs `end_ab_test`: the challenger is
   withdrawn and the champion serves all traffic again.
6. **Rollback capability**: `post_promotion_check` scores the model now in production on live traffic (conf
   `live_drift` moves it away from the training data); an AUC more than {LIVE_AUC_TOLERANCE} below the approved
   holdout AUC fails the check (the task fails; the run still succeeds, its rollback having done the job), and
   `roll_back_promotion` restores `previous` as production.
7. `record_model_decision` records, whatever happened, the outcome (`not_tested`, `held`, `promoted`,
   `rolled_back`), the figures people decided on, who decided, and the registry's state afterwards.

## Try it
Trigger `120_10_05_ml_model_approval` as alice with `{{"model": "propensity_demo"}}`. As bob approve the A/B
test in **Approvals** (set `traffic_share`), then *Ship* as bob and as carol: the candidate is promoted. Trigger
with `{{"model": "propensity_drift", "live_drift": 1}}` and ship: the live check fails and v1 is back in
production. With `{{"ab_users": 300}}` the A/B test is too small to be significant: *Hold* it.
"""


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _predict(weights: Sequence[float], x: Sequence[float]) -> float:
    return _sigmoid(weights[0] + sum(w * v for w, v in zip(weights[1:], x, strict=True)))


def _sample(rng: random.Random, rows: int, world: Sequence[float]) -> list[tuple[list[float], int]]:
    """Visitors' features and whether they would buy, as ``world`` decides."""
    data = []
    for _ in range(rows):
        x = [rng.gauss(0, 1) for _ in world]
        data.append((x, int(rng.random() < _predict([BIAS, *world], x))))
    return data


def _fit(data: list[tuple[list[float], int]], epochs: int = 100, rate: float = 0.5) -> list[float]:
    """Logistic regression by batch gradient descent: [bias, weight per feature]."""
    weights = [0.0] * (len(data[0][0]) + 1)
    for _ in range(epochs):
        gradient = [0.0] * len(weights)
        for x, y in data:
            error = _predict(weights, x) - y
            for i, value in enumerate([1.0, *x]):
                gradient[i] += error * value
        weights = [w - rate * g / len(data) for w, g in zip(weights, gradient, strict=True)]
    return [round(w, 4) for w in weights]


def _evaluate(weights: Sequence[float], data: list[tuple[list[float], int]]) -> dict[str, float]:
    """Accuracy at 0.5, AUC (rank statistic, ties averaged) and expected calibration error over 10 bins."""
    scored = sorted((_predict(weights, x), y) for x, y in data)
    positives = sum(y for _, y in scored)
    rank_sum, i = 0.0, 0
    while i < len(scored):
        j = i
        while j < len(scored) and scored[j][0] == scored[i][0]:
            j += 1
        rank_sum += (i + j + 1) / 2 * sum(y for _, y in scored[i:j])
        i = j
    auc = (rank_sum - positives * (positives + 1) / 2) / (positives * (len(scored) - positives))
    bins: dict[int, list[tuple[float, int]]] = {}
    for p, y in scored:
        bins.setdefault(min(int(p * 10), 9), []).append((p, y))
    ece = sum(abs(sum(p for p, _ in b) - sum(y for _, y in b)) for b in bins.values()) / len(scored)
    return {
        "accuracy": round(sum((p >= 0.5) == bool(y) for p, y in scored) / len(scored), 4),
        "auc": round(auc, 4),
        "ece": round(ece, 4),
    }


def _z_test(users_a: int, converted_a: int, users_b: int, converted_b: int) -> float:
    """Two-sided p-value of a two-proportion z-test."""
    pooled = (converted_a + converted_b) / (users_a + users_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / users_a + 1 / users_b))
    z = (converted_b / users_b - converted_a / users_a) / spread
    return math.erfc(abs(z) / math.sqrt(2))


def _registry() -> AbstractContextManager[sqlite3.Connection]:
    """The model registry in one transaction: committed when the block ends, rolled back when it raises."""
    return local_db(
        "120_10_05",
        "registry.db",
        "CREATE TABLE IF NOT EXISTS versions (model TEXT, version INTEGER, weights TEXT, run_id TEXT,"
        " PRIMARY KEY (model, version))",
        # What serves traffic: production, the model it replaced (the rollback target), an A/B challenger.
        "CREATE TABLE IF NOT EXISTS serving (model TEXT PRIMARY KEY, production INTEGER, previous INTEGER,"
        " challenger INTEGER, challenger_share REAL)",
    )


def _serving(db: sqlite3.Connection, model: str) -> dict[str, Any]:
    production, previous, challenger, share = db.execute(
        "SELECT production, previous, challenger, challenger_share FROM serving WHERE model = ?", (model,)
    ).fetchone()
    return {
        "production": production,
        "previous": previous,
        "challenger": challenger,
        "challenger_share": share,
    }


def _weights(db: sqlite3.Connection, model: str, version: int) -> list[float]:
    (weights,) = db.execute(
        "SELECT weights FROM versions WHERE model = ? AND version = ?", (model, version)
    ).fetchone()
    loaded: list[float] = json.loads(weights)
    return loaded


@dag(
    dag_id="120_10_05_ml_model_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "real-world", "advanced", "success"],
    params={
        "model": Param("propensity", type="string", pattern="^[a-z0-9_]+$", description="Registry name"),
        "seed": Param(12, type="integer", description="Seed of the generated data and traffic"),
        "ab_users": Param(
            4000, type="integer", minimum=100, maximum=50000, description="Visitors in the A/B test"
        ),
        "live_drift": Param(
            0.0, type="number", minimum=0, maximum=1, description="How far live traffic moved from training"
        ),
    },
)
def ml_model_approval() -> None:
    @task
    def load_champion(params: dict[str, Any], run_id: str) -> dict[str, Any]:
        model = params["model"]
        with _registry() as db:
            if db.execute("SELECT 1 FROM serving WHERE model = ?", (model,)).fetchone() is None:
                baseline = _fit(_sample(random.Random(f"{params['seed']}-last-year"), TRAIN_ROWS, LAST_YEAR))
                db.execute("INSERT INTO versions VALUES (?, 1, ?, ?)", (model, json.dumps(baseline), run_id))
                db.execute("INSERT INTO serving VALUES (?, 1, NULL, NULL, 0)", (model,))
            version = _serving(db, model)["production"]
            return {"version": version, "weights": _weights(db, model, version)}

    @task
    def train_candidate(champion: dict[str, Any], params: dict[str, Any], run_id: str) -> dict[str, Any]:
        weights = _fit(_sample(random.Random(f"{params['seed']}-train"), TRAIN_ROWS, WORLD))
        with _registry() as db:
            (latest,) = db.execute(
                "SELECT MAX(version) FROM versions WHERE model = ?", (params["model"],)
            ).fetchone()
            db.execute(
                "INSERT INTO versions VALUES (?, ?, ?, ?)",
                (params["model"], latest + 1, json.dumps(weights), run_id),
            )
        return {"version": latest + 1, "weights": weights}

    @task
    def review_performance(
        candidate: dict[str, Any], champion: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        holdout = _sample(random.Random(f"{params['seed']}-holdout"), HOLDOUT_ROWS, WORLD)
        metrics = {
            "champion": _evaluate(champion["weights"], holdout),
            "candidate": _evaluate(candidate["weights"], holdout),
        }
        labels = {"accuracy": "accuracy", "auc": "AUC", "ece": "calibration error (ECE, lower is better)"}
        rows = "\n".join(
            f"| {label} | {metrics['champion'][name]:.3f} | {metrics['candidate'][name]:.3f} | "
            f"{metrics['candidate'][name] - metrics['champion'][name]:+.3f} |"
            for name, label in labels.items()
        )
        champ, cand = f"v{champion['version']}", f"v{candidate['version']}"
        markdown = (
            f"**{params['model']}**: candidate {cand} against production {champ}, on the same holdout of "
            f"{HOLDOUT_ROWS} visitors.\n\n"
            f"| metric | production {champ} | candidate {cand} | change |\n|---|---|---|---|\n{rows}"
        )
        return {
            "subject": f"Start an A/B test of {params['model']} {cand} against {champ}?",
            "metrics": metrics,
            "markdown": markdown,
        }

    approve_ab_test = AirgateApprovalOperator(
        task_id="approve_ab_test",
        subject="{{ ti.xcom_pull(task_ids='review_performance')['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='review_performance')['markdown'] }}",
        params={
            "traffic_share": Param(
                0.2,
                type="number",
                minimum=0.05,
                maximum=0.5,
                description="Share of visitors the candidate serves",
            )
        },
        response_timeout=timedelta(hours=4),
        defaults="Reject",
    )

    @task
    def run_ab_test(
        candidate: dict[str, Any], champion: dict[str, Any], decision: dict[str, Any], params: dict[str, Any]
    ) -> dict[str, Any]:
        share = decision["params_input"]["traffic_share"]
        with _registry() as db:
            db.execute(
                "UPDATE serving SET challenger = ?, challenger_share = ? WHERE model = ?",
                (candidate["version"], share, params["model"]),
            )
        rng = random.Random(f"{params['seed']}-ab")
        arms = {"champion": [0, 0], "candidate": [0, 0]}  # visitors, conversions
        for x, would_buy in _sample(rng, params["ab_users"], WORLD):
            arm = "candidate" if rng.random() < share else "champion"
            offered = _predict((candidate if arm == "candidate" else champion)["weights"], x) >= 0.5
            arms[arm][0] += 1
            arms[arm][1] += rng.random() < CONVERSION[(offered, bool(would_buy))]
        rates = {arm: converted / users for arm, (users, converted) in arms.items()}
        p_value = _z_test(*arms["champion"], *arms["candidate"])
        lift = rates["candidate"] - rates["champion"]
        verdict = "significant" if p_value < SIGNIFICANCE else "not significant"
        markdown = (
            f"**A/B test** on {params['ab_users']} visitors, {share:.0%} to candidate v{candidate['version']}:\n\n"
            "| arm | visitors | conversions | rate |\n|---|---|---|---|\n"
            + "\n".join(
                f"| {arm} | {users} | {converted} | {rates[arm]:.2%} |"
                for arm, (users, converted) in arms.items()
            )
            + f"\n\nLift {lift:+.2%} (p = {p_value:.4f}, {verdict} at {SIGNIFICANCE})."
        )
        return {
            "traffic_share": share,
            "arms": {
                arm: {"visitors": u, "conversions": c, "rate": round(rates[arm], 4)}
                for arm, (u, c) in arms.items()
            },
            "lift": round(lift, 4),
            "p_value": round(p_value, 4),
            "significant": p_value < SIGNIFICANCE,
            "markdown": markdown,
        }

    approve_promotion = AirgateBranchOperator(
        task_id="approve_promotion",
        subject="Ship {{ params.model }} v{{ ti.xcom_pull(task_ids='train_candidate')['version'] }} to production?",
        body="{{ ti.xcom_pull(task_ids='run_ab_test')['markdown'] }}\n\n"
        "{{ ti.xcom_pull(task_ids='review_performance')['markdown'] }}",
        options=["Ship", "Hold"],
        options_mapping={"Ship": "promote_candidate", "Hold": "end_ab_test"},
        response_timeout=timedelta(hours=4),
        defaults="Hold",
    )

    @task
    def promote_candidate(candidate: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        with _registry() as db:  # one transaction: the candidate serves and the champion stays the way back
            champion = _serving(db, params["model"])["production"]
            db.execute(
                "UPDATE serving SET production = ?, previous = ?, challenger = NULL, challenger_share = 0"
                " WHERE model = ?",
                (candidate["version"], champion, params["model"]),
            )
            return _serving(db, params["model"])

    @task
    def end_ab_test(params: dict[str, Any]) -> dict[str, Any]:
        with _registry() as db:
            db.execute(
                "UPDATE serving SET challenger = NULL, challenger_share = 0 WHERE model = ?",
                (params["model"],),
            )
            return _serving(db, params["model"])

    # A failed live check is the answer, not a glitch: the rollback, not a retry, handles it.
    @task(retries=0)
    def post_promotion_check(performance: dict[str, Any], **context: Any) -> dict[str, Any]:
        params = context["params"]
        live_world = [w + params["live_drift"] * d for w, d in zip(WORLD, DRIFT, strict=True)]
        live = _sample(random.Random(f"{params['seed']}-live"), LIVE_ROWS, live_world)
        with _registry() as db:
            production = _serving(db, params["model"])["production"]
            measured = _evaluate(_weights(db, params["model"], production), live)
        approved_auc = performance["metrics"]["candidate"]["auc"]
        check = {
            "version": production,
            "live": measured,
            "approved_auc": approved_auc,
            "passed": measured["auc"] >= approved_auc - LIVE_AUC_TOLERANCE,
        }
        if not check["passed"]:
            # A failed task pushes no return value: keep the figures for the rollback and the record.
            context["ti"].xcom_push(key="return_value", value=check)
            raise AirflowFailException(f"live AUC {measured['auc']} against {approved_auc} approved: {check}")
        return check

    @task(trigger_rule="one_failed")
    def roll_back_promotion(params: dict[str, Any], **context: Any) -> dict[str, Any]:
        check = context["ti"].xcom_pull(task_ids="post_promotion_check")
        if not check or check["passed"]:
            raise AirflowSkipException("the live check did not fail: nothing to roll back")
        with _registry() as db:
            withdrawn = _serving(db, params["model"])
            db.execute(
                "UPDATE serving SET production = previous, previous = NULL WHERE model = ?",
                (params["model"],),
            )
            return {"withdrawn": withdrawn["production"], **_serving(db, params["model"])}

    @task(trigger_rule="all_done")
    def record_model_decision(
        candidate: dict[str, Any], champion: dict[str, Any], **context: Any
    ) -> dict[str, Any]:
        ti, params = context["ti"], context["params"]
        ab_gate, promotion_gate = (
            decision_record_of(ti, t) for t in ("approve_ab_test", "approve_promotion")
        )
        ab_test = ti.xcom_pull(task_ids="run_ab_test")
        if ab_gate["option"] != "Approve":
            outcome = "not_tested"
        elif promotion_gate["option"] != "Ship":
            outcome = "held"
        elif ti.xcom_pull(task_ids="roll_back_promotion"):
            outcome = "rolled_back"
        else:
            outcome = "promoted"
        count_outcome("model_promotion", outcome, dag_id=ti.dag_id)
        with _registry() as db:
            serving = _serving(db, params["model"])
        return {
            "model": params["model"],
            "candidate": candidate["version"],
            "champion": champion["version"],
            "outcome": outcome,
            "ab_test": {k: ab_test[k] for k in ("traffic_share", "lift", "p_value", "significant")}
            if ab_test
            else None,
            "live_check": ti.xcom_pull(task_ids="post_promotion_check"),
            "decided_by": {
                gate["task_id"]: [f"{d['user']}: {d['option']}" for d in gate["deciders"]]
                for gate in (ab_gate, promotion_gate)
            },
            "serving": serving,
        }

    champion = load_champion()
    candidate = train_candidate(champion)
    performance = review_performance(candidate, champion)
    performance >> approve_ab_test
    ab_test = run_ab_test(candidate, champion, approve_ab_test.output)
    ab_test >> approve_promotion
    promoted, held = promote_candidate(candidate), end_ab_test()
    approve_promotion >> [promoted, held]
    check = post_promotion_check(performance)
    promoted >> check
    rolled_back = roll_back_promotion()
    check >> rolled_back
    [rolled_back, held] >> record_model_decision(candidate, champion)


ml_model_approval()
