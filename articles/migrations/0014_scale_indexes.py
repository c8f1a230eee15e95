"""Indexes for 100,000 articles (issue 13; figures in bench/README.md and
bench/results/latest.md).

- The public lists walk the published revisions newest first, site-wide and per category
  (partial indexes: only revisions with status "published" are ever listed). With
  Article.objects.published() checking the approval row by row, a page of a list reads its
  own rows along these instead of joining and sorting every article.
- The admin's changelist walks the articles by its own order (-updated_at, -id).
- PostgreSQL only: trigram indexes for the admin's search (title, summary and slug
  `icontains`, which Django writes as UPPER(column) LIKE UPPER('%…%')), so a search and its
  count read the matching rows instead of the whole table. pg_trgm ships with PostgreSQL
  and is a trusted extension (PostgreSQL 13+): the database's owner, who runs migrations,
  may create it. SQLite searches without them.
"""

from django.conf import settings
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "article_title_trgm": "title",
    "article_summary_trgm": "summary",
    "article_slug_trgm": "slug",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON articles_article "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0013_review_moves_here"),
        ("references", "0003_reference_edited_by"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(fields=["-updated_at", "-id"], name="article_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="revision",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["-published_at"],
                name="revision_published_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="revision",
            index=models.Index(
                condition=models.Q(("status", "published")),
                fields=["category", "-published_at"],
                name="revision_cat_published_idx",
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
