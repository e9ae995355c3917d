"""The warehouse layer: the only place that talks to PostgreSQL."""

from boxoffice.warehouse.bulk import copy_frame, read_frame
from boxoffice.warehouse.engine import WarehouseError, connect, set_tenant
from boxoffice.warehouse.facts import Refreshed, forget_sales_refresh, refresh_sales
from boxoffice.warehouse.partitions import (
    PartitionQuery,
    partition_writer,
    replace_partitions,
    write_partitions,
)
from boxoffice.warehouse.reads import (
    latest_as_of,
    latest_customer_run,
    list_tenants,
    newest_sale_date,
    previous_customer_run,
    read_batches,
    read_customer_days,
    read_customer_models,
    read_customer_segments,
    read_customer_summary,
    read_customers,
    read_dead_letter_reasons,
    read_reconciliation,
    read_sales_daily,
    read_scored_summary,
    read_segments_of,
    read_venues,
)

__all__ = [
    "PartitionQuery",
    "Refreshed",
    "WarehouseError",
    "connect",
    "copy_frame",
    "forget_sales_refresh",
    "latest_as_of",
    "latest_customer_run",
    "list_tenants",
    "newest_sale_date",
    "partition_writer",
    "previous_customer_run",
    "read_batches",
    "read_customer_days",
    "read_customer_models",
    "read_customer_segments",
    "read_customer_summary",
    "read_customers",
    "read_dead_letter_reasons",
    "read_frame",
    "read_reconciliation",
    "read_sales_daily",
    "read_scored_summary",
    "read_segments_of",
    "read_venues",
    "refresh_sales",
    "replace_partitions",
    "set_tenant",
    "write_partitions",
]
