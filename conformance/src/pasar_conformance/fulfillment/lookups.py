"""The products the LookupDestination cases look destinations up for, made by the run.

LookupDestination reads the product's destination fields from the shop's catalog, so the
run makes its own products there (``--product HOST:PORT``, through ProductAdminService
with ``--admin-token``): a Telkomsel phone product whose field has the operator's
prefixes, a phone product of any operator (no prefixes), a PLN meter product, and a game
product whose fields cannot be looked up. The target must look products up in that same
catalog (svc-fulfillment's ``PASAR_PRODUCT_ADDRESS``). The products are archived when the
run ends. Without ``--product`` the cases skip, saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import skip_unreached
from pasar_conformance.destination_fields import TELKOMSEL_PREFIXES, game_fields, meter_field, phone_field
from pasar_conformance.product.seed import Catalog, catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target


@dataclass(eq=False)
class LookupCatalog:
    """The run's products with destination fields, on the catalog the target reads (each made once)."""

    product_target: Target

    @property
    def seed(self) -> Catalog:
        return catalog(self.product_target)

    def make(
        self, kind: product_pb2.DeliveryKind.ValueType, fields: Sequence[product_pb2.DestinationField]
    ) -> product_pb2.Product:
        """A new product of the run's shared category with these fields (archived at the end)."""
        product_id = self.product_target.run.new("product")
        request = admin_pb2.CreateProductRequest(
            product=product_pb2.Product(
                id=product_id,
                category_id=self.seed.shared_category(),
                display_name=f"Conformance {product_id}",
                description="made by the conformance kit",
                image_url=f"/images/products/{product_id}.svg",
                destination_fields=list(fields),
                delivery_kind=kind,
            )
        )
        made = self.seed.admin.CreateProduct(
            request, metadata=self.product_target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
        ).product
        self.seed.archive_later(product_id)
        assert list(made.destination_fields) == list(fields), (
            f"the catalog at {self.product_target.address} kept other destination fields than it was "
            f"given (contracts v1.2 Product.destination_fields):\n{made.destination_fields}"
        )
        return made

    @cached_property
    def telkomsel(self) -> product_pb2.Product:
        """Telkomsel credit: a phone number with Telkomsel's prefixes."""
        return self.make(product_pb2.DELIVERY_KIND_PHONE_CREDIT, [phone_field(TELKOMSEL_PREFIXES)])

    @cached_property
    def any_operator(self) -> product_pb2.Product:
        """A data plan of any operator: a phone number without prefixes."""
        return self.make(product_pb2.DELIVERY_KIND_DATA_PLAN, [phone_field()])

    @cached_property
    def meter(self) -> product_pb2.Product:
        """PLN electricity tokens: a meter number."""
        return self.make(product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [meter_field()])

    @cached_property
    def game(self) -> product_pb2.Product:
        """Game diamonds: a user id and a zone id, neither of which can be looked up."""
        return self.make(product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP, game_fields())

    def archive_everything(self) -> None:
        self.seed.archive_everything()


def require(lookups: LookupCatalog | None, *reasons: str) -> LookupCatalog:
    """The run's lookup catalog; without --product the case skips, saying why."""
    if lookups is None:
        skip_unreached(
            "no --product HOST:PORT: LookupDestination needs products with destination fields in the "
            "catalog the target looks products up in, which the run makes there",
            *reasons,
        )
    return lookups
