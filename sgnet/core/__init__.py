"""The functional core (pure): the lab as data, values and names, provider-independent
validation, the reference evaluator, the compiler and its layering, change planning, the
wiring plan, placement, flows and lint. Nothing here touches the host: it imports no kernel,
process, thread or socket module, and nothing of sgnet outside core and providers
(tests/unit/test_architecture.py checks this from the source)."""
