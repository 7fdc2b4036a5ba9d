"""Install the triggers that make published draw data immutable (see lottery.db_guards)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from lottery import db_guards

    db_guards.install(schema_editor.connection)


def backwards(apps, schema_editor):
    from lottery import db_guards

    db_guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("lottery", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
