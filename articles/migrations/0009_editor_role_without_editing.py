"""Re-apply the role table: editors publish and manage, they do not edit article text
(an editor who also reviews could otherwise sign off text they changed)."""

from django.db import migrations


def reapply_roles(apps, schema_editor):
    from articles.migrations._roles_0009 import ROLE_PERMISSIONS_0009
    from articles.roles import apply_role_permissions

    apply_role_permissions(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        table=ROLE_PERMISSIONS_0009,
    )


class Migration(migrations.Migration):
    dependencies = [("articles", "0008_article_contributors")]

    operations = [migrations.RunPython(reapply_roles, migrations.RunPython.noop)]
