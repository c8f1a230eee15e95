"""Keep working copies honest when the library changes under them.

Editing a reference an article cites changes that article's content (invariant 2): its
working hash moves away from the approved revision's, so the admin shows unreviewed
changes and the next submission needs its own approval, which whoever edited the reference
may not give (articles.independence). The live revision is untouched: it keeps the
reference entries exactly as approved.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from references.models import Reference

from .independence import record_contribution
from .models import Article, ContributionKind
from .snapshot import refresh_working_copy


def _articles_mentioning(reference: Reference):
    # Citing articles, and drafts whose unknown key this reference may now resolve.
    return Article.objects.filter(body__contains=f"@{reference.key}")


@receiver(post_save, sender=Reference, dispatch_uid="articles_reference_saved")
def reference_saved(sender, instance: Reference, raw: bool = False, **kwargs) -> None:
    if raw:  # loading fixtures
        return
    for article in _articles_mentioning(instance):
        # The reference's editor changed this article's content (see the module note).
        record_contribution(
            article=article,
            user=instance.edited_by,
            kind=ContributionKind.REFERENCE,
            detail=instance.key,
        )
        refresh_working_copy(article)


@receiver(post_delete, sender=Reference, dispatch_uid="articles_reference_deleted")
def reference_deleted(sender, instance: Reference, **kwargs) -> None:
    for article in _articles_mentioning(instance):
        refresh_working_copy(article)
