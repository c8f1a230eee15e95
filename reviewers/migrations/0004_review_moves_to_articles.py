"""Review leaves this app's state: it is the workflow's record and now lives in `articles`
(articles.0013_review_moves_here, which runs first and declares so with `run_before`).

State only: the table `reviewers_review`, its rows, constraints, indexes and triggers stay
as they are; articles.Review uses the same table. This migration names nothing of
`articles`, so the reviewers app still depends on no other app of the project.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reviewers", "0003_review_card")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Review")],
            database_operations=[],
        )
    ]
