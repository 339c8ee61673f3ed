"""Pasar's benchmarks, run by ``scripts/bench``: the shop and its baselines, measured in one run.

Everything is measured on this machine, over loopback, in the same run: the gateway's
figures mean something only next to baselines that met the same noise (a plain Flask
hello, the same catalog query in one Flask process, a Flask route making one gRPC call,
and a raw gRPC call). Scenarios are run in interleaved rounds, so that a burst of noise
from other work on the machine hurts every scenario alike, and every figure is the median
over the rounds. The load generators are C programs (wrk for HTTP/1.1, h2load for gRPC)
whose CPU share is measured and reported, so that they do not starve the servers unseen.

After the rounds, :mod:`bench.delivery` times purchases from "Beli" to delivery (order and
sandbox payment through the gateway until the order is FULFILLED by svc-fulfillment's
sandbox biller, answering at once): ``purchase_to_delivery_p50_ms`` and ``_p99_ms``
(target: p99 under 2 s), then checkout with fulfillment in the path
(``checkout_with_fulfillment_rps`` beside ``checkout_with_fulfillment_cpu_ms_per_request``,
the servers' CPU until every purchase was delivered); they are under ``delivery`` in
``results.json``.

Tracing's cost (:mod:`bench.tracing`, :mod:`bench.tracing_report`): browse and checkout on a
shop exporting every span to a real Jaeger against the same shop with tracing off, in the
same rounds: ``tracing_browse_ratio`` (target ≥ 0.85), ``tracing_checkout_ratio`` and
``tracing_off_vs_baseline`` (judged against the rounds' own spread), with the servers' CPU
milliseconds per request beside each throughput (:mod:`bench.cpu`).
"""
