from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api import error_body
from jobs import ops_apis
from similarity.apis import SimilaritySyncApi


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("analyses/similarity", SimilaritySyncApi.as_view(), name="similarity-sync"),
    path("metrics", ops_apis.MetricsApi.as_view(), name="metrics"),
    path("health/queues", ops_apis.HealthQueuesApi.as_view(), name="health-queues"),
    path("jobs/queues", ops_apis.QueuesApi.as_view(), name="queues"),
    path("jobs/queue/<str:queue>/stats", ops_apis.QueueStatsApi.as_view(), name="queue-stats"),
    path("jobs/queue/<str:queue>/jobs", ops_apis.QueueJobsApi.as_view(), name="queue-jobs"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="lab/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("lab.urls")),
    path("", include("jobs.urls")),
]
# Serves the Lab's scripts and styles from gunicorn when DEBUG is on; otherwise the proxy serves STATIC_ROOT.
urlpatterns += staticfiles_urlpatterns()


def json_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No route for {request.path}."), status=404)


def json_bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    # Outside the API views (which answer through core.api): e.g. a login form over REQUEST_MAX_BODY_BYTES,
    # or a Host that is not in ALLOWED_HOSTS. Django shows its own page instead while DEBUG is on.
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(error_body("body_too_large", "The request body is too large."), status=400)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


handler400 = json_bad_request
handler404 = json_not_found
handler500 = json_server_error
