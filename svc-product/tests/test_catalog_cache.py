"""The catalog's cached answers: every write the catalog shows is seen by the next read,
whichever process or instance made it; a warm read costs one query; the cache keeps its bound.

Each test warms the cache (the same read twice) before the write, so a read after it that
showed the old answer would fail.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta

import peewee
import pytest
from conftest import RunningService, StartService
from support import Admin
from test_reservations import commit, release, reserve

from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.money import rupiah
from pasar_kit.timestamps import utc_now
from pasar_product import catalog_version
from pasar_product.catalog_cache import DEFAULT_MAX_BYTES, CatalogAnswers, serialized_memory
from pasar_product.demo import catalog_data, load_demo_catalog
from pasar_product.servicer import packages_of_product
from pasar_product.stock import Stock
from pasar_product.synthetic import load_synthetic_catalog, product_id
from pasar_testkit.assertions import reason_of, refused
from pasar_testkit.processes import console_script

LIST = service_pb2.ListProductsRequest(page_size=20)


def listed(stub: ProductServiceStub, request: service_pb2.ListProductsRequest = LIST) -> dict[str, list[int]]:
    """Each listed product's packages' stock, twice read (the second from the cache)."""
    first, second = (stub.ListProducts(request, timeout=10) for _ in range(2))
    assert first == second
    return {
        product.id: [package.stock_available for package in product.packages] for product in second.products
    }


def shown(stub: ProductServiceStub, product_id: str) -> service_pb2.GetProductResponse:
    first, second = (
        stub.GetProduct(service_pb2.GetProductRequest(id=product_id), timeout=10) for _ in range(2)
    )
    assert first == second
    return second


@pytest.fixture
def shop(admin: Admin, stub: ProductServiceStub) -> list[str]:
    """A product with two packages (5 and 3 units), its page and itself already cached."""
    admin.category("pulsa")
    packages = admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5, 3))
    assert listed(stub) == {"pulsa-nusantara": [5, 3]}
    shown(stub, "pulsa-nusantara")
    return packages


def test_each_admin_write_is_seen_by_the_next_read(
    admin: Admin, stub: ProductServiceStub, shop: list[str]
) -> None:
    categories = service_pb2.ListCategoriesRequest()
    assert [c.id for c in stub.ListCategories(categories, timeout=10).categories] == ["pulsa"]
    admin.category("game")  # CreateCategory
    assert [c.id for c in stub.ListCategories(categories, timeout=10).categories] == ["game", "pulsa"]

    admin.product("voucher", "game")  # CreateProduct
    assert listed(stub) == {"pulsa-nusantara": [5, 3], "voucher": []}

    product = shown(stub, "voucher").product
    product.display_name = "Voucher Baru"
    admin.update_product(product, "display_name")  # UpdateProduct
    assert shown(stub, "voucher").product.display_name == "Voucher Baru"

    admin.package("voucher", "voucher-10", stock=7)  # CreatePackage
    assert [p.id for p in shown(stub, "voucher").product.packages] == ["voucher-10"]
    batch = service_pb2.BatchGetPackagesRequest(ids=["voucher-10"])
    assert stub.BatchGetPackages(batch, timeout=10).packages[0].price == rupiah(10_000)

    package = shown(stub, "voucher").product.packages[0]
    package.price.CopyFrom(rupiah(12_000))
    admin.update_package(package, "price")  # UpdatePackage
    assert shown(stub, "voucher").product.packages[0].price == rupiah(12_000)
    assert stub.BatchGetPackages(batch, timeout=10).packages[0].price == rupiah(12_000)

    admin.archive("voucher")  # DeleteProduct
    assert listed(stub) == {"pulsa-nusantara": [5, 3]}
    assert refused(lambda: stub.GetProduct(service_pb2.GetProductRequest(id="voucher"), timeout=10))
    archived = refused(lambda: stub.BatchGetPackages(batch, timeout=10))  # nor its packages
    assert reason_of(archived) == ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND)


def test_stock_held_sold_and_returned_is_seen_by_the_next_read(
    stub: ProductServiceStub, shop: list[str]
) -> None:
    a, b = shop
    reserve(stub, "ord_1", (a, 2), (b, 1))  # ReserveStock
    assert listed(stub) == {"pulsa-nusantara": [3, 2]}
    assert [p.stock_available for p in shown(stub, "pulsa-nusantara").product.packages] == [3, 2]

    commit(stub, "ord_1")  # CommitReservation: the units stay out of the stock shown
    assert listed(stub) == {"pulsa-nusantara": [3, 2]}

    reserve(stub, "ord_2", (a, 1))
    assert listed(stub) == {"pulsa-nusantara": [2, 2]}
    release(stub, "ord_2")  # ReleaseReservation
    assert listed(stub) == {"pulsa-nusantara": [3, 2]}
    assert [p.stock_available for p in shown(stub, "pulsa-nusantara").product.packages] == [3, 2]


def test_committing_a_reservation_leaves_the_catalog_version(
    stub: ProductServiceStub, shop: list[str], connected: peewee.Database
) -> None:
    """Checkout's commit changes no answer, so it does not queue on the version's row."""
    reserve(stub, "ord_1", (shop[0], 1))
    before = catalog_version.current(connected)
    commit(stub, "ord_1")
    assert catalog_version.current(connected) == before
    reserve(stub, "ord_1", (shop[0], 1))  # a retry: nothing held twice, nothing moved
    assert catalog_version.current(connected) == before


def test_stock_returned_by_the_expiry_sweep_is_seen_by_the_next_read(
    stub: ProductServiceStub, shop: list[str], connected: peewee.Database
) -> None:
    reserve(stub, "ord_1", (shop[0], 4))
    assert listed(stub) == {"pulsa-nusantara": [1, 3]}
    assert Stock(connected).release_expired(now=utc_now() + timedelta(days=4)) == 1
    assert listed(stub) == {"pulsa-nusantara": [5, 3]}


def test_the_loaders_are_seen_by_the_next_read(
    stub: ProductServiceStub, shop: list[str], database: peewee.Database
) -> None:
    load_demo_catalog(database)
    demo = {product["id"] for product in catalog_data()["products"]}
    assert demo <= set(listed(stub, service_pb2.ListProductsRequest(page_size=100)))
    load_synthetic_catalog(database, 3)
    assert {product_id(1), product_id(3)} <= set(listed(stub, service_pb2.ListProductsRequest(page_size=100)))


def test_a_write_through_another_instance_is_seen_by_the_next_read(
    start_service: StartService, service: RunningService, admin: Admin, shop: list[str]
) -> None:
    other = start_service()  # another instance on the same database
    reserve(other.stub, "ord_1", (shop[1], 3))
    assert listed(service.stub) == {"pulsa-nusantara": [5, 0]}
    Admin(other.admin_stub).archive("pulsa-nusantara")
    assert listed(service.stub) == {}


def test_a_catalog_loaded_by_another_process_is_seen_by_the_next_read(
    stub: ProductServiceStub, shop: list[str], database_url: str
) -> None:
    """`pasar-product load-demo` is a process of its own, with its own connection."""
    subprocess.run(
        [console_script("pasar-product"), "load-demo"],
        env={**os.environ, "PASAR_ENV": "development", "DATABASE_URL": database_url},
        capture_output=True,
        timeout=120,
        check=True,
    )
    demo = {product["id"] for product in catalog_data()["products"]}
    assert demo <= set(listed(stub, service_pb2.ListProductsRequest(page_size=100)))


class Statements(logging.Handler):
    """The SQL statements the server's call threads send (peewee logs each at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sent: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # peewee logs (sql, params) as the message; its pool logs text.
        if (record.threadName or "").startswith("rpc") and isinstance(record.msg, tuple):
            self.sent.append(record.msg[0])


@pytest.fixture
def statements() -> Iterator[Statements]:
    logger = logging.getLogger("peewee")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_a_warm_read_sends_only_the_version_query(
    stub: ProductServiceStub, shop: list[str], statements: Statements
) -> None:
    get = service_pb2.GetProductRequest(id="pulsa-nusantara")
    stub.ListProducts(LIST, timeout=10)
    stub.GetProduct(get, timeout=10)
    statements.sent.clear()
    stub.ListProducts(LIST, timeout=10)
    stub.GetProduct(get, timeout=10)
    assert statements.sent == [catalog_version.READ, catalog_version.READ]

    reserve(stub, "ord_1", (shop[0], 1))
    statements.sent.clear()
    stub.ListProducts(LIST, timeout=10)  # cold: the version, what it changed, the products and packages
    assert statements.sent[0] == catalog_version.READ
    assert statements.sent[1].startswith("SELECT version, package_id FROM catalog_change")
    assert len(statements.sent) == 4


def test_a_purchase_drops_only_the_answers_that_show_its_package(
    admin: Admin, stub: ProductServiceStub, shop: list[str], statements: Statements
) -> None:
    """A reservation (and its release) changes one package's stock: the answers that show
    another product's packages are still served from the cache, the ones that show it are
    built again with the new stock."""
    other = admin.product_with_packages("token-pln", "pulsa", stocks=(9,))[0]
    product, page = service_pb2.GetProductRequest(id="pulsa-nusantara"), LIST
    other_product = service_pb2.GetProductRequest(id="token-pln")
    its_package = service_pb2.BatchGetPackagesRequest(ids=[other])
    reads: dict[str, Callable[[], object]] = {
        "this product": lambda: stub.GetProduct(product, timeout=10),
        "the page": lambda: stub.ListProducts(page, timeout=10),
        "the other product": lambda: stub.GetProduct(other_product, timeout=10),
        "its package": lambda: stub.BatchGetPackages(its_package, timeout=10),
        "the categories": lambda: stub.ListCategories(service_pb2.ListCategoriesRequest(), timeout=10),
    }
    for read in reads.values():
        read()  # warm

    def sent_by(name: str) -> int:
        statements.sent.clear()
        reads[name]()
        return len([sql for sql in statements.sent if sql != catalog_version.READ])

    def hold() -> None:
        reserve(stub, "ord_1", (shop[1], 2))

    def give_back() -> None:
        release(stub, "ord_1")

    for change in (hold, give_back):
        change()
        assert sent_by("the other product") == 1  # what the version changed, then the kept answer
        assert sent_by("its package") == 0
        assert sent_by("the categories") == 0
        assert sent_by("this product") > 0
        assert sent_by("the page") > 0
        assert sent_by("this product") == sent_by("the page") == 0  # kept again
    assert [p.stock_available for p in shown(stub, "pulsa-nusantara").product.packages] == [5, 3]
    assert listed(stub) == {"pulsa-nusantara": [5, 3], "token-pln": [9]}


def test_a_version_the_log_cannot_account_for_drops_every_answer(
    stub: ProductServiceStub, shop: list[str], connected: peewee.Database
) -> None:
    """A release before migration 9 moves the version and writes no change: nothing kept
    can be known current, so every answer is built again."""
    with connected.atomic():
        connected.execute_sql("UPDATE package SET stock_available = 42")
        connected.execute_sql(catalog_version.BUMP)
    assert listed(stub) == {"pulsa-nusantara": [42, 42]}
    assert [p.stock_available for p in shown(stub, "pulsa-nusantara").product.packages] == [42, 42]


def test_a_cache_further_behind_than_the_log_keeps_starts_afresh(
    connected: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log keeps the last KEPT_VERSIONS versions: a cache further behind cannot know
    what changed, and drops every answer."""
    monkeypatch.setattr(catalog_version, "KEPT_VERSIONS", 6)
    monkeypatch.setattr(catalog_version, "PRUNE_EVERY", 4)
    answers = CatalogAnswers(connected)
    request = service_pb2.GetProductRequest(id="x")
    shows = ["x-1"]

    def build() -> service_pb2.GetProductResponse:
        return service_pb2.GetProductResponse(product=product_pb2.Product(id="x", display_name=shows[0]))

    answers.answer("GetProduct", request, build, packages_of_product)  # no packages: kept through these
    for _ in range(4):
        with catalog_version.catalog_write(connected) as write:
            write.changed_stock_of(["y-1"])
    assert answers.answer("GetProduct", request, build, packages_of_product).product.display_name == "x-1"
    assert answers.hits == 1
    for _ in range(7):  # more versions than the log keeps, of other packages' stock only
        with catalog_version.catalog_write(connected) as write:
            write.changed_stock_of(["y-1"])
    kept = connected.execute_sql("SELECT COUNT(*) FROM catalog_change").fetchone()[0]
    assert kept <= 6 + 4
    shows[0] = "built again"
    assert answers.answer("GetProduct", request, build, packages_of_product) == build()


def test_a_call_that_read_a_version_the_cache_has_passed_meanwhile_drops_nothing(
    connected: peewee.Database,
) -> None:
    """Two calls read versions 1 and 2, and the one with 2 learns it first: the other then
    comes to learn 1, which the cache has passed. It must learn nothing (dropping every
    answer for it would empty the cache at every such race under load). The interleaving
    is made by calling the step the slower call takes."""
    answers = CatalogAnswers(connected)
    request = service_pb2.GetProductRequest(id="x")

    def build() -> service_pb2.GetProductResponse:
        return service_pb2.GetProductResponse(product=product_pb2.Product(id="x", display_name="Pulsa"))

    older = catalog_version.current(connected)
    assert older is not None
    answers.answer("GetProduct", request, build, packages_of_product)
    with catalog_version.catalog_write(connected) as write:
        write.changed_stock_of(["y-1"])
    answers.answer("GetProduct", request, build, packages_of_product)  # learns the newer version
    answers._advance(older)  # the slower call's step, with what it read
    answers.answer("GetProduct", request, build, packages_of_product)
    assert (answers.hits, answers.misses) == (2, 1)


def test_a_database_gone_back_to_an_older_version_drops_every_answer(connected: peewee.Database) -> None:
    """A database restored from a backup (or migration 7 rolled back and run again) shows
    a version behind the cache's: what was kept is not known to be what it holds."""
    answers = CatalogAnswers(connected)
    request = service_pb2.GetProductRequest(id="x")
    shows = ["before"]

    def build() -> service_pb2.GetProductResponse:
        return service_pb2.GetProductResponse(product=product_pb2.Product(id="x", display_name=shows[0]))

    for _ in range(3):
        with catalog_version.catalog_write(connected):
            pass
    answers.answer("GetProduct", request, build, packages_of_product)
    connected.execute_sql("UPDATE catalog_version SET version = 1")
    shows[0] = "restored"
    assert answers.answer("GetProduct", request, build, packages_of_product) == build()
    assert answers.hits == 0


def test_the_cache_keeps_within_its_bound(connected: peewee.Database) -> None:
    """Five products fit as they are; once full, the cache keeps the next ones compressed,
    letting the least recently used go to make room for them."""
    from pasar_product.servicer import ProductServicer

    load_synthetic_catalog(connected, 12)
    requests = [service_pb2.GetProductRequest(id=product_id(number)) for number in range(1, 13)]
    one = ProductServicer(Stock(connected)).GetProduct(requests[0], None)  # type: ignore[arg-type]
    bound = 5 * (serialized_memory(one.ByteSize()) + requests[0].ByteSize()) + 200
    answers = CatalogAnswers(connected, max_bytes=bound)
    servicer = ProductServicer(Stock(connected), answers)
    for request in requests:
        servicer.GetProduct(request, None)  # type: ignore[arg-type]
        assert answers.bytes_used <= bound
    kept = len(answers)
    assert 5 < kept < 12
    uncached = ProductServicer(Stock(connected))
    for request in reversed(requests[-kept:]):  # the ones used last
        served = servicer.GetProduct(request, None)  # type: ignore[arg-type]
        assert served == uncached.GetProduct(request, None)  # type: ignore[arg-type]
    assert answers.hits == kept
    servicer.GetProduct(requests[0], None)  # type: ignore[arg-type]
    assert answers.hits == kept  # the first used went first


def test_a_thousand_products_read_in_turn_fit_the_default_bound(connected: peewee.Database) -> None:
    """The bench's get: a 1,000-product catalog's ids read in turn. Kept as messages (about
    9 KB each) only the last 400 or so fitted, so reading them in turn never hit."""
    from pasar_product.servicer import ProductServicer

    load_synthetic_catalog(connected, 1000)
    answers = CatalogAnswers(connected)
    servicer = ProductServicer(Stock(connected), answers)
    requests = [service_pb2.GetProductRequest(id=product_id(number)) for number in range(1, 1001)]
    first = [servicer.GetProduct(request, None) for request in requests]  # type: ignore[arg-type]
    second = [servicer.GetProduct(request, None) for request in requests]  # type: ignore[arg-type]
    assert second == first
    assert (answers.hits, len(answers)) == (1000, 1000)
    assert answers.bytes_used <= DEFAULT_MAX_BYTES


def test_two_thousand_products_read_in_turn_fit_the_default_bound_compressed(
    connected: peewee.Database,
) -> None:
    """The bench's get of a 100,000-product catalog reads 2,000 of them: as they are (about
    2.5 KB each) they outgrow the bound, and reading them in turn never hit. Once full, the
    cache keeps them compressed: the ones it kept as they were go first, and then all fit."""
    from pasar_product.servicer import ProductServicer

    load_synthetic_catalog(connected, 2000)
    answers = CatalogAnswers(connected)
    servicer = ProductServicer(Stock(connected), answers)
    requests = [service_pb2.GetProductRequest(id=product_id(number)) for number in range(1, 2001)]
    first = [servicer.GetProduct(request, None) for request in requests]  # type: ignore[arg-type]
    for _ in range(2):
        hits_before = answers.hits
        again = [servicer.GetProduct(request, None) for request in requests]  # type: ignore[arg-type]
        assert again == first
    assert answers.hits - hits_before == 2000  # the last pass
    assert len(answers) == 2000
    assert answers.bytes_used <= DEFAULT_MAX_BYTES


def test_a_caller_changing_a_product_answer_changes_no_other_callers(connected: peewee.Database) -> None:
    """A small answer is kept serialized: each call reads its own copy of it."""
    answers = CatalogAnswers(connected)
    request = service_pb2.GetProductRequest(id="x")

    def build() -> service_pb2.GetProductResponse:
        return service_pb2.GetProductResponse(product=product_pb2.Product(id="x", display_name="Pulsa"))

    answers.answer("GetProduct", request, build, packages_of_product)
    served = answers.answer("GetProduct", request, build, packages_of_product)
    served.product.display_name = "changed by a caller"
    assert answers.answer("GetProduct", request, build, packages_of_product) == build()
    assert answers.hits == 2


def test_an_answer_built_while_the_catalog_changed_is_not_served_after(connected: peewee.Database) -> None:
    """The version is read before the data: a write landing between the two leaves an
    answer labelled with the older version, which the next read (of the newer) rebuilds."""
    answers = CatalogAnswers(connected)
    request = service_pb2.GetProductRequest(id="x")
    built: list[int] = []

    def build() -> service_pb2.GetProductResponse:
        built.append(1)
        if len(built) == 1:  # another writer commits after this call read the version
            with catalog_version.catalog_write(connected):
                pass
        return service_pb2.GetProductResponse()

    answers.answer("GetProduct", request, build, packages_of_product)
    answers.answer("GetProduct", request, build, packages_of_product)
    answers.answer("GetProduct", request, build, packages_of_product)
    assert len(built) == 2


def test_concurrent_reads_and_writes_end_on_the_last_write(
    start_service: StartService, service: RunningService, admin: Admin, shop: list[str]
) -> None:
    """Readers racing a writer: once the writes are done, every instance shows the last."""
    other = start_service()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            service.stub.ListProducts(LIST, timeout=10)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for number in range(1, 6):
            reserve(other.stub, f"ord_{number}", (shop[0], 1))
    finally:
        done.set()
        for reader in readers:
            reader.join()
    assert listed(service.stub) == listed(other.stub) == {"pulsa-nusantara": [0, 3]}


@pytest.mark.parametrize(
    "older_schema", ["DELETE FROM catalog_version", "DROP TABLE catalog_version", "DROP TABLE catalog_change"]
)
def test_a_database_without_the_version_is_served_uncached(
    start_service: StartService, connected: peewee.Database, older_schema: str
) -> None:
    """A database an older release migrated (`serve --no-migrate` started before `migrate`
    ran): the catalog still answers, every read built afresh (or, with a version but no
    change log, built afresh after each change), and its writes still succeed."""
    connected.execute_sql(older_schema)
    service = start_service()
    admin = Admin(service.admin_stub)
    admin.category("pulsa")
    a = admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5, 3))[0]
    assert listed(service.stub) == {"pulsa-nusantara": [5, 3]}
    reserve(service.stub, "ord_1", (a, 2))
    assert listed(service.stub) == {"pulsa-nusantara": [3, 3]}
    release(service.stub, "ord_1")
    assert listed(service.stub) == {"pulsa-nusantara": [5, 3]}
