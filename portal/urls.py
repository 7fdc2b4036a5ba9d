"""Root URLs. Human pages live under a language prefix (/zh-hans/, /en/); machine endpoints
(API, draw records, webhooks) do not, so their addresses never change with the language."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import views as core_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/", include("portal.api_urls")),
    path("", include("lottery.urls_machine")),
    path("", include("grants.urls_machine")),
]

urlpatterns += i18n_patterns(
    path("", core_views.home, name="home"),
    path("admin/", admin.site.urls),
    path("", include("applications.urls")),
    path("", include("lottery.urls")),
    path("", include("grants.urls")),
    path("", include("milestones.urls")),
    path("", include("letters.urls")),
    path("", include("transparency.urls")),
    prefix_default_language=True,
)

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
