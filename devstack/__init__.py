"""The local stack: teamcal on loopback with no AWS account and no Docker (dev tooling, not product).

A moto server stands in for AWS; the resources and routes come from template.yaml itself.

* :mod:`devstack.template` reads template.yaml and creates its tables, bucket and queues.
* :mod:`devstack.stack` (``LocalStack``) wires everything; ``python -m devstack`` runs it.
* :mod:`devstack.motoserver` is the moto server process.
* :mod:`devstack.lambdas` runs each function in its own worker processes
  (:mod:`devstack.worker` is the inside of one) and offers ``invoke(logical_id, event)``.
* :mod:`devstack.drivers` is the contract for event sources; :mod:`devstack.gateway` is the API
  Gateway driver, built from :mod:`devstack.routing` (routes, authorizers, gateway responses),
  :mod:`devstack.authorizer` (TOKEN authorizer) and :mod:`devstack.proxy` (proxy events).

Functions never import this package; a worker imports only :mod:`devstack.worker` (stdlib only).
"""
