"""Create the Writer, Physician reviewer and Editor groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_roles(apps, schema_editor):
    from articles.migrations._roles_0009 import ROLE_PERMISSIONS_0009
    from articles.roles import apply_role_permissions

    # Permissions are normally created after all migrations; make sure they exist now, for
    # the models of this migration's state (`apps=apps`: by default create_permissions reads
    # today's models, which no longer match this table since Review moved, articles.0013).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None

    apply_role_permissions(
        apps.get_model("auth", "Group"),
        apps.get_model("auth", "Permission"),
        table=ROLE_PERMISSIONS_0009,
    )


def remove_roles(apps, schema_editor):
    from articles.migrations._roles_0009 import ROLE_PERMISSIONS_0009

    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS_0009).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0002_initial"),
        ("references", "0001_initial"),
        ("reviewers", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
