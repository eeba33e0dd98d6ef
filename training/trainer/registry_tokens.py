"""Short-lived pull credentials for the home registry, minted with the refresher pod's own identity.

Each `mint_*` returns a `PullCredential` (username, password, expiry) for a docker config's `auths`.
What it may pull is what the identity may read: the stack grants it reader access to the registry only.

- Artifact Registry (`mint_gar`): the pod's access token from the GKE metadata server, as google-auth's
  `compute_engine.Credentials` gets it (`/computeMetadata/v1/instance/service-accounts/default/token`,
  header `Metadata-Flavor: Google`; the host is google-auth's `GCE_METADATA_HOST`, read when google-auth
  is imported), username `oauth2accesstoken` (Artifact Registry, "Configure authentication to Artifact
  Registry for Docker", access token). With Workload Identity the pod is the Google service account its
  Kubernetes service account is annotated with, so `serviceAccount` is not asked for (the GKE metadata
  server serves only `default`): it is checked against the email the metadata server answers with, so a
  missing or wrong annotation fails here, naming both, instead of as an unauthorized pull on a worker. The
  metadata server hands out its cached token until about five minutes before it expires, too late to renew
  a pull Secret within the refresh margin, so that token only signs the call with which the account mints
  itself a fresh one-hour token (IAM Credentials `generateAccessToken`, google-auth's
  `impersonated_credentials`; the stack grants the account Token Creator on itself and nothing else).
- ECR (`mint_ecr`): botocore's `ecr.get_authorization_token(registryIds=[registryId])` with the pod's
  default credentials (EKS Pod Identity's container credentials, which botocore reads from
  `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`); `authorizationToken`
  is base64 of `AWS:<password>`, valid 12 hours until `expiresAt` (ECR API reference, GetAuthorizationToken
  and AuthorizationData). `registryIds` is deprecated there (the token is good for every registry the
  principal may read) and still accepted; it names the account in the request.
- ACR (`mint_acr`): an Entra ID token of the user-assigned identity that trusts the pod's projected token
  (azure-identity's `WorkloadIdentityCredential`, as `worker_tokens.mint_aks`) for scope
  `https://containerregistry.azure.net/.default`, exchanged for an ACR refresh token by a form POST to
  `https://<loginServer>/oauth2/exchange` (`grant_type=access_token`, `service`, `tenant`, `access_token`);
  the username is `00000000-0000-0000-0000-000000000000` and the password that refresh token, which the
  registry's token endpoint accepts from docker (ACR's "Azure Container Registry integration with Azure
  Active Directory", azure.github.io/acr/AAD-OAuth.html, and the Container Registry REST API, "Refresh
  Tokens - Get From Exchange"). Its expiry is the JWT's `exp` claim, read without checking the signature:
  the token is the registry's to verify, not ours (about three hours).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any, NamedTuple

import botocore.session
import google.auth.transport.requests
from azure.identity import WorkloadIdentityCredential
from botocore.config import Config
from google.auth import compute_engine, impersonated_credentials
from google.oauth2 import credentials as oauth2_credentials

from trainer.errors import one_line
from trainer.token_timing import TokenError
from trainer.workers_file import AcrSource, EcrSource, GarSource, Registry

GAR_USERNAME = "oauth2accesstoken"
GAR_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GAR_LIFETIME_SECONDS = 3600
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"
"""The null GUID: ACR's username for a password that is a refresh token."""
ACR_SCOPE = "https://containerregistry.azure.net/.default"


class PullCredential(NamedTuple):
    username: str
    password: str
    expires_at: datetime


def mint_gar(source: GarSource) -> PullCredential:
    """A fresh access token of the pod's own Google service account, if it is `serviceAccount`."""
    credentials = compute_engine.Credentials()  # type: ignore[no-untyped-call]
    credentials.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    email = credentials.service_account_email
    if email != source.service_account:
        raise TokenError(
            f"the metadata server answers as {email!r}, not {source.service_account!r}: check the "
            "iam.gke.io/gcp-service-account annotation of the refresher's Kubernetes service account"
        )
    # The metadata server's token as it is: google-auth would otherwise ask the metadata server again, by
    # the account's email, for a scoped copy.
    signer = oauth2_credentials.Credentials(token=credentials.token)  # type: ignore[no-untyped-call]
    fresh = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
        source_credentials=signer,
        target_principal=email,
        target_scopes=[GAR_SCOPE],
        lifetime=GAR_LIFETIME_SECONDS,
        iam_endpoint_override=(
            f"{source.iam_credentials_url}/v1/projects/-/serviceAccounts/{email}:generateAccessToken"
        ),
    )
    fresh.refresh(google.auth.transport.requests.Request())  # type: ignore[no-untyped-call]
    if not fresh.token or fresh.expiry is None:
        raise TokenError("IAM Credentials returned no token or no expiry")
    # google-auth keeps expiry as a naive UTC time.
    return PullCredential(GAR_USERNAME, str(fresh.token), fresh.expiry.replace(tzinfo=UTC))


def mint_ecr(source: EcrSource) -> PullCredential:
    """An ECR authorization token for the pod's own AWS credentials."""
    client: Any = botocore.session.Session().create_client(  # no stubs for ECR in the lock: untyped
        "ecr",
        region_name=source.region,
        endpoint_url=source.ecr_endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 3}),
    )
    response = client.get_authorization_token(registryIds=[source.registry_id])
    try:
        data = response["authorizationData"][0]
        username, colon, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        expires_at: datetime = data["expiresAt"]
    except (KeyError, IndexError, ValueError):
        raise TokenError("ECR returned no readable authorization data") from None
    if not colon or not password:
        raise TokenError("ECR's authorization token is not base64 of user:password")
    return PullCredential(username, password, expires_at.astimezone(UTC))


def mint_acr(source: AcrSource) -> PullCredential:
    """An ACR refresh token for the identity that trusts the pod's projected token."""
    with WorkloadIdentityCredential(
        tenant_id=source.tenant_id,
        client_id=source.client_id,
        token_file_path=source.token_path,
        authority=source.authority_host,
    ) as credential:
        access = credential.get_token(ACR_SCOPE)
    url = f"https://{source.login_server}/oauth2/exchange"
    form = {
        "grant_type": "access_token",
        "service": source.login_server,
        "tenant": source.tenant_id,
        "access_token": access.token,
    }
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = one_line(exc.read().decode(errors="replace") or str(exc.reason))
        raise TokenError(f"POST {url}: HTTP {exc.code} {detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise TokenError(f"POST {url}: {reason}") from None
    refresh = reply.get("refresh_token") if isinstance(reply, dict) else None
    if not isinstance(refresh, str) or not refresh:
        raise TokenError(f"POST {url}: no refresh_token in the reply")
    return PullCredential(ACR_USERNAME, refresh, jwt_expiry(refresh))


def jwt_expiry(token: str) -> datetime:
    """The `exp` claim of a JWT, its signature unchecked."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, TypeError, KeyError):
        raise TokenError("the registry's token is not a JWT with an exp claim") from None


def mint_registry(registry: Registry) -> PullCredential:
    """A new pull credential for `registry`, from its cloud."""
    source = registry.source
    if isinstance(source, EcrSource):
        return mint_ecr(source)
    if isinstance(source, AcrSource):
        return mint_acr(source)
    return mint_gar(source)
