"""Load the demo clinic: its three staff roles, its reviewer, the seed article and its
seven references — through the real BibTeX importer and the real sign-off workflow.

Safe to run twice: what exists is left as it is, and a half-finished earlier run is
carried on from where it stopped.
"""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from articles import workflow
from articles.models import Article, Category, RevisionStatus
from references.importing import apply_import, parse_bibtex, plan_import
from reviewers.models import Reviewer

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 - demo accounts only, printed on purpose
DEMO_USERS = [
    # username, first, last, role
    ("writer", "Demo", "Writer", "Writer"),
    ("reviewer", "Mark", "Hrymoc", "Physician reviewer"),
    ("editor", "Demo", "Editor", "Editor"),
]
ARTICLE_SLUG = "couples-therapy-and-sex-therapy-for-intimacy-issues"


class Command(BaseCommand):
    help = "Create the demo clinic's users, reviewer, references and published article."

    def handle(self, *args, **options):
        if not settings.DEMO_CONTENT_ALLOWED:
            raise CommandError(
                "Refusing to load demo content: it creates staff accounts whose password is "
                "published. Set DEMO_CONTENT_ALLOWED=1 (or DEBUG=1) on a demo site only."
            )
        users = {
            username: self._user(username, first, last, role)
            for username, first, last, role in DEMO_USERS
        }
        self._reviewer(users["reviewer"])
        category, _ = Category.objects.get_or_create(
            slug="relationships-and-intimacy",
            defaults={
                "name": "Relationships & Intimacy",
                "description": "Couples, intimacy and the therapies that help.",
            },
        )
        self._references()
        article = self._article(users["writer"], category)
        # The demo accounts' addresses do not exist; keep their workflow mail off the console.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._sign_off(article, users)
        self.stdout.write(self.style.SUCCESS("Demo content is ready."))
        self.stdout.write(
            "Demo logins at /admin/ (password for each: "
            f"{DEMO_PASSWORD}): writer, reviewer (Mark Hrymoc, M.D.), editor."
        )

    def _user(self, username, first, last, role):
        User = get_user_model()
        existing = User.objects.filter(username=username).first()
        if existing is not None and not existing.groups.filter(name=role).exists():
            raise CommandError(
                f"A user named {username!r} already exists and is not a demo {role}; "
                "load_demo leaves real accounts alone."
            )
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@clinic.invalid",
                "is_staff": True,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    def _reviewer(self, user):
        Reviewer.objects.get_or_create(
            user=user,
            defaults={
                "display_name": "Mark Hrymoc",
                "credentials": "M.D.",
                "title": "Chief Medical Officer",
                "board_certifications": "General Psychiatry\nAddiction Psychiatry",
                "specialties": "General psychiatry\nAddiction psychiatry",
                "bio": (
                    "Mark Hrymoc, M.D., is the Chief Medical Officer of the Mental Health "
                    "Center and is double-board certified in General & Addiction Psychiatry."
                ),
                "slug": "mark-hrymoc",
            },
        )

    def _references(self):
        text = (DEMO_DIR / "references.bib").read_text(encoding="utf-8")
        plan = plan_import(parsed=parse_bibtex(text=text))
        if plan.failed:
            raise CommandError(f"The demo BibTeX did not parse: {plan.failed}")
        apply_import(plan=plan, update_existing=False)

    def _article(self, writer, category):
        article = Article.objects.filter(slug=ARTICLE_SLUG).first()
        if article is not None:
            return article
        article = Article(
            slug=ARTICLE_SLUG,
            category=category,
            author=writer,
            title="How Couples Therapy and Sex Therapy Can Help With Intimacy Issues",
            summary=(
                "Emotional and sexual intimacy problems are common and treatable. What research "
                "shows about how couples therapy and sex therapy rebuild connection, trust and "
                "communication."
            ),
            body=(DEMO_DIR / "clinic-article.md").read_text(encoding="utf-8"),
        )
        return workflow.save_working_copy(article=article, actor=writer, expected_version=None)

    def _sign_off(self, article, users):
        if article.live_revision_id:
            return
        with transaction.atomic():
            revision = article.revisions.order_by("-number").first()
            if revision is None or revision.status in (
                RevisionStatus.WITHDRAWN,
                RevisionStatus.SUPERSEDED,
            ):
                revision = workflow.submit_for_review(
                    article=article, actor=users["writer"], change_note="First publication."
                )
            if revision.status == RevisionStatus.PENDING:
                workflow.approve(
                    revision=revision,
                    actor=users["reviewer"],
                    password=DEMO_PASSWORD,
                    attestation_accepted=True,
                    seen_hash=revision.content_hash,
                    conflict_of_interest="",
                    comment="Reviewed for the demo clinic.",
                )
                revision.refresh_from_db()
            if revision.status == RevisionStatus.APPROVED:
                workflow.publish(revision=revision, actor=users["editor"])
