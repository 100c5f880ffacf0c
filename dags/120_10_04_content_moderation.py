"""Content moderation: automated flagging fills a review queue; decisions are applied and feed the flagging."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateHITLOperator, approval_status, local_db

#: What automated flagging weighs before any feedback: each listed word a post contains, each link, shouting.
WORD_WEIGHTS = {
    "free": 1.0,
    "click": 1.0,
    "guaranteed": 1.0,
    "winner": 1.5,
    "crypto": 1.5,
    "scam": 2.0,
    "idiot": 2.5,
}
LINK_WEIGHT = 1.0
CAPS_WEIGHT = 1.5
#: The share of capital letters from which a post counts as shouting.
CAPS_RATIO = 0.6
#: A post scoring this or more enters the review queue (before feedback moves it) ...
THRESHOLD = 2.5
#: ... and from this score, the senior moderators' queue.
SEVERE_FROM = 5.0
#: How far one reviewed decision moves the weight of each listed word its post contained (Remove up, Keep down).
WORD_STEP = 0.25
#: How far the reviewers' balance moves the threshold: all kept raises it by this much, all removed lowers it.
THRESHOLD_STEP = 1.0
#: The two queues and how many minutes Airflow waits for each of their decisions (then it removes the post).
GROUPS = {"routine": 30, "severe": 60}

CLEAN = [
    "Lovely walk by the river this morning",
    "Does anyone know a good bakery near the station",
    "Our team shipped the new release today",
    "Reading a great book about old gardens",
    "The match last night was close until the end",
    "Looking for tips on learning the guitar",
]

DOC = f"""
# Content moderation pipeline

Many small decisions, taken by people in a **review queue**, steered by automated flagging that learns from
them.

1. `generate_posts` writes the run's batch of posts (`posts` of them from `seed`: small generated data, some
   with spam words, links or shouting).
2. **Feedback loop** — `learn_from_feedback` reads every earlier run's decisions on the same `community`'s posts
   from the `feedback` table of the moderation store (a SQLite file in Airflow's home) and adjusts the flagging: each *Remove* of a post raises the
   weight of every listed word in it by {WORD_STEP}, each *Keep* lowers it (within 0 and twice its base); the
   threshold rises by up to {THRESHOLD_STEP} when reviewers kept most flagged posts and falls when they removed
   them. What changed is in `moderation_report`'s `adjustments`.
3. **Automated flagging** — `flag_posts` scores each post: the weights of the listed words it contains
   ({", ".join(WORD_WEIGHTS)}), {LINK_WEIGHT} per link, {CAPS_WEIGHT} when {CAPS_RATIO:.0%} of its letters are
   capitals. Below the threshold ({THRESHOLD} before feedback) it is published at once; from it, it enters the
   queue; from {SEVERE_FROM}, the senior queue. The request shows the post and its score, feature by feature.
4. **Human review queue** — `review_routine` and `review_severe` are *mapped* `AirgateHITLOperator`s: one
   approval per flagged post (*Keep* / *Remove*), waiting without a worker slot. Reviewers open **Review queue**
   in Airflow's navigation: they claim an item (nobody else decides it meanwhile; the claim expires), decide with
   the keyboard (`j`/`k` move, `a` keeps, `r` removes with a reason, `x` selects), or select many and decide them
   at once with one reason — each item is still its own vote, audited on its own, and an item one may not decide
   is refused alone. Nobody answering within {GROUPS["routine"]} (severe: {GROUPS["severe"]}) minutes removes the
   post.
5. **Action handling** — `apply_decisions` applies each decision to the moderation store's `posts` table
   (published or removed, by whom and why) and reads back what the store now holds for the run;
   `record_feedback` writes each person's decision to `feedback`, which the next run reads.

Policies `content-moderation` (bob or carol decides a routine post; *Remove* needs a reason) and
`content-moderation-severe` (carol only) in `bridge/examples/reference-dags.policies.yaml`; the requester never
decides, and the policies' `options:` say what *Keep* (approve) and *Remove* (reject) mean.

## Try it
Trigger `120_10_04_content_moderation` as alice. As bob open **Review queue**: move with `j`/`k`, keep with `a`,
remove with `r` and a reason, or select posts with `x` and decide them together. Read `moderation_report`, then
trigger again: the second run's `adjustments` show what the first run's decisions taught the flagging. A run
with another `community` (conf `{{"community": "gardening"}}`) learns from that community's decisions only.
"""


def _store() -> AbstractContextManager[sqlite3.Connection]:
    """The moderation store in one transaction: committed when the block ends, rolled back when it raises."""
    return local_db(
        "120_10_04",
        "moderation.db",
        "CREATE TABLE IF NOT EXISTS posts (run_id TEXT, post_id TEXT, author TEXT, text TEXT, score REAL,"
        " state TEXT, decided_by TEXT, reason TEXT, PRIMARY KEY (run_id, post_id))",
        "CREATE TABLE IF NOT EXISTS feedback (community TEXT, run_id TEXT, post_id TEXT, words TEXT,"
        " score REAL, decision TEXT, reviewer TEXT, reason TEXT, PRIMARY KEY (run_id, post_id))",
    )


def request_of(post: dict[str, Any]) -> dict[str, Any]:
    """What one flagged post's approval asks."""
    return {"subject": post["subject"], "body": post["body"]}


def _reviews(ti: Any, group: str, posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each post of a queue with its decision: the option Airflow resumed with, and who decided and why."""
    task_id = f"review_{group}"
    decisions = ti.xcom_pull(task_ids=task_id, map_indexes=list(range(len(posts)))) if posts else []
    reviews = []
    for index, (post, decision) in enumerate(zip(posts, decisions, strict=True)):
        status = approval_status(ti.dag_id, ti.run_id, task_id, map_index=index)
        deciders = status["deciders"] if status else []
        # Nobody behind the answer: Airflow's response_timeout took the default.
        by_person = decision["responded_by_user"] is not None and bool(deciders)
        reviews.append(
            {
                "post_id": post["post_id"],
                "words": post["words"],
                "score": post["score"],
                "option": decision["chosen_options"][0],
                "reviewer": deciders[-1]["user"] if by_person else None,
                "reason": deciders[-1]["reason"] if by_person else None,
            }
        )
    return reviews


@dag(
    dag_id="120_10_04_content_moderation",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "real-world", "intermediate", "success"],
    params={
        "posts": Param(12, type="integer", minimum=1, maximum=100, description="Posts in the batch"),
        "seed": Param(1, type="integer", description="Seed of the generated posts"),
        "community": Param(
            "general",
            type="string",
            minLength=1,
            description="Whose posts: each community's decisions teach its own flagging",
        ),
    },
)
def content_moderation() -> None:
    @task
    def generate_posts(params: dict[str, Any]) -> list[dict[str, Any]]:
        rng = random.Random(params["seed"])
        posts = []
        for n in range(params["posts"]):
            text = rng.choice(CLEAN)
            if rng.random() < 0.5:
                text += " " + " ".join(rng.sample(sorted(WORD_WEIGHTS), rng.randint(1, 3)))
            if rng.random() < 0.3:
                text += f" https://example.com/offer/{rng.randrange(1000)}"
            if rng.random() < 0.2:
                text = text.upper()
            posts.append(
                {
                    "post_id": f"p-{params['seed']}-{n:02d}",
                    "author": f"user{rng.randrange(100)}",
                    "text": text,
                }
            )
        return posts

    @task
    def learn_from_feedback(params: dict[str, Any], run_id: str) -> dict[str, Any]:
        with _store() as db:
            rows = db.execute(
                "SELECT words, decision FROM feedback WHERE community = ? AND run_id != ?",
                (params["community"], run_id),
            ).fetchall()
        decided = [(set(json.loads(words)), decision) for words, decision in rows]
        kept = sum(1 for _, decision in decided if decision == "Keep")
        removed = len(decided) - kept
        weights = {}
        for word, base in WORD_WEIGHTS.items():
            balance = sum(1 if decision == "Remove" else -1 for words, decision in decided if word in words)
            weights[word] = round(min(2 * base, max(0.0, base + WORD_STEP * balance)), 2)
        threshold = round(
            THRESHOLD + (THRESHOLD_STEP * (kept - removed) / len(decided) if decided else 0.0), 2
        )
        return {
            "community": params["community"],
            "weights": weights,
            "threshold": threshold,
            "feedback": {"decisions": len(decided), "kept": kept, "removed": removed},
            "adjustments": {
                "threshold": {"from": THRESHOLD, "to": threshold},
                "weights": {
                    w: {"from": WORD_WEIGHTS[w], "to": v} for w, v in weights.items() if v != WORD_WEIGHTS[w]
                },
            },
        }

    @task
    def flag_posts(posts: list[dict[str, Any]], model: dict[str, Any]) -> list[dict[str, Any]]:
        weights, threshold = model["weights"], model["threshold"]
        flagged = []
        for post in posts:
            tokens = set(re.findall(r"[a-z]+", post["text"].lower()))
            words = sorted(w for w in weights if w in tokens)
            links = post["text"].lower().count("https://")
            letters = [c for c in post["text"] if c.isalpha()]
            caps = sum(c.isupper() for c in letters) / len(letters) if letters else 0.0
            features = [(f"word `{w}`", weights[w]) for w in words]
            features += [(f"{links} link(s)", LINK_WEIGHT * links)] if links else []
            features += [(f"capitals {caps:.0%}", CAPS_WEIGHT)] if caps >= CAPS_RATIO else []
            score = round(sum(weight for _, weight in features), 2)
            queue = None if score < threshold else "severe" if score >= SEVERE_FROM else "routine"
            table = "\n".join(f"| {name} | {weight:.2f} |" for name, weight in features)
            flagged.append(
                {
                    **post,
                    "words": words,
                    "score": score,
                    "queue": queue,
                    "subject": f"Keep post {post['post_id']} by {post['author']}? (score {score:.2f})",
                    "body": f"> {post['text']}\n\n| feature | weight |\n|---|---|\n{table}\n\n"
                    f"**Score {score:.2f}** against threshold {threshold:.2f} (senior queue from {SEVERE_FROM}).",
                }
            )
        return flagged

    @task
    def queue(flagged: list[dict[str, Any]], group: str) -> list[dict[str, Any]]:
        """The flagged posts of one review queue."""
        return [post for post in flagged if post["queue"] == group]

    @task(trigger_rule="none_failed")
    def apply_decisions(flagged: list[dict[str, Any]], **context: Any) -> dict[str, Any]:
        ti, run_id = context["ti"], context["run_id"]
        reviews = {
            r["post_id"]: r
            for group in GROUPS
            for r in _reviews(ti, group, [p for p in flagged if p["queue"] == group])
        }
        rows = []
        for post in flagged:
            review = reviews.get(post["post_id"])
            rows.append(
                {
                    **post,
                    "run_id": run_id,
                    "state": "removed" if review and review["option"] == "Remove" else "published",
                    "decided_by": "auto" if review is None else review["reviewer"] or "timeout",
                    "reason": review["reason"] if review else None,
                }
            )
        with _store() as db:
            db.executemany(
                "INSERT OR REPLACE INTO posts VALUES"
                " (:run_id, :post_id, :author, :text, :score, :state, :decided_by, :reason)",
                rows,
            )
            stored = db.execute(
                "SELECT state, post_id FROM posts WHERE run_id = ? ORDER BY post_id", (run_id,)
            ).fetchall()
        return {
            "reviews": list(reviews.values()),
            "store": {
                s: [post_id for state, post_id in stored if state == s] for s in ("published", "removed")
            },
        }

    @task
    def record_feedback(applied: dict[str, Any], params: dict[str, Any], run_id: str) -> int:
        # Only people's decisions teach the flagging; a timeout's default says nothing about the post.
        decided = [r for r in applied["reviews"] if r["reviewer"] is not None]
        with _store() as db:
            db.executemany(
                "INSERT OR REPLACE INTO feedback VALUES"
                " (:community, :run_id, :post_id, :words, :score, :option, :reviewer, :reason)",
                [
                    {**r, "community": params["community"], "run_id": run_id, "words": json.dumps(r["words"])}
                    for r in decided
                ],
            )
        return len(decided)

    @task
    def moderation_report(
        model: dict[str, Any], flagged: list[dict[str, Any]], applied: dict[str, Any], recorded: int
    ) -> dict[str, Any]:
        reviews = applied["reviews"]
        return {
            "community": model["community"],
            "posts": len(flagged),
            "auto_published": sum(1 for p in flagged if p["queue"] is None),
            "queued": {group: sum(1 for p in flagged if p["queue"] == group) for group in GROUPS},
            "kept": sum(1 for r in reviews if r["option"] == "Keep"),
            "removed": sum(1 for r in reviews if r["option"] == "Remove"),
            "timed_out": sum(1 for r in reviews if r["reviewer"] is None),
            "store": applied["store"],
            "threshold": model["threshold"],
            "feedback_read": model["feedback"],
            "adjustments": model["adjustments"],
            "feedback_recorded": recorded,
        }

    model = learn_from_feedback(run_id="{{ run_id }}")
    flagged = flag_posts(generate_posts(), model)
    reviews = [
        AirgateHITLOperator.partial(
            task_id=f"review_{group}",
            options=["Keep", "Remove"],
            defaults=["Remove"],
            response_timeout=timedelta(minutes=minutes),
        ).expand_kwargs(queue.override(task_id=f"{group}_queue")(flagged, group=group).map(request_of))
        for group, minutes in GROUPS.items()
    ]
    applied = apply_decisions(flagged)
    reviews >> applied
    moderation_report(model, flagged, applied, record_feedback(applied, run_id="{{ run_id }}"))


content_moderation()
