"""Payment providers: the companies that actually move the money.

:mod:`.base` is the interface the service talks to; :mod:`.sandbox` is the built-in
provider for development and tests, which issues realistic instructions and can settle
a payment on request, with the signed notification a real provider would send.
"""
