"""Pasar's catalog and inventory: what the shop sells, and how many units are left.

The service owns categories, products and the packages they are sold in ("pilih paket"),
with each package's price and stock, and the stock reservations that orders hold while
they wait for payment. The storefront reads the catalog through the gateway; the order
service reads prices and reserves, commits or releases stock; administrators change the
catalog with a bearer token. Stock never goes below zero, whatever the concurrency.
"""

from pasar_kit.deferred_imports import defer_mysql_rsa_support
from pasar_kit.memory import limit_malloc_arenas

# First of all: before peewee imports PyMySQL, which would import its RSA password exchange
# (cryptography), and before any thread allocates (gRPC's own threads take arenas early).
defer_mysql_rsa_support()
limit_malloc_arenas()
