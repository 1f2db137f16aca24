"""Alpaca through alpaca-py: model mapping, the Alpaca broker, fill activities, settings."""

from adapters.brokers.alpaca.activities import fetch_fill_activities
from adapters.brokers.alpaca.broker import AlpacaBroker
from adapters.brokers.alpaca.mapping import (
    ORDER_TYPES,
    AlpacaMappingError,
    activity_execution,
    exact_decimal,
    ledger_order_type,
    ledger_side,
    order_execution,
    order_executions,
    quote_model,
    record_order,
    record_trade_update,
    trade_activity,
    trade_update_execution,
)
from adapters.brokers.alpaca.settings import AlpacaConfigError, AlpacaSettings

__all__ = [
    "ORDER_TYPES",
    "AlpacaBroker",
    "AlpacaConfigError",
    "AlpacaMappingError",
    "AlpacaSettings",
    "activity_execution",
    "exact_decimal",
    "fetch_fill_activities",
    "ledger_order_type",
    "ledger_side",
    "order_execution",
    "order_executions",
    "quote_model",
    "record_order",
    "record_trade_update",
    "trade_activity",
    "trade_update_execution",
]
