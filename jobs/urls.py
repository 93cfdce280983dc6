from django.urls import path

from jobs import apis

urlpatterns = [
    path("jobs/similarity/analyze", apis.SimilaritySubmitApi.as_view(), name="similarity-submit"),
    path("jobs/<str:job_id>", apis.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/status", apis.JobStatusApi.as_view(), name="job-status"),
    path("jobs/<str:job_id>/progress", apis.JobProgressApi.as_view(), name="job-progress"),
    path("jobs/<str:job_id>/result", apis.JobResultApi.as_view(), name="job-result"),
]
