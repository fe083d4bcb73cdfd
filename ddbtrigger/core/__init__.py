"""Pure, typed logic with no I/O: the spec, lint rules, the plan, failure records, events, redrive."""
