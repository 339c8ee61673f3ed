"""gRPC over TLS and mutual TLS between the gateway and the services, with the certificates
docker/certs/make-dev-certs makes and the kit's own server and channel code.

Each test starts a real pasar_kit GrpcServer on a free loopback port and calls it through a
channel opened the way the gateway and the order service open theirs (open_channel with
ClientTls), configured from the same PASAR_TLS_* variables compose and Kubernetes set.
"""

# The fake servicer implements only GetProduct; mypy-protobuf marks the other RPCs abstract.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
from paths import DOCKER

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.callers import InternalCallers, certificate_names
from pasar_kit.channels import ClientTls, open_channel
from pasar_kit.config import ConfigError, Env
from pasar_kit.errors import error_info
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration

PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
KUBERNETES_NAMES = ("{0}", "{0}.pasar", "{0}.pasar.svc", "{0}.pasar.svc.cluster.local")


class WhoIsCalling(product_service_pb2_grpc.ProductServiceServicer):
    """Answers GetProduct, and ReserveStock (an internal method), with the caller's
    certificate name, as the server saw it."""

    def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReserveStockResponse:
        (name,) = certificate_names(context.auth_context())
        return product_service_pb2.ReserveStockResponse(reservation=product_pb2.Reservation(order_id=name))

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        names = context.auth_context().get("x509_common_name", [b"(no client certificate)"])
        name = names[0].decode() if isinstance(names[0], bytes) else str(names[0])
        return product_service_pb2.GetProductResponse(
            product=product_pb2.Product(id=request.id, display_name=name)
        )


@pytest.fixture
def start_server(grpc_servers: Callable[..., GrpcServer]) -> Callable[..., GrpcServer]:
    """Starts GrpcServers configured from PASAR_TLS_* variables (stopped at the end of the test)."""

    def start(variables: Mapping[str, str], internal_callers: Sequence[str] = ()) -> GrpcServer:
        """internal_callers: who may call the internal methods (none by default)."""
        settings = ServerSettings.from_env(Env({**variables}), "127.0.0.1:0")
        callers = InternalCallers.for_server(Env({**variables}), settings, internal_callers)
        registration = ServiceRegistration(
            PRODUCT_SERVICE,
            lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(
                WhoIsCalling(), server
            ),
        )
        return grpc_servers(settings, [registration], None, callers=callers)

    return start


def server_env(certs: Path, *, mutual: bool) -> dict[str, str]:
    """The product service's variables in compose.tls.yaml, with the certificates of certs."""
    variables = {"PASAR_TLS_CERT": str(certs / "product.crt"), "PASAR_TLS_KEY": str(certs / "product.key")}
    if mutual:
        variables["PASAR_TLS_CLIENT_CA"] = str(certs / "ca.crt")
    return variables


def client_env(certs: Path, *, client: str | None) -> dict[str, str]:
    """A caller's variables: the CA it trusts and, for mutual TLS, its own certificate."""
    variables = {"PASAR_TLS_CA": str(certs / "ca.crt")}
    if client:
        variables["PASAR_TLS_CLIENT_CERT"] = str(certs / f"{client}-client.crt")
        variables["PASAR_TLS_CLIENT_KEY"] = str(certs / f"{client}-client.key")
    return variables


def caller_name(target: str, variables: Mapping[str, str] | None) -> str:
    """Calls GetProduct through a channel opened as the callers open theirs; returns who the server saw."""
    tls = ClientTls.from_env(Env({**variables})) if variables is not None else None
    channel = open_channel(target, default_timeout=5, tls=tls)
    try:
        stub: Any = product_service_pb2_grpc.ProductServiceStub(channel)
        response = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-10k"))
        return str(response.product.display_name)
    finally:
        channel.close()


def refused(target: str, variables: Mapping[str, str] | None) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as failure:
        caller_name(target, variables)
    code: grpc.StatusCode = failure.value.code()
    return code


def subject_alt_names(certificate: Path) -> set[str]:
    text = subprocess.run(
        ["openssl", "x509", "-in", str(certificate), "-noout", "-ext", "subjectAltName"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    entries = text.split("\n", 1)[1].replace("\n", "").split(",")
    return {entry.strip().removeprefix("DNS:").removeprefix("IP Address:") for entry in entries}


def extended_key_usage(certificate: Path) -> str:
    return subprocess.run(
        ["openssl", "x509", "-in", str(certificate), "-noout", "-ext", "extendedKeyUsage"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize("service", ["product", "payment", "order", "fulfillment"])
def test_each_server_certificate_names_the_service_as_compose_and_kubernetes_call_it(
    dev_certs: Path, service: str
) -> None:
    names = subject_alt_names(dev_certs / f"{service}.crt")
    expected = {pattern.format(service) for pattern in KUBERNETES_NAMES} | {"localhost", "127.0.0.1"}
    assert expected <= names
    assert "Server Authentication" in extended_key_usage(dev_certs / f"{service}.crt")


@pytest.mark.parametrize("client", ["gateway", "order", "fulfillment"])
def test_client_certificates_are_for_client_authentication_only(dev_certs: Path, client: str) -> None:
    usage = extended_key_usage(dev_certs / f"{client}-client.crt")
    assert "Client Authentication" in usage
    assert "Server Authentication" not in usage


def test_the_namespace_in_the_names_can_be_changed(tmp_path: Path) -> None:
    subprocess.run(
        [str(DOCKER / "certs" / "make-dev-certs"), str(tmp_path)],
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "PASAR_CERT_NAMESPACE": "shop"},
    )
    assert "payment.shop.svc.cluster.local" in subject_alt_names(tmp_path / "payment.crt")


def test_a_bad_namespace_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(DOCKER / "certs" / "make-dev-certs"), str(tmp_path)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PASAR_CERT_NAMESPACE": "Not_A_Namespace"},
        check=False,
    )
    assert result.returncode == 2
    assert "PASAR_CERT_NAMESPACE" in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_tls_connection_works(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path
) -> None:
    server = start_server(server_env(dev_certs, mutual=False))
    assert caller_name(f"127.0.0.1:{server.port}", client_env(dev_certs, client=None)) == (
        "(no client certificate)"
    )
    assert caller_name(f"localhost:{server.port}", client_env(dev_certs, client=None))


def test_a_mutual_tls_connection_works_and_the_server_knows_the_caller(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path
) -> None:
    server = start_server(server_env(dev_certs, mutual=True))
    assert caller_name(f"127.0.0.1:{server.port}", client_env(dev_certs, client="gateway")) == "gateway"
    # The order service calls product and payment with its own client certificate.
    assert caller_name(f"ipv4:127.0.0.1:{server.port}", client_env(dev_certs, client="order")) == "order"


def reserved_for(target: str, variables: Mapping[str, str]) -> str:
    """Calls ReserveStock (internal) as the callers call it; returns who the server saw."""
    tls = ClientTls.from_env(Env({**variables}))
    channel = open_channel(target, default_timeout=5, tls=tls)
    try:
        stub: Any = product_service_pb2_grpc.ProductServiceStub(channel)
        request = product_service_pb2.ReserveStockRequest(
            order_id="ord-1", lines=[product_pb2.StockLine(package_id="pulsa-10k", quantity=1)]
        )
        return str(stub.ReserveStock(request).reservation.order_id)
    finally:
        channel.close()


def test_with_mutual_tls_the_internal_methods_answer_the_certificate_the_service_accepts(
    start_server: Callable[..., GrpcServer], dev_certs: Path
) -> None:
    """The product and payment services accept the order service's certificate alone."""
    server = start_server(server_env(dev_certs, mutual=True), internal_callers=["order"])
    target = f"127.0.0.1:{server.port}"
    assert reserved_for(target, client_env(dev_certs, client="order")) == "order"
    for other in ("gateway", "probe"):
        with pytest.raises(grpc.RpcError) as failure:
            reserved_for(target, client_env(dev_certs, client=other))
        assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
        info = error_info(failure.value)
        assert info is not None
        assert (info.reason, dict(info.metadata)) == (
            ErrorReason.Name(ErrorReason.CALLER_NOT_ALLOWED),
            {"caller": other},
        )
    # A public method still answers every client the CA signed.
    assert caller_name(target, client_env(dev_certs, client="gateway")) == "gateway"


def test_a_mutual_tls_server_refuses_a_client_without_a_certificate(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path
) -> None:
    server = start_server(server_env(dev_certs, mutual=True))
    assert (
        refused(f"127.0.0.1:{server.port}", client_env(dev_certs, client=None)) == grpc.StatusCode.UNAVAILABLE
    )


def test_a_mutual_tls_server_refuses_a_client_certificate_from_another_ca(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path, tmp_path: Path
) -> None:
    subprocess.run([str(DOCKER / "certs" / "make-dev-certs"), str(tmp_path)], check=True, capture_output=True)
    server = start_server(server_env(dev_certs, mutual=True))
    stranger = {
        "PASAR_TLS_CA": str(dev_certs / "ca.crt"),  # it trusts the server,
        "PASAR_TLS_CLIENT_CERT": str(tmp_path / "gateway-client.crt"),  # but its CA is not the server's
        "PASAR_TLS_CLIENT_KEY": str(tmp_path / "gateway-client.key"),
    }
    assert refused(f"127.0.0.1:{server.port}", stranger) == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("mutual", [False, True], ids=["tls", "mtls"])
def test_a_tls_server_refuses_a_plain_text_client(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path, mutual: bool
) -> None:
    server = start_server(server_env(dev_certs, mutual=mutual))
    assert refused(f"127.0.0.1:{server.port}", None) == grpc.StatusCode.UNAVAILABLE


def test_a_client_refuses_a_server_its_ca_did_not_sign(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path, tmp_path: Path
) -> None:
    subprocess.run([str(DOCKER / "certs" / "make-dev-certs"), str(tmp_path)], check=True, capture_output=True)
    server = start_server(server_env(dev_certs, mutual=False))
    assert (
        refused(f"127.0.0.1:{server.port}", client_env(tmp_path, client=None)) == grpc.StatusCode.UNAVAILABLE
    )


def test_a_client_refuses_a_certificate_for_another_service(
    start_server: Callable[[Mapping[str, str]], GrpcServer], dev_certs: Path
) -> None:
    """The product service's certificate does not pass for the payment service."""
    server = start_server(server_env(dev_certs, mutual=False))
    tls = ClientTls.from_env(Env(client_env(dev_certs, client=None)))
    assert tls is not None
    channel = grpc.secure_channel(
        f"127.0.0.1:{server.port}", tls.credentials(), options=[("grpc.ssl_target_name_override", "payment")]
    )
    try:
        stub: Any = product_service_pb2_grpc.ProductServiceStub(channel)
        with pytest.raises(grpc.RpcError) as failure:
            stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-10k"), timeout=5)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        channel.close()


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"PASAR_TLS_CERT": "product.crt"}, "PASAR_TLS_KEY"),
        ({"PASAR_TLS_KEY": "product.key"}, "PASAR_TLS_CERT"),
        ({"PASAR_TLS_CLIENT_CA": "ca.crt"}, "PASAR_TLS_CERT"),
        ({"PASAR_TLS_CERT": "missing.crt", "PASAR_TLS_KEY": "product.key"}, "PASAR_TLS_CERT"),
    ],
)
def test_a_half_configured_tls_server_refuses_to_start(
    dev_certs: Path, variables: dict[str, str], named: str
) -> None:
    """Never serve plain text when TLS was asked for: a missing half is a configuration error."""
    with pytest.raises(ConfigError, match=named):
        ServerSettings.from_env(
            Env({name: str(dev_certs / value) for name, value in variables.items()}), "127.0.0.1:0"
        )


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"PASAR_TLS_CA": "ca.crt", "PASAR_TLS_CLIENT_CERT": "gateway-client.crt"}, "PASAR_TLS_CLIENT_KEY"),
        ({"PASAR_TLS_CA": "ca.crt", "PASAR_TLS_CLIENT_KEY": "gateway-client.key"}, "PASAR_TLS_CLIENT_CERT"),
        (
            {"PASAR_TLS_CLIENT_CERT": "gateway-client.crt", "PASAR_TLS_CLIENT_KEY": "gateway-client.key"},
            "PASAR_TLS_CA",
        ),
        ({"PASAR_TLS_CA": "missing.crt"}, "PASAR_TLS_CA"),
    ],
)
def test_a_half_configured_tls_client_is_a_configuration_error(
    dev_certs: Path, variables: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        ClientTls.from_env(Env({name: str(dev_certs / value) for name, value in variables.items()}))
