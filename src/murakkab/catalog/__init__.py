"""The catalogue: capabilities, executors, models and hardware, packaged with their provenance."""

from murakkab.catalog.load import Catalog, load_catalog
from murakkab.catalog.schema import Capability, Executor, Hardware, Model, Port

__all__ = ["Catalog", "load_catalog", "Capability", "Executor", "Hardware", "Model", "Port"]
