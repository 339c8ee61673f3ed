"""Pasar's benchmarks, run by ``scripts/bench``: the shop and its baselines, measured in one run.

Everything is measured on this machine, over loopback, in the same run: the gateway's
figures mean something only next to baselines that met the same noise (a plain Flask
hello, the same catalog query in one Flask process, a Flask route making one gRPC call,
and a raw gRPC call). Scenarios are run in interleaved rounds, so that a burst of noise
from other work on the machine hurts every scenario alike, and every figure is the median
over the rounds. The load generators are C programs (wrk for HTTP/1.1, h2load for gRPC)
whose CPU share is measured and reported, so that they do not starve the servers unseen.
"""
