"""Pasar's catalog and inventory: what the shop sells, and how many units are left.

The service owns categories, products and the packages they are sold in ("pilih paket"),
with each package's price and stock, and the stock reservations that orders hold while
they wait for payment. The storefront reads the catalog through the gateway; the order
service reads prices and reserves, commits or releases stock; administrators change the
catalog with a bearer token. Stock never goes below zero, whatever the concurrency.
"""

from pasar_kit.service_process import prepare_service_process

prepare_service_process()  # first of all (pasar_kit.service_process says why)
