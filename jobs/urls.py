from django.urls import path

from jobs import apis, dead_letter_apis

urlpatterns = [
    path("jobs/similarity/analyze", apis.SimilaritySubmitApi.as_view(), name="similarity-submit"),
    path("jobs/failed/stats", dead_letter_apis.FailedStatsApi.as_view(), name="failed-stats"),
    path("jobs/failed/recent", dead_letter_apis.FailedRecentApi.as_view(), name="failed-recent"),
    path(
        "jobs/failed/<int:dead_letter_id>/retry",
        dead_letter_apis.FailedRetryApi.as_view(),
        name="failed-retry",
    ),
    path("jobs/<str:job_id>", apis.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/status", apis.JobStatusApi.as_view(), name="job-status"),
    path("jobs/<str:job_id>/progress", apis.JobProgressApi.as_view(), name="job-progress"),
    path("jobs/<str:job_id>/result", apis.JobResultApi.as_view(), name="job-result"),
    path("jobs/<str:job_id>/cancel", apis.JobCancelApi.as_view(), name="job-cancel"),
]
