"""The order suite: ``pasar.order.v1.OrderService`` judged over gRPC, with the shop's catalog
(``--product``) and payment service (``--payment``) to seed packages and settle payments."""
