from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "pagecache"
    verbose_name = "Public page cache"
    default_auto_field = "django.db.models.BigAutoField"
