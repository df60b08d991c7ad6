"""Schemathesis against our OpenAPI document, on the live demo server: for every GET operation
a bounded number of generated requests (valid and not), none of which may answer 5xx, and each
answer must match the schema the document gives for its status (errors included: our
``{"detail", "problems"}`` shape is what the document describes)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

EXAMPLES = 12  # per operation: the suite stays within minutes


def _fuzz(operation: schemathesis.APIOperation) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance],
                               timeout=30)
    run()


def test_no_server_error_and_answers_match_the_document(live_server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json").include(method="GET")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) > 40
    failures = []
    for op in operations:
        try:
            _fuzz(op)
        except BaseException as exc:  # every operation's failure, then all of them reported
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures.append(f"{op.label}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
