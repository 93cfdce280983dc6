from django.urls import path, re_path

from jobs import apis, dead_letter_apis

# Fixed paths come before `jobs/<job_id>`, which would otherwise take them for job ids.
urlpatterns = [
    path("jobs", apis.JobListApi.as_view(), name="job-list"),
    path("jobs/similarity/analyze", apis.SimilaritySubmitApi.as_view(), name="similarity-submit"),
    path("jobs/wallets/sync", apis.WalletSyncSubmitApi.as_view(), name="wallet-sync-submit"),
    path("jobs/analysis/pnl", apis.PnlSubmitApi.as_view(), name="analysis-pnl-submit"),
    path("jobs/analysis/behavior", apis.BehaviorSubmitApi.as_view(), name="analysis-behavior-submit"),
    path("jobs/bulk-analysis", apis.BulkAnalysisSubmitApi.as_view(), name="bulk-analysis-submit"),
    path("jobs/token-holders/analyze", apis.TokenHoldersSubmitApi.as_view(), name="token-holders-submit"),
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
    # Anything else under /jobs answers the API's JSON 404, even with DEBUG on (whose 404 page is HTML);
    # [\s\S], not ".", because a path may carry an encoded newline.
    re_path(r"^jobs(?:/[\s\S]*)?$", apis.api_not_found, name="jobs-not-found"),
]
