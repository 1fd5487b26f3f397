import asyncio
import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)

from approvals.temporal.client import connect

TYPES = {
    "ApprovalStatus": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "PendingApprovers": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Requester": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "AmountCents": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "DecisionDueAt": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def register() -> list[str]:
    client = await connect()
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=settings.TEMPORAL_NAMESPACE)
    )
    missing = {k: v for k, v in TYPES.items() if k not in existing.custom_attributes}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=settings.TEMPORAL_NAMESPACE, search_attributes=missing
            )
        )
    return sorted(missing)


class Command(BaseCommand):
    help = "Register the contract's search attributes on an existing Temporal server."

    def handle(self, *args, **options):
        added = asyncio.run(register())
        self.stdout.write(f"search attributes added: {', '.join(added) or 'none (all present)'}")
        sys.stdout.flush()
        os._exit(0)
