"""Fill a scratch database with a clinic at scale, for the benchmark (`make bench`):
100,000 published articles and 20,000 references by default.

Every article is what the workflow would have left: one frozen revision (number 1) with
its category, byline, cited references as CSL-JSON, HTML, table of contents and a real
content hash (`articles.snapshot.content_hash`); an approving review of exactly that hash
by one of several invented physicians, carrying their card; the revision published and
live; the working copy equal to it. Rows are written with bulk INSERTs only, a few
thousand articles per transaction. The circular links (article → live revision →
approval → revision) are written in one go with ids reserved up front: the foreign keys
are checked at commit, so no frozen row is ever updated and the database's guards
(articles 0004/0010/0011: frozen revision content, append-only records) have nothing to
refuse. The bodies are generated text, not pandoc output; nothing is written to the audit
trail (the benchmark reads, it does not walk the chain).

What it refuses, and why:

- **Any database with content** (an article, revision, review, reference, audit event or
  user account). What it writes looks like physicians' sign-offs, and reviews and
  revisions are records the site's own triggers keep for ever: on a clinic's database they
  could never be taken out again, only the whole database dropped. Generate into a new,
  empty, migrated database.
- **DEBUG off** without `--i-know`: production settings suggest a production database.

The invented staff accounts cannot log in (no usable password).
"""

from __future__ import annotations

import html
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article, AuditEvent, Category, Review, Revision, RevisionStatus
from articles.snapshot import content_hash
from references.models import Reference
from reviewers.models import Reviewer

USERNAME_PREFIX = "scale-"

CATEGORIES: list[tuple[str, list[str]]] = [
    ("Anxiety", ["anxiety", "panic attacks", "social anxiety", "worry"]),
    ("Depression", ["depression", "low mood", "postpartum depression", "grief"]),
    ("Sleep", ["insomnia", "sleep apnea", "nightmares", "shift work sleep"]),
    ("Relationships & Intimacy", ["intimacy", "couples conflict", "trust", "infidelity"]),
    ("Addiction", ["alcohol use", "opioid use", "gambling", "nicotine"]),
    ("Trauma & PTSD", ["PTSD", "childhood trauma", "flashbacks", "moral injury"]),
    ("ADHD", ["ADHD", "adult ADHD", "focus", "executive function"]),
    ("Bipolar Disorder", ["bipolar disorder", "mania", "mood cycling", "lithium"]),
    ("Eating Disorders", ["anorexia", "bulimia", "binge eating", "body image"]),
    ("OCD", ["OCD", "intrusive thoughts", "compulsions", "hoarding"]),
    ("Psychosis", ["schizophrenia", "psychosis", "hallucinations", "paranoia"]),
    ("Children & Teens", ["teen anxiety", "school refusal", "bullying", "self-harm"]),
]
TREATMENTS = [
    "cognitive behavioural therapy",
    "medication",
    "exposure therapy",
    "mindfulness",
    "family therapy",
    "EMDR",
    "group therapy",
    "exercise",
    "sleep hygiene",
    "peer support",
]
TITLE_FORMS = [
    "How {treatment} helps with {topic}",
    "What to know about {topic}",
    "{topic_cap}: signs, causes and treatment",
    "When to seek help for {topic}",
    "Living with {topic}: a guide for families",
    "{treatment_cap} for {topic}: what the research shows",
    "Myths and facts about {topic}",
    "Talking to your doctor about {topic}",
]
SENTENCES = [
    "Many people live with {topic} for years before they ask for help.",
    "Research on {treatment} for {topic} has grown quickly over the last decade [@{ref1}].",
    "Symptoms often change over time, and a careful assessment comes first.",
    "In trials, {treatment} reduced symptoms for most participants [@{ref2}, p. {page}].",
    "Family members can help by listening without judgement and keeping routines steady.",
    "Some people need more than one approach; combining treatments is common [@{ref1}; @{ref3}].",
    "Sleep, exercise and regular meals make every other treatment work better.",
    "A clinician can explain the options and what each asks of you.",
    "Relapse is not failure: most people who recover have setbacks on the way [@{ref3}].",
    "If you are in crisis, call your local emergency number or a crisis line now.",
]
HEADINGS = ["Understanding {topic}", "Causes and risk factors", "How {treatment} works",
            "Getting help", "Supporting someone you love"]  # fmt: skip
FAMILIES = ["Parker", "Nguyen", "Okafor", "Garcia", "Kowalski", "Rauer", "Brotto", "Lee",
            "Chen", "Haddad", "Silva", "Novak", "Ahmed", "Larsen", "Moreau", "Tanaka"]  # fmt: skip
GIVEN = ["Sarah J.", "Anna", "Minh", "Kate", "José", "Pieter", "John B.", "Ewa", "A. J.",
         "Lori A.", "Kim", "Søren", "Wei", "Amara", "Yusuf", "Ines"]  # fmt: skip
JOURNALS = ["The Journal of Sex Research", "JAMA Psychiatry", "The Lancet Psychiatry",
            "BMJ Open", "Sleep", "American Journal of Psychiatry", "Addiction",
            "Journal of Anxiety Disorders", "Psychological Medicine"]  # fmt: skip
PHYSICIANS = [
    ("Mark", "Hrymoc", "M.D.", "Chief Medical Officer", "General Psychiatry"),
    ("Ada", "Okonkwo", "M.D.", "Psychiatrist", "Child and Adolescent Psychiatry"),
    ("Lena", "Fischer", "D.O.", "Psychiatrist", "Addiction Psychiatry"),
    ("Ravi", "Menon", "M.D.", "Medical Director", "Sleep Medicine"),
    ("Clara", "Benítez", "Psy.D.", "Clinical Psychologist", "Clinical Psychology"),
    ("Tom", "Whitfield", "M.D.", "Psychiatrist", "Geriatric Psychiatry"),
    ("Yuki", "Sato", "M.D.", "Psychiatrist", "Consultation-Liaison Psychiatry"),
    ("Omar", "Haddad", "M.D.", "Psychiatrist", "Forensic Psychiatry"),
    ("Grace", "Mwangi", "PMHNP", "Psychiatric Nurse Practitioner", "Psychiatric Nursing"),
    ("Jonas", "Berg", "M.D.", "Psychiatrist", "General Psychiatry"),
    ("Priya", "Raman", "M.D.", "Psychiatrist", "Perinatal Psychiatry"),
    ("Daniel", "Cohen", "M.D.", "Psychiatrist", "Addiction Psychiatry"),
]
ATTESTATION = (
    "I have read this revision in full, including its references, and it is medically "
    "accurate and appropriate for the public."
)


@dataclass
class People:
    authors: list[Any]
    reviewers: list[Reviewer]


@dataclass
class Rows:
    articles: list[dict[str, Any]]
    revisions: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    cited: list[dict[str, Any]]
    contributors: list[dict[str, Any]]


Batch = Callable[[], Rows]


class Command(BaseCommand):
    help = (
        "Fill an EMPTY scratch database with published articles and references at scale "
        "(benchmarks only). Refuses a database with any content, and DEBUG off without "
        "--i-know."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--articles", type=int, default=100_000)
        parser.add_argument("--references", type=int, default=20_000)
        parser.add_argument("--reviewers", type=int, default=len(PHYSICIANS))
        parser.add_argument("--authors", type=int, default=25)
        parser.add_argument("--batch", type=int, default=2_000, help="Articles a transaction.")
        parser.add_argument("--seed", type=int, default=20_240_501)
        parser.add_argument(
            "--i-know",
            action="store_true",
            dest="i_know",
            help="Run with DEBUG off: you know this database is a scratch one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["i_know"]:
            raise CommandError(
                "Refusing with DEBUG off: this writes invented physicians' sign-offs, and the "
                "site's own triggers keep reviews and revisions for ever. On a scratch "
                "database, pass --i-know."
            )
        self._refuse_content()
        articles, references = options["articles"], options["references"]
        if articles < 1 or references < 1:
            raise CommandError("--articles and --references must be at least 1.")
        if not 1 <= options["reviewers"] <= len(PHYSICIANS):
            raise CommandError(f"--reviewers must be from 1 to {len(PHYSICIANS)}.")
        rng = random.Random(options["seed"])  # noqa: S311 - generated text, not secrets
        started = time.monotonic()
        now = timezone.now()

        with transaction.atomic():
            categories = self._categories()
            people = self._people(options["reviewers"], max(1, options["authors"]))
        refs = self._references(references, rng, people.authors[0])
        csl_by_ref = {ref.pk: ref.to_csl() for ref in refs}
        self._say(f"{len(refs):,} references", started)

        # Text and hashes for the next batch are made in a thread while this one is
        # written (the database works while Python waits for it).
        reserver = IdReserver()

        def build(start: int) -> Batch:
            count = min(options["batch"], articles - start)
            ids = (
                reserver.take(Article, count),
                reserver.take(Revision, count),
                reserver.take(Review, count),
            )
            return lambda: self._articles(
                start, count, articles, now, rng, categories, people, refs, csl_by_ref, ids
            )

        starts = list(range(0, articles, options["batch"]))
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(build(starts[0]))
            for number, start in enumerate(starts):
                rows = pending.result()
                if number + 1 < len(starts):
                    pending = pool.submit(build(starts[number + 1]))
                with transaction.atomic():
                    write_articles(rows)
                done = min(articles, start + options["batch"])
                self._say(f"{done:,} / {articles:,} articles", started)
        if connection.vendor == "postgresql":
            # Fresh statistics and visibility maps, as autovacuum would leave them (VACUUM
            # cannot run inside a transaction, as under the tests: ANALYZE alone there).
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            tables = [model._meta.db_table for model in (Article, Revision, Review, Reference)]
            tables += [
                Article.cited_references.through._meta.db_table,
                Revision.contributors.through._meta.db_table,
            ]
            with connection.cursor() as cursor:
                for table in tables:
                    cursor.execute(f'{command} "{table}"')
            self._say(command, started)
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {articles:,} published articles and {len(refs):,} references in "
                f"{time.monotonic() - started:.0f} s."
            )
        )

    # --- Refusals ---------------------------------------------------------------------------

    def _refuse_content(self) -> None:
        present = {
            label: model.objects.count()
            for label, model in (
                ("articles", Article),
                ("revisions", Revision),
                ("reviews", Review),
                ("references", Reference),
                ("audit events", AuditEvent),
                ("user accounts", get_user_model()),
            )
        }
        found = {label: n for label, n in present.items() if n}
        if found:
            listed = ", ".join(f"{n:,} {label}" for label, n in found.items())
            raise CommandError(
                f"Refusing: this database already holds {listed}. The generator writes "
                "invented physicians' sign-offs that the site's triggers keep for ever; it "
                "runs only on a new, empty, migrated database (createdb; manage.py migrate)."
            )

    # --- People, categories, references ------------------------------------------------------

    def _categories(self) -> list[Category]:
        return [
            Category.objects.create(
                name=name, slug=slugify(name), description=f"Articles about {topics[0]}."
            )
            for name, topics in CATEGORIES
        ]

    def _people(self, reviewers: int, authors: int) -> People:
        User = get_user_model()
        writer_group = Group.objects.filter(name="Writer").first()
        physician_group = Group.objects.filter(name="Physician reviewer").first()
        writers = []
        for n in range(authors):
            user = User(
                username=f"{USERNAME_PREFIX}writer{n:02d}",
                first_name=GIVEN[n % len(GIVEN)].split()[0],
                last_name=FAMILIES[n % len(FAMILIES)],
                email=f"{USERNAME_PREFIX}writer{n:02d}@clinic.invalid",
                is_staff=True,
            )
            user.set_unusable_password()
            user.save()
            if writer_group:
                user.groups.add(writer_group)
            writers.append(user)
        profiles = []
        for first, last, credentials, title, certification in PHYSICIANS[:reviewers]:
            slug = slugify(f"{first} {last}")
            user = User(
                username=f"{USERNAME_PREFIX}{slug}",
                first_name=first,
                last_name=last,
                email=f"{USERNAME_PREFIX}{slug}@clinic.invalid",
                is_staff=True,
            )
            user.set_unusable_password()
            user.save()
            if physician_group:
                user.groups.add(physician_group)
            profiles.append(
                Reviewer.objects.create(
                    user=user,
                    display_name=f"{first} {last}",
                    credentials=credentials,
                    title=title,
                    board_certifications=certification,
                    specialties=certification,
                    bio=f"{first} {last}, {credentials}, is board certified in {certification}.",
                    slug=slug,
                )
            )
        return People(authors=writers, reviewers=profiles)

    def _references(self, count: int, rng: random.Random, editor: Any) -> list[Reference]:
        made: list[Reference] = []
        for start in range(0, count, 5_000):
            batch = []
            for n in range(start, min(count, start + 5_000)):
                topic = rng.choice(rng.choice(CATEGORIES)[1])
                batch.append(
                    Reference(
                        key=f"ref{n:05d}",
                        type="article-journal",
                        authors=[
                            {"family": rng.choice(FAMILIES), "given": rng.choice(GIVEN)}
                            for _ in range(rng.randint(1, 4))
                        ],
                        issued_year=1990 + n % 35,
                        title=f"{rng.choice(TREATMENTS).capitalize()} for {topic}: study {n}",
                        container_title=rng.choice(JOURNALS),
                        volume=str(n % 90 + 1),
                        issue=str(n % 12 + 1),
                        pages=f"{n % 900 + 1}-{n % 900 + 12}",
                        doi=f"10.5555/scale.{n:05d}",
                        edited_by=editor,
                    )
                )
            made.extend(Reference.objects.bulk_create(batch, batch_size=1_000))
        return made

    # --- Articles -----------------------------------------------------------------------------

    def _articles(
        self,
        start: int,
        count: int,
        total: int,
        now: datetime,
        rng: random.Random,
        categories: list[Category],
        people: People,
        refs: list[Reference],
        csl_by_ref: dict[int, dict],
        ids: tuple[list[int], list[int], list[int]],
    ) -> Rows:
        """The rows of `count` articles from number `start` on (no database access: it
        runs in a thread)."""
        article_ids, revision_ids, review_ids = ids
        # Spread over eight years, oldest first: some approvals are past their interval,
        # as on a real site that has been running a while.
        span = timedelta(days=8 * 365)
        interval = settings.REVIEW_INTERVAL_DAYS
        topics_of = dict(CATEGORIES)
        articles: list[dict[str, Any]] = []
        revisions: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        cited: list[dict[str, Any]] = []
        contributors: list[dict[str, Any]] = []
        for offset in range(count):
            n = start + offset
            category = categories[rng.randrange(len(categories))]
            author = people.authors[rng.randrange(len(people.authors))]
            profile = people.reviewers[rng.randrange(len(people.reviewers))]
            published_at = now - span + span * (n / total) - timedelta(seconds=rng.random())
            created_at = published_at - timedelta(days=2, minutes=rng.randrange(600))
            approved_at = published_at - timedelta(minutes=rng.randrange(1, 600))
            chosen = rng.sample(refs, k=min(len(refs), rng.randint(3, 6)))
            text = self._text(n, rng, topics_of[category.name], chosen)
            csl = [csl_by_ref[ref.pk] for ref in chosen]
            author_name = f"{author.first_name} {author.last_name}"
            digest = content_hash(
                title=text["title"],
                summary=text["summary"],
                body=text["body"],
                references=csl,
                category={"id": category.pk, "name": category.name},
                author_name=author_name,
            )
            article_id, revision_id, review_id = (
                article_ids[offset],
                revision_ids[offset],
                review_ids[offset],
            )
            articles.append(
                {
                    "id": article_id,
                    "slug": f"{slugify(text['title'])[:100]}-{n}",
                    "category_id": category.pk,
                    "author_id": author.pk,
                    "title": text["title"],
                    "summary": text["summary"],
                    "body": text["body"],
                    "hero_image": "",
                    "hero_image_alt": "",
                    "unknown_citation_keys": [],
                    "working_hash": digest,
                    "live_revision_id": revision_id,
                    "first_published_at": published_at,
                    "version": 1,
                    "created_at": created_at,
                    "updated_at": published_at,
                }
            )
            revisions.append(
                {
                    "id": revision_id,
                    "article_id": article_id,
                    "number": 1,
                    "title": text["title"],
                    "summary": text["summary"],
                    "body": text["body"],
                    "category_id": category.pk,
                    "review_interval_days": category.review_interval_days or interval,
                    "author_name": author_name,
                    "images": [],
                    "references_csl": csl,
                    "hero_image": "",
                    "hero_image_alt": "",
                    "rendered_html": text["html"],
                    "references_html": text["references_html"],
                    "toc": text["toc"],
                    "word_count": len(text["body"].split()),
                    "citation_style": settings.CITATION_STYLE,
                    "content_hash": digest,
                    "change_note": "First publication.",
                    "created_by_id": author.pk,
                    "created_at": created_at,
                    "status": RevisionStatus.PUBLISHED.value,
                    "approval_id": review_id,
                    "publish_at": None,
                    "scheduled_by_id": None,
                    "published_at": published_at,
                }
            )
            reviews.append(
                {
                    "id": review_id,
                    "revision_id": revision_id,
                    "reviewer_id": profile.pk,
                    "signed_by_id": profile.user_id,
                    "decision": "approve",
                    "comment": "",
                    "attestation": ATTESTATION,
                    "conflict_of_interest": "",
                    "revision_hash": digest,
                    "reviewer_name": profile.display_name,
                    "reviewer_credentials": profile.credentials,
                    "reviewer_title": profile.title,
                    "reviewer_certifications": profile.board_certifications,
                    "reviewer_specialties": profile.specialties,
                    "reviewer_photo": "",
                    "reviewer_photo_alt": "",
                    "signed_by_username": f"{USERNAME_PREFIX}{profile.slug}",
                    "created_at": approved_at,
                }
            )
            cited.extend({"article_id": article_id, "reference_id": ref.pk} for ref in chosen)
            contributors.append({"revision_id": revision_id, "user_id": author.pk})
        return Rows(articles, revisions, reviews, cited, contributors)

    @staticmethod
    def _text(n: int, rng: random.Random, topics: list[str], refs: list[Reference]) -> dict:
        topic = rng.choice(topics)
        treatment = rng.choice(TREATMENTS)
        words = {
            "topic": topic,
            "topic_cap": topic[:1].upper() + topic[1:],
            "treatment": treatment,
            "treatment_cap": treatment[:1].upper() + treatment[1:],
        }
        title = rng.choice(TITLE_FORMS).format(**words)
        summary = (
            f"What {topic} is, how {treatment} and other treatments help, and when to ask "
            f"a clinician. Article {n}."
        )
        keys = [ref.key for ref in refs]
        md_parts, html_parts, toc = [], [], []
        for h, heading in enumerate(rng.sample(HEADINGS, k=3)):
            heading_text = heading.format(**words)
            anchor = f"section-{slugify(heading_text)}"
            toc.append({"level": 2, "id": anchor, "name": html.escape(heading_text)})
            md_parts.append(f"## {heading_text}")
            html_parts.append(f'<h2 id="{anchor}">{html.escape(heading_text)}</h2>')
            for _ in range(2):
                sentences = [
                    s.format(
                        **words,
                        ref1=keys[h % len(keys)],
                        ref2=keys[(h + 1) % len(keys)],
                        ref3=keys[(h + 2) % len(keys)],
                        page=rng.randint(1, 400),
                    )
                    for s in rng.sample(SENTENCES, k=4)
                ]
                paragraph = " ".join(sentences)
                md_parts.append(paragraph)
                html_parts.append(f"<p>{_citations_to_html(html.escape(paragraph))}</p>")
        references_html = "".join(
            f'<div class="csl-entry" id="ref-{ref.key}">{html.escape(ref.short_citation())}. '
            f"{html.escape(ref.title)}. <em>{html.escape(ref.container_title)}</em>.</div>"
            for ref in refs
        )
        return {
            "title": title,
            "summary": summary,
            "body": "\n\n".join(md_parts) + "\n",
            "html": "\n".join(html_parts),
            "references_html": f'<div class="references csl-bib-body">{references_html}</div>',
            "toc": toc,
        }

    def _say(self, what: str, started: float) -> None:
        self.stdout.write(f"  {time.monotonic() - started:6.1f} s  {what}")


def _citations_to_html(text: str) -> str:
    """[@key] → a citation link, roughly as the renderer prints one."""
    out, rest = [], text
    while "[@" in rest:
        before, _, after = rest.partition("[@")
        inside, _, rest = after.partition("]")
        key = inside.split(",")[0].split(";")[0].strip()
        out.append(f'{before}(<a href="#ref-{key}" role="doc-biblioref">{inside}</a>)')
    out.append(rest)
    return "".join(out)


# The value the workflow stores at publish (articles.workflow._update_search_vector:
# title A, summary B, body C, English), computed by PostgreSQL in the INSERT itself.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, COALESCE(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(summary, '')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(body, '')), 'C')"
)


def write_articles(rows: Rows) -> None:
    """One batch, in the caller's transaction. Foreign keys are checked at commit (Django
    creates them deferrable), so the circle article → live revision → approval → revision
    closes without an UPDATE."""
    insert_rows(Article, rows.articles)
    insert_rows(Revision, rows.revisions, search_vector=True)
    insert_rows(Review, rows.reviews)
    insert_rows(Article.cited_references.through, rows.cited)
    insert_rows(Revision.contributors.through, rows.contributors)


def insert_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, search_vector: bool = False
) -> None:
    """INSERT rows (column name → value) into the model's table: COPY on PostgreSQL (with
    the search vector computed from a staging copy), Django's bulk_create elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=500)
        return
    fields = [model._meta.get_field(name) for name in rows[0]]
    columns = ", ".join(f'"{field.column}"' for field in fields)  # type: ignore[union-attr]
    table = model._meta.db_table
    target = table
    if search_vector:
        target = f"scale_staging_{table}"
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE TEMP TABLE "{target}" (LIKE "{table}" INCLUDING DEFAULTS) ON COMMIT DROP'
            )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{target}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(
                    [
                        field.get_db_prep_save(value, connection)  # type: ignore[union-attr]
                        for field, value in zip(fields, row.values(), strict=True)
                    ]
                )
        if search_vector:
            cursor.execute(
                f'INSERT INTO "{table}" ({columns}, "search_vector") '  # noqa: S608
                f'SELECT {columns}, {SEARCH_VECTOR_SQL} FROM "{target}"'
            )
            # Gone now, not at commit: inside an outer transaction (the tests) the next
            # batch makes its own.
            cursor.execute(f'DROP TABLE "{target}"')


class IdReserver:
    """Primary keys taken up front, so a batch's rows can name each other before any is
    written: PostgreSQL's sequences (nothing else can take them), or on SQLite (the tests)
    a counter from the highest id, the command being the database's only writer."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, model: type[models.Model], count: int) -> list[int]:
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return sorted(row[0] for row in cursor.fetchall())
            if table not in self._next:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')  # noqa: S608
                self._next[table] = cursor.fetchone()[0] + 1
        first = self._next[table]
        self._next[table] = first + count
        return list(range(first, first + count))
