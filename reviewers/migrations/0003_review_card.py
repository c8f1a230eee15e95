"""The reviewer's whole card is frozen with each review (filled for older reviews by
articles.0011, which also lifts and restores the table's append-only guard)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('reviewers', '0002_review_signed_by'),
    ]

    operations = [
        migrations.AddField(
            model_name='review',
            name='reviewer_certifications',
            field=models.TextField(blank=True, help_text='One per line, as signed.'),
        ),
        migrations.AddField(
            model_name='review',
            name='reviewer_specialties',
            field=models.TextField(blank=True, help_text='One per line, as signed.'),
        ),
        migrations.AddField(
            model_name='review',
            name='reviewer_photo',
            field=models.CharField(blank=True, max_length=255),
        ),
        migrations.AddField(
            model_name='review',
            name='reviewer_photo_alt',
            field=models.CharField(blank=True, max_length=300),
        ),
        migrations.AddField(
            model_name='review',
            name='signed_by_username',
            field=models.CharField(blank=True, max_length=150),
        ),
    ]
