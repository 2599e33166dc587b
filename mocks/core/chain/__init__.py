"""The request chain: every API request passes an explicit, ordered list of handlers that share one
typed :class:`~mocks.core.chain.context.RequestContext` (LocalStack's handler chain).

Request handlers (:data:`mocks.core.gateway.REQUEST_HANDLERS`), in order; the first that returns
a response answers the request instead of the route:

  1. :mod:`.locate`     the API (and prefix) the request is for; the route, public or not
  2. :mod:`.auth`       ``Api.authenticate`` -> tenant and principal (``@public`` routes skip it)
  3. :mod:`.faults`     scenarios: the first firing rule's action (``mocks.core.scenarios``)
  4. :mod:`.ratelimit`  the API's rate limits (``Api.rate_limits``) on the sandbox clock, in the store
  5. :mod:`.cache`      a fresh cached answer to an identical GET (skips validation and the route)
  6. :mod:`.validate`   parameters and body against the API's contract; the parsed body

Response handlers, in order: the API's response hook and the context's response headers,
scenario actions that alter the real answer, response validation (violations), the journal
(:mod:`.journal`). Exception handler: every error becomes the API's own error shape through
``Api.error_body`` (``mocks.core.gateway``).
"""
