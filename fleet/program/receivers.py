"""Push-triggered reconciliation: Flux webhook Receivers and the GitHub webhooks that call them.

Without receivers Flux notices a push on its poll interval only. Each Receiver gets its own random
token (pulumi-random, kept secret end to end): the token authenticates GitHub's HMAC signature and,
hashed with the Receiver's name and namespace, is the path Flux serves it on, so the URL itself is
secret. Each cluster declares the webhooks of its own receivers: the token never leaves the stack
that generates it, and adding or removing a cluster adds or removes exactly its webhooks.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s

from fleet.program import conventions as c
from fleet.program import flux_api, options
from fleet.program.receiver_plan import ReceiverTarget, webhook_path

if TYPE_CHECKING:
    import pulumi_github as github


@dataclass(frozen=True)
class Endpoint:
    """How GitHub reaches the notification-controller's receiver port."""

    host: str
    # Declare an Ingress for the `webhook-receiver` Service; off when the platform exposes it.
    ingress: bool = True
    ingress_class: str = ""
    tls_secret: str = ""


@dataclass(frozen=True)
class ReceiversArgs:
    owner: str
    targets: Sequence[ReceiverTarget]
    endpoint: Endpoint
    token_length: int = 40
    # Punctuation allowed in tokens besides letters and digits; empty for alphanumeric tokens.
    token_special: str = ""
    # The FluxInstance (Receiver CRD, webhook-receiver Service) and the namespaces of the targets.
    after: Sequence[pulumi.Resource] = ()


class Receivers(pulumi.ComponentResource):
    """Per target: token, token Secret and Receiver in its namespace, and the repository's webhook."""

    urls: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: ReceiversArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("fleet:receivers:Receivers", name, None, opts)
        # Only stacks with receivers load these SDKs.
        import pulumi_github as github  # noqa: PLC0415
        import pulumi_random as random  # noqa: PLC0415

        child = options.child(self, opts)
        flux = options.after(child, *args.after)
        self.ingress = _ingress(name, args.endpoint, flux) if args.endpoint.ingress else None
        self.receivers: list[k8s.apiextensions.CustomResource] = []
        self.webhooks: list[github.RepositoryWebhook] = []
        urls: dict[str, pulumi.Output[str]] = {}
        for target in args.targets:
            key = f"{name}-{target.namespace}-{target.name}"
            token = random.RandomPassword(
                f"{key}-token",
                length=args.token_length,
                special=bool(args.token_special),
                override_special=args.token_special or None,
                opts=child,
            )
            value: pulumi.Output[str] = pulumi.Output.secret(token.result)
            secret = k8s.core.v1.Secret(
                f"{key}-secret",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=target.secret_name, namespace=target.namespace
                ),
                type="Opaque",
                string_data={"token": value},
                opts=flux,
            )
            receiver = flux_api.custom_resource(
                f"{key}-receiver",
                api_version=c.RECEIVER_API,
                kind="Receiver",
                metadata={"name": target.name, "namespace": target.namespace},
                spec=receiver_spec(target),
                opts=options.after(flux, secret),
            )
            url: pulumi.Output[str] = pulumi.Output.secret(
                value.apply(functools.partial(_url, args.endpoint.host, target=target))
            )
            ready: list[pulumi.Resource] = [receiver, *([self.ingress] if self.ingress else [])]
            # Created after the Receiver and its route, so GitHub's first ping can be answered.
            self.webhooks.append(
                github.RepositoryWebhook(
                    f"{key}-webhook",
                    repository=target.repository,
                    events=list(c.WEBHOOK_EVENTS),
                    active=True,
                    configuration=github.RepositoryWebhookConfigurationArgs(
                        url=url, content_type="json", secret=value, insecure_ssl=False
                    ),
                    opts=options.after(child, *ready),
                )
            )
            self.receivers.append(receiver)
            urls[f"{args.owner}/{target.repository} {target.namespace}/{target.name}"] = url
        self.urls = pulumi.Output.secret(pulumi.Output.all(**urls))
        self.register_outputs({"urls": self.urls})


def _url(host: str, token: str, *, target: ReceiverTarget) -> str:
    return f"https://{host}{webhook_path(token, target.name, target.namespace)}"


def receiver_spec(target: ReceiverTarget) -> dict[str, Any]:
    """A github Receiver that triggers the one GitRepository in its own namespace."""
    return {
        "type": c.RECEIVER_TYPE,
        "events": list(c.RECEIVER_EVENTS),
        "resources": [
            {"apiVersion": c.GIT_REPOSITORY_API, "kind": "GitRepository", "name": target.source}
        ],
        "secretRef": {"name": target.secret_name},
    }


def _ingress(
    name: str, endpoint: Endpoint, opts: pulumi.ResourceOptions
) -> k8s.networking.v1.Ingress:
    """Routes `https://<host>/hook/` to the notification-controller's `webhook-receiver` Service.

    Flux's `allow-webhooks` NetworkPolicy (FluxInstance networkPolicy: true) admits traffic from
    every namespace to the receiver port, so an ingress controller in its own namespace reaches it.
    """
    return k8s.networking.v1.Ingress(
        f"{name}-ingress",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=c.RECEIVER_INGRESS, namespace=c.FLUX_NAMESPACE),
        spec=k8s.networking.v1.IngressSpecArgs(
            ingress_class_name=endpoint.ingress_class or None,
            rules=[
                k8s.networking.v1.IngressRuleArgs(
                    host=endpoint.host,
                    http=k8s.networking.v1.HTTPIngressRuleValueArgs(
                        paths=[
                            k8s.networking.v1.HTTPIngressPathArgs(
                                path=c.RECEIVER_PATH_PREFIX,
                                path_type="Prefix",
                                backend=k8s.networking.v1.IngressBackendArgs(
                                    service=k8s.networking.v1.IngressServiceBackendArgs(
                                        name=c.RECEIVER_SERVICE,
                                        port=k8s.networking.v1.ServiceBackendPortArgs(
                                            number=c.RECEIVER_SERVICE_PORT
                                        ),
                                    )
                                ),
                            )
                        ]
                    ),
                )
            ],
            tls=[
                k8s.networking.v1.IngressTLSArgs(
                    hosts=[endpoint.host], secret_name=endpoint.tls_secret
                )
            ]
            if endpoint.tls_secret
            else None,
        ),
        opts=opts,
    )
