from django.urls import path

from . import api

P = "staff/disclosures/"
urlpatterns = [
    path(f"{P}authorities/", api.AuthorityListApi.as_view(), name="disclosure-authority-list"),
    path(f"{P}authorities/create/", api.AuthorityCreateApi.as_view(), name="disclosure-authority-create"),
    path(f"{P}authorities/<int:pk>/verify/", api.AuthorityVerifyApi.as_view(), name="disclosure-authority-verify"),
    path(f"{P}authorities/<int:pk>/domains/", api.AuthorityDomainsApi.as_view(), name="disclosure-authority-domains"),
    path(f"{P}requests/", api.RequestListApi.as_view(), name="disclosure-request-list"),
    path(f"{P}requests/receive/", api.RequestReceiveApi.as_view(), name="disclosure-request-receive"),
    path(f"{P}requests/<int:pk>/", api.RequestDetailApi.as_view(), name="disclosure-request-detail"),
    path(f"{P}requests/<int:pk>/verify-authority/", api.RequestVerifyApi.as_view(), name="disclosure-request-verify"),
    path(f"{P}requests/<int:pk>/start-review/", api.RequestReviewApi.as_view(), name="disclosure-request-review"),
    path(f"{P}requests/<int:pk>/clarify/", api.RequestClarifyApi.as_view(), name="disclosure-request-clarify"),
    path(f"{P}requests/<int:pk>/resume-review/", api.RequestResumeApi.as_view(), name="disclosure-request-resume"),
    path(f"{P}requests/<int:pk>/approve/", api.RequestApproveApi.as_view(), name="disclosure-request-approve"),
    path(f"{P}requests/<int:pk>/reject/", api.RequestRejectApi.as_view(), name="disclosure-request-reject"),
    path(f"{P}requests/<int:pk>/withdraw/", api.RequestWithdrawApi.as_view(), name="disclosure-request-withdraw"),
    path(f"{P}requests/<int:pk>/narrow/", api.RequestNarrowApi.as_view(), name="disclosure-request-narrow"),
    path(f"{P}requests/<int:pk>/produce/", api.RequestProduceApi.as_view(), name="disclosure-request-produce"),
    path(f"{P}requests/<int:pk>/check-output/", api.RequestCheckApi.as_view(), name="disclosure-request-check"),
    path(f"{P}requests/<int:pk>/deliver/", api.RequestDeliverApi.as_view(), name="disclosure-request-deliver"),
    path(f"{P}requests/<int:pk>/close/", api.RequestCloseApi.as_view(), name="disclosure-request-close"),
    path(f"{P}requests/<int:pk>/send-notices/", api.RequestSendNoticesApi.as_view(), name="disclosure-request-send-notices"),
    path(f"{P}requests/<int:pk>/renew-preservation/", api.RequestRenewApi.as_view(), name="disclosure-request-renew"),
    path(f"{P}requests/<int:pk>/convert-preservation/", api.RequestConvertApi.as_view(),
         name="disclosure-request-convert"),
    path(f"{P}requests/<int:pk>/notice-decision/", api.RequestNoticeDecisionApi.as_view(),
         name="disclosure-request-notice-decision"),
    path(f"{P}requests/<int:pk>/documents/", api.DocumentAddApi.as_view(), name="disclosure-document-add"),
    path(f"{P}requests/<int:pk>/package/", api.PackageDownloadApi.as_view(), name="disclosure-package-download"),
    path(f"{P}deadlines/", api.DeadlinesApi.as_view(), name="disclosure-deadlines"),
    path(f"{P}transparency/", api.TransparencyReportApi.as_view(), name="disclosure-transparency"),
    path("me/disclosure-notices/", api.MyNoticesApi.as_view(), name="disclosure-my-notices"),
]
