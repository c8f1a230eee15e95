from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from articles import sitemaps
from clinic_site import views as site_views
from pagecache.decorators import public_page

# Staff should know whose site they are signing for.
admin.site.site_header = f"{settings.CLINIC_NAME} · Health articles"
admin.site.site_title = f"{settings.CLINIC_NAME} articles"
admin.site.index_title = "Writing, medical review and publishing"

urlpatterns = [
    path("admin/markdownx/", include("clinic_site.markdownx_urls")),
    path("admin/", admin.site.urls),
    path("reviewers/", include("articles.urls_reviewers")),
    path("sitemap.xml", public_page(sitemaps.sitemap_or_index, paginated="p"), name="sitemap"),
    path(
        "sitemap-<slug:section>.xml",
        public_page(sitemaps.sitemap_section, paginated="p"),
        name="sitemap_section",
    ),
    path("robots.txt", site_views.robots_txt, name="robots_txt"),
    path("", include("articles.urls")),
]

# Local media (no S3): served by Django in development; in production put a web server in
# front of MEDIA_ROOT or configure S3-compatible storage.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "clinic_site.views.page_not_found"
handler500 = "clinic_site.views.server_error"
