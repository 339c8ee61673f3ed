"""The fulfillment suite: judges a ``pasar.fulfillment.v1.FulfillmentService`` over gRPC.

Run it with ``pasar-conformance fulfillment --target HOST:PORT`` (``--product HOST:PORT``
for the LookupDestination cases); see the kit's README.
"""
