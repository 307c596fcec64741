"""The accounts API: sign-in with a knox token, sign-out, and the caller's own profile, numbers and
invoice address."""
from __future__ import annotations

from django.contrib.auth import authenticate, logout, user_logged_in, user_logged_out, user_login_failed
from django_otp import user_has_device
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from voipxs.exceptions import ApplicationError
from voipxs.privacy.purposes import Purpose, Role, has_role

from .api_auth import ExpiringTokenAuthentication
from .middleware import needs_second_factor
from .models import AccountCloseReason, Contractor
from .selectors import access_user, account_to_close, billing_address_get, billing_address_lines, phone_number_list
from .services import billing_address
from .services.closing import ACCOUNT_CLOSE_NOT_ALLOWED, CLOSE_ROLES, account_close, contractor_close
from .services.sign_in import api_token_issue, api_token_revoke, two_factor_check

LOGIN_FAILED = "Login name or password is wrong."
LOCKED_OUT = "Too many failed sign-in attempts; try again later."
OTP_REQUIRED = "This account needs a two-factor code (otp_token)."
OTP_INVALID = "The two-factor code is wrong or expired."
OTP_NOT_ENROLLED = "Set up two-factor sign-in in the portal before using the API."


def _locked_out(django_request) -> bool:
    """Whether django-axes refused this attempt. The flag is taken off the request so that axes'
    middleware does not swap our JSON answer for its HTML lockout page."""
    locked = bool(getattr(django_request, "axes_locked_out", False))
    if locked:
        django_request.axes_locked_out = False
    return locked


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()

    class Meta:
        ref_name = "AuthError"


class LoginApi(APIView):
    """Exchange login name, password and (when owed) a TOTP or recovery code for an API token.

    Every failure, including a wrong code, counts towards django-axes' lockout for the login name
    and address. Failures return a response instead of raising, because a raised API error rolls
    back the request's transaction and with it the failure record.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
        otp_token = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "LoginInput"

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as `Authorization: Token <token>`; shown only once.")
        expiry = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "LoginOutput"

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Wrong credentials or code, or a field missing"),
            403: OpenApiResponse(ErrorSerializer, description="Two-factor not set up, or too many tokens"),
            429: OpenApiResponse(ErrorSerializer, description="Locked out after repeated failures, or throttled"),
        },
        auth=[],
        summary="Sign in and get an API token",
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username, password, otp_token = (data.validated_data[k] for k in ("username", "password", "otp_token"))
        django_request = request._request  # django-axes reads and flags the plain HttpRequest
        user = authenticate(request=django_request, username=username, password=password)
        if user is None:
            if _locked_out(django_request):
                return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            return Response({"detail": LOGIN_FAILED}, status=status.HTTP_400_BAD_REQUEST)
        if needs_second_factor(user):
            if not user_has_device(user):
                return Response({"detail": OTP_NOT_ENROLLED}, status=status.HTTP_403_FORBIDDEN)
            if not otp_token:
                return Response({"otp_token": [OTP_REQUIRED]}, status=status.HTTP_400_BAD_REQUEST)
            if two_factor_check(user=user, token=otp_token.strip()) is None:
                user_login_failed.send(sender=__name__, credentials={"username": username}, request=django_request)
                if _locked_out(django_request):
                    return Response({"detail": LOCKED_OUT}, status=status.HTTP_429_TOO_MANY_REQUESTS)
                return Response({"otp_token": [OTP_INVALID]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            token, expiry = api_token_issue(user=user)
        except ApplicationError as exc:
            return Response({"detail": exc.shown()}, status=status.HTTP_403_FORBIDDEN)
        user_logged_in.send(sender=user.__class__, request=django_request, user=user)
        # The token is a credential shown once: no cache keeps it (the caller is not signed in yet, so
        # voipxs.middleware does not see a personal answer here).
        return Response(self.OutputSerializer({"token": token, "expiry": expiry}).data,
                        headers={"Cache-Control": "no-store"})


class LogoutApi(APIView):
    """Revoke the token this request was made with; with a session (and its CSRF token), end the session."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, summary="Sign out: revoke this API token or end this session")
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            api_token_revoke(token=request.auth, actor=request.user)
            user_logged_out.send(sender=request.user.__class__, request=request._request, user=request.user)
        else:
            logout(request._request)  # sends user_logged_out itself
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.CharField(allow_null=True)
        contractor = serializers.CharField(source="contractor.name", allow_null=True, default=None)
        roles = serializers.SerializerMethodField()
        two_factor = serializers.SerializerMethodField()

        class Meta:
            ref_name = "Me"

        def get_roles(self, user) -> list[str]:
            return sorted(user.groups.values_list("name", flat=True))

        def get_two_factor(self, user) -> bool:
            return user_has_device(user)

    @extend_schema(responses=OutputSerializer, summary="Your own profile")
    def get(self, request: Request) -> Response:
        user = access_user(actor=request.user, purpose=Purpose.SELF_SERVICE, user_id=request.user.pk)
        return Response(self.OutputSerializer(user).data)


class MeNumbersApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        number = serializers.CharField()
        label = serializers.CharField()
        valid_from = serializers.DateTimeField()
        valid_to = serializers.DateTimeField(allow_null=True)

        class Meta:
            ref_name = "MyNumber"

    @extend_schema(responses=OutputSerializer(many=True), summary="Numbers you hold or held")
    def get(self, request: Request) -> Response:
        numbers = phone_number_list(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
        return Response(self.OutputSerializer(numbers, many=True).data)


class BillingAddressSerializer(serializers.Serializer):
    """An invoice address as MeBillingAddressApi answers it."""

    name = serializers.CharField()
    street = serializers.CharField()
    house_number = serializers.CharField()
    postcode = serializers.CharField()
    town = serializers.CharField()
    country = serializers.CharField()
    lines = serializers.SerializerMethodField(help_text="The address below the name, as the invoice prints it.")
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "MyBillingAddress"

    def get_lines(self, address) -> list[str]:
        return billing_address_lines(address)


class MeBillingAddressApi(APIView):
    """The name and address your invoices are made out to (for a Contractor's User: the Contractor's,
    which only its admin changes). Invoices already issued keep the address they were issued with."""

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=billing_address.MAX_LENGTH, help_text="Your name or your company's.")
        street = serializers.CharField(max_length=billing_address.MAX_LENGTH)
        house_number = serializers.CharField(max_length=billing_address.MAX_LENGTH, help_text="With any addition.")
        postcode = serializers.CharField(max_length=billing_address.MAX_LENGTH,
                                         help_text='In the Netherlands four digits and two letters; stored as "1234 AB".')
        town = serializers.CharField(max_length=billing_address.MAX_LENGTH)
        country = serializers.ChoiceField(choices=billing_address.COUNTRIES, default="NL")

        def validate(self, attrs: dict) -> dict:
            # The service's own rules (a Dutch postcode, no blank field), answered per field like DRF's.
            clean, errors = billing_address.billing_address_errors(attrs)
            if errors:
                raise serializers.ValidationError({field: [message] for field, message in errors.items()})
            return clean

    class OutputSerializer(serializers.Serializer):
        address = BillingAddressSerializer(allow_null=True, help_text="null: none on file yet (invoices then say so).")
        may_change = serializers.BooleanField(help_text="False for a Contractor's User: its admin sets it.")

    @extend_schema(responses=OutputSerializer, summary="The name and address your invoices are made out to")
    def get(self, request: Request) -> Response:
        address = billing_address_get(actor=request.user, purpose=Purpose.SELF_SERVICE, user=request.user)
        may_change = billing_address.billing_party_managed_by(request.user, request.user)
        return Response(self.OutputSerializer({"address": address, "may_change": may_change}).data)

    @extend_schema(request=InputSerializer,
                   responses={200: OutputSerializer, 400: OpenApiResponse(description="A field is missing or wrong; named"),
                              403: OpenApiResponse(ErrorSerializer, description="A Contractor's User: its admin sets it")},
                   summary="Set the name and address your next invoices are made out to")
    def put(self, request: Request) -> Response:
        if not billing_address.billing_party_managed_by(request.user, request.user):
            raise exceptions.PermissionDenied(str(billing_address.ONLY_CONTRACTOR_ADMIN))
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        address = billing_address.billing_address_set(actor=request.user, user=request.user, **data.validated_data)
        return Response(self.OutputSerializer({"address": address, "may_change": True}).data)


class CanCloseAccounts(BasePermission):
    message = ACCOUNT_CLOSE_NOT_ALLOWED

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *CLOSE_ROLES)


class StaffAccountCloseApi(APIView):
    """Close an account (the contract ended): no sign-in from now on, its numbers' periods end now. The
    retention purge anonymises it once its final invoice is settled plus the closed_account period."""

    permission_classes = [*APIView.permission_classes, CanCloseAccounts]

    class InputSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(choices=AccountCloseReason.choices)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        is_active = serializers.BooleanField()
        closed_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer,
                                                       400: OpenApiResponse(description="Already closed, or your own account")},
                   summary="Close a customer account")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        purpose = Purpose.BILLING if has_role(request.user, Role.BILLING) else Purpose.SECURITY
        user = account_to_close(actor=request.user, purpose=purpose, user_id=pk)  # a restricted one too
        user = account_close(user=user, actor=request.user, reason=data.validated_data["reason"])
        return Response(self.OutputSerializer(user).data)


class StaffContractorCloseApi(APIView):
    """End a Contractor's contract: every account of its Users still open is closed as the account API
    closes one (all or none), and no User can be added to it any more. Its name and invoice address go
    when the retention purge has anonymised its last User."""

    permission_classes = [*APIView.permission_classes, CanCloseAccounts]
    InputSerializer = StaffAccountCloseApi.InputSerializer

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        closed_at = serializers.DateTimeField()
        users_closed = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer,
                                                       400: OpenApiResponse(description="Already closed, or your own account among its users")},
                   summary="End a contractor's contract (closes its users' accounts)")
    def post(self, request: Request, pk: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contractor = Contractor.objects.filter(pk=pk).first()
        if contractor is None:
            raise exceptions.NotFound()
        counts = contractor_close(contractor=contractor, actor=request.user, reason=data.validated_data["reason"])
        contractor.refresh_from_db(fields=["closed_at"])
        return Response(self.OutputSerializer({"id": contractor.pk, "closed_at": contractor.closed_at,
                                               "users_closed": counts["users_closed"]}).data)
