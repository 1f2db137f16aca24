"""Alpaca through alpaca-py: model mapping, the Alpaca broker, fill activities, settings."""

from adapters.brokers.alpaca.activities import fetch_fill_activities
from adapters.brokers.alpaca.broker import AlpacaBroker
from adapters.brokers.alpaca.mapping import (
    ORDER_TYPES,
    AlpacaMappingError,
    activity_fill,
    exact_decimal,
    ledger_order_type,
    ledger_side,
    order_fill,
    order_fills,
    order_type_of,
    quote_model,
    record_order,
    record_trade_update,
    trade_activity,
    trade_update_fill,
)
from adapters.brokers.alpaca.settings import AlpacaConfigError, AlpacaSettings

__all__ = [
    "ORDER_TYPES",
    "AlpacaBroker",
    "AlpacaConfigError",
    "AlpacaMappingError",
    "AlpacaSettings",
    "activity_fill",
    "exact_decimal",
    "fetch_fill_activities",
    "ledger_order_type",
    "ledger_side",
    "order_fill",
    "order_fills",
    "order_type_of",
    "quote_model",
    "record_order",
    "record_trade_update",
    "trade_activity",
    "trade_update_fill",
]
